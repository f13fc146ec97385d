"""Restless bandit: the trained agent beside the Bayes-optimal player, per regime (stable, volatile).

    python -m analysis.restless --experiment ~/ray_results/restless-20261122-093000 [EXPERIMENT ...]
    python -m analysis.restless                                                       # the references only

Wang et al. (2016, exp. 4) trained on trials that are stable (the better arm never changes) or volatile (the arms
swap with a hazard per pull), the regime drawn per trial and not shown. Every player here plays the same held-out
trials (the evaluation's seeds): each training seed's agent with frozen weights and greedy actions, the exact
Bayes-optimal player (:mod:`rllib_metarl.baselines.restless`: a belief over regime and better arm, then greedy),
random play, and the oracle that knows the better arm at every pull (its expected return, ``p_high`` per pull).
Per regime: the mean return per trial with its 95% interval; the agent's also as the mean over training seeds with a
95% t-interval across them.

The experiment's point (after Behrens et al. 2007) is that a good learner learns faster when the world is volatile.
Each player's effective learning rate is measured, per regime, by fitting a delta rule to its choices: the evidence
that arm 0 is the better one, x = 1 after a reward from arm 0 or an omission from arm 1, else 0, updates a value v
by v += alpha (x - v) from v = 1/2, and arm 0 is chosen with probability sigmoid(beta (v - 1/2)); alpha and beta by
maximum likelihood over all of the regime's trials. Greedy players make the likelihood favour an ever larger beta,
so beta is bounded at ``MAX_INVERSE_TEMPERATURE``; alpha stays identified by which choices a rule explains.

Writes ``restless.csv`` (returns per player, seed and regime), ``restless_learning_rates.csv`` (alpha and beta per
player, seed and regime), ``restless_across_seeds.csv`` (the agent's figures over seeds) and ``restless.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rllib_metarl.analysis.figures import plt, save_figure
from rllib_metarl.analysis.load import trained_env_config
from rllib_metarl.analysis.seeds import TRAINED, across_seeds, add_agent_arguments, agents_of, output_dir_of
from rllib_metarl.baselines.bandits import RandomPolicy
from rllib_metarl.baselines.play import baseline_steps, play_baseline
from rllib_metarl.baselines.restless import RestlessBayesPolicy
from rllib_metarl.cli.arguments import positive_int
from rllib_metarl.tasks.registry import get_task
from rllib_metarl.utils.atomic_io import write_csv
from rllib_metarl.utils.stats import mean_interval

REGIME_NAMES = {0.0: "stable", 1.0: "volatile"}  # the trials' ``volatile`` metric
MAX_INVERSE_TEMPERATURE = 50.0


def fit_delta_rule(steps: pd.DataFrame) -> dict[str, float]:
    """``learning_rate`` and ``inverse_temperature`` of the delta rule (module docstring) that best explains the
    choices in ``steps`` (``trial``, ``step``, ``action``, ``reward``; two arms, trials of one length)."""
    from scipy.optimize import minimize
    from scipy.special import expit, log_expit

    actions = steps.pivot(index="trial", columns="step", values="action").to_numpy()
    rewards = steps.pivot(index="trial", columns="step", values="reward").to_numpy()
    evidence = ((actions == 0) == (rewards > 0)).astype(float)  # 1: this pull says arm 0 is the better one
    chose_arm_0 = actions == 0

    def negative_log_likelihood(parameters: np.ndarray) -> float:
        alpha, beta = expit(parameters[0]), np.exp(parameters[1])
        value, total = np.full(len(actions), 0.5), 0.0
        for t in range(actions.shape[1]):
            logit = beta * (value - 0.5)
            total += np.where(chose_arm_0[:, t], log_expit(logit), log_expit(-logit)).sum()
            value += alpha * (evidence[:, t] - value)
        return -total

    bounds = [(-9.0, 9.0), (np.log(1e-2), np.log(MAX_INVERSE_TEMPERATURE))]
    best = min((minimize(negative_log_likelihood, np.array([start, np.log(5.0)]), method="L-BFGS-B", bounds=bounds)
                for start in (-2.0, 0.0, 2.0)), key=lambda result: result.fun)  # fmt: skip
    return {"learning_rate": float(expit(best.x[0])), "inverse_temperature": float(np.exp(best.x[1]))}


def learning_rates(trials: pd.DataFrame, steps: pd.DataFrame) -> pd.DataFrame:
    """The delta rule's fit per regime of one player's trials and pulls."""
    rows = []
    for volatile, part in trials.groupby("volatile"):
        fitted = fit_delta_rule(steps[steps["trial"].isin(part["trial"])])
        rows.append({"regime": REGIME_NAMES[float(volatile)], **fitted, "trials": len(part)})
    return pd.DataFrame(rows)


def by_regime(trials: pd.DataFrame) -> pd.DataFrame:
    """Mean return per trial [95% interval] of one player's trials, per regime."""
    rows = []
    for volatile, part in trials.groupby("volatile"):
        rows.append({"regime": REGIME_NAMES[float(volatile)], **mean_interval(part["return"]), "trials": len(part)})
    return pd.DataFrame(rows).rename(columns={"mean": "mean_return"})


def analyse(checkpoints: list[tuple[int, str]], trials: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per player (each seed's agent, the Bayes-optimal, random play, the oracle) and regime: the mean return; and
    per player but the oracle and random play, and regime: the fitted learning rate."""
    from rllib_metarl.evaluation import load_module, play_module

    returns, rates, env_config = [], [], None
    for training_seed, checkpoint in checkpoints:
        env_config = trained_env_config(checkpoint, "restless")
        played, steps = play_module(load_module(checkpoint), "restless", env_config, trials, seed)
        returns.append(by_regime(played).assign(agent=TRAINED, seed=training_seed))
        rates.append(learning_rates(played, steps).assign(agent=TRAINED, seed=training_seed))
    bayes = RestlessBayesPolicy.for_task(env_config)
    played, steps = baseline_steps(bayes, "restless", env_config, trials, seed)
    returns.append(by_regime(played).assign(agent=bayes.name, seed=None))
    rates.append(learning_rates(played, steps).assign(agent=bayes.name, seed=None))
    played = play_baseline(RandomPolicy(), "restless", env_config, trials, seed)
    returns.append(by_regime(played).assign(agent=RandomPolicy.name, seed=None))
    env = get_task("restless").make(**(env_config or {}))
    oracle = env.p_high * env.trial_length  # knows the better arm at every pull
    returns.append(returns[-1].assign(mean_return=oracle, ci95_low=oracle, ci95_high=oracle, agent="oracle"))
    return pd.concat(returns, ignore_index=True), pd.concat(rates, ignore_index=True)


def plot(returns: pd.DataFrame, rates: pd.DataFrame, output: Path) -> Path:
    """Per regime: the players' returns (left) and fitted learning rates (right) as bars; the agent's are its mean
    over seeds, with each seed's point drawn over them."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(10.0, 3.6))
    bars(left, returns, "mean_return", "return per trial")
    bars(right, rates.assign(ci95_low=rates["learning_rate"], ci95_high=rates["learning_rate"]), "learning_rate",
         "fitted learning rate (delta rule)")  # fmt: skip
    left.set_ylim(returns["mean_return"].min() * 0.8, returns["mean_return"].max() * 1.05)
    return save_figure(figure, output)


def bars(axis: Any, frame: pd.DataFrame, value: str, label: str) -> None:
    seeds = across_seeds(frame[frame["agent"] == TRAINED], value, ["regime"])
    players = list(dict.fromkeys(frame["agent"]))
    width = 0.8 / len(players)
    for index, player in enumerate(players):
        part = frame[frame["agent"] == player]
        summary = seeds if player == TRAINED else part.rename(columns={value: "mean"})
        summary = summary.set_index("regime").reindex(list(REGIME_NAMES.values()))
        positions = np.arange(len(REGIME_NAMES)) + (index - (len(players) - 1) / 2) * width
        errors = [summary["mean"] - summary["ci95_low"], summary["ci95_high"] - summary["mean"]]
        axis.bar(positions, summary["mean"], width=width * 0.9, yerr=errors, capsize=3, label=player)
        if player == TRAINED:
            for position, regime in zip(positions, REGIME_NAMES.values(), strict=True):
                points = part.loc[part["regime"] == regime, value]
                axis.scatter([position] * len(points), points, s=9, color="black", zorder=3)
    axis.set_xticks(range(len(REGIME_NAMES)), list(REGIME_NAMES.values()))
    axis.set_ylabel(label)
    axis.legend(fontsize="small")
    axis.grid(axis="y", alpha=0.3)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_agent_arguments(parser, "restless")
    parser.add_argument("--trials", type=positive_int, default=1000, help="held-out trials per player")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out trials")
    args = parser.parse_args(argv)
    try:
        checkpoints = agents_of(args)
        returns, rates = analyse(checkpoints, args.trials, args.seed)
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    output_dir = output_dir_of(args)
    seeds = pd.concat([across_seeds(frame[frame["agent"] == TRAINED], value, ["regime"]).assign(figure=value)
                       for frame, value in ((returns, "mean_return"), (rates, "learning_rate"))])  # fmt: skip
    write_csv(returns, output_dir / "restless.csv")
    write_csv(rates, output_dir / "restless_learning_rates.csv")
    write_csv(seeds, output_dir / "restless_across_seeds.csv")
    plot(returns, rates, output_dir / "restless.png")
    report(returns, rates, seeds)
    names = ("restless.csv", "restless_learning_rates.csv", "restless_across_seeds.csv", "restless.png")
    print(f"\nWritten: {', '.join(str(output_dir / name) for name in names)}")
    return returns


def report(returns: pd.DataFrame, rates: pd.DataFrame, seeds: pd.DataFrame) -> None:
    for (player, seed), part in returns.groupby(["agent", "seed"], sort=False, dropna=False):
        name = player if pd.isna(seed) else f"{player}, seed {int(seed)}"
        cells = "; ".join(f"{r.regime} {r.mean_return:.2f} [{r.ci95_low:.2f}, {r.ci95_high:.2f}]"
                          for r in part.itertuples())  # fmt: skip
        fitted = rates[(rates["agent"] == player) & ((rates["seed"] == seed) | (pd.isna(seed) & rates["seed"].isna()))]
        alphas = "; ".join(f"{r.regime} {r.learning_rate:.3f}" for r in fitted.itertuples())
        print(f"{name}: return {cells}" + (f"; learning rate {alphas}" if alphas else ""))
    for row in seeds.itertuples():
        print(f"{TRAINED}, mean of {row.seeds} seed(s), {row.figure} {row.regime}: {row.mean:.3f} "
              f"[{row.ci95_low:.3f}, {row.ci95_high:.3f}]")  # fmt: skip
