"""Eleven-armed bandit: over training, how often the agent pulls the informative arm first, and then the target.

    python -m analysis.eleven_arm --experiment ~/ray_results/eleven_arm-20261122-093000 [EXPERIMENT ...]

Wang et al. 2016 (Fig. 4) judged the agent by this strategy, not by return alone: the Bayes-optimal policy pulls the
informative arm first in every trial and the target arm in every pull after it. The curves come from the per-trial
metrics the env reports during training (sampled actions, the mean over each iteration's last 200 trials), one
per training seed; the final figures from every seed's best checkpoint, frozen and greedy, on ``--trials`` held-out
trials, with their mean over seeds and its 95% t-interval across them. Writes ``eleven_arm_strategy.csv`` (over
training), ``eleven_arm_final.csv`` (per seed), ``eleven_arm_final_across_seeds.csv`` and ``eleven_arm_strategy.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from rllib_metarl.analysis.figures import plt, save_figure
from rllib_metarl.analysis.load import load_experiment, trained_env_config
from rllib_metarl.analysis.seeds import TRAINED, across_seeds, add_agent_arguments, agents_of, output_dir_of
from rllib_metarl.cli.arguments import positive_int
from rllib_metarl.utils.atomic_io import write_csv

TASK = "eleven_arm"
RATES = {"informative_first": "informative arm first", "target_after_informative": "target after informative"}


def strategy_over_training(experiment: str | Path) -> pd.DataFrame:
    """One row per trial (seed) and iteration: env steps, time, return and the two strategy rates."""
    loaded = load_experiment(experiment)
    if loaded.task != TASK:
        raise ValueError(f"{str(experiment)!r} trained on {loaded.task!r}, not on {TASK}")
    columns = ["seed", "training_iteration", "time_total_s", "env_steps", "return", *RATES]
    return loaded.histories.reindex(columns=columns)


def final_strategies(agents: list[tuple[int, str]], trials: int, seed: int) -> pd.DataFrame:
    """Every training seed's agent, frozen and greedy, on the same held-out trials: its return and the two rates
    (``target_after_informative`` over the trials that started with the informative arm; the env leaves it NaN in
    the others)."""
    from rllib_metarl.evaluation import evaluate_module, load_module

    rows = []
    for training_seed, checkpoint in agents:
        env_config = trained_env_config(checkpoint, TASK)
        played = evaluate_module(load_module(checkpoint), TASK, env_config, trials, seed)
        rows.append({"agent": TRAINED, "seed": training_seed, "return": played["return"].mean(),
                     **{rate: played[rate].mean() for rate in RATES}, "trials": trials})  # fmt: skip
    return pd.DataFrame(rows)


def final_across_seeds(final: pd.DataFrame) -> pd.DataFrame:
    """Per figure (return and the two rates): the mean over seeds with its 95% t-interval across them."""
    long = final.melt(id_vars=["agent", "seed"], value_vars=["return", *RATES], var_name="figure")
    return across_seeds(long, "value", ["figure"])


def plot(history: pd.DataFrame, final: pd.DataFrame, output: Path) -> Path:
    """Each seed's rates over training; the final agents' held-out rates as bands, one per seed."""
    figure, axis = plt.subplots(figsize=(7, 4.5))
    colors = dict(zip(RATES, ["tab:blue", "tab:orange"], strict=True))
    for (seed, part), style in zip(history.groupby("seed"), ["-", "--", ":", "-."] * 8, strict=False):
        for column, label in RATES.items():
            axis.plot(part["env_steps"], part[column], style, color=colors[column], label=f"{label}, seed {seed}")
    for row in final.itertuples():
        for column, label in RATES.items():
            axis.axhline(getattr(row, column), color=colors[column], alpha=0.3, linewidth=3,
                         label=f"{label}, held-out, seed {row.seed}: {getattr(row, column):.3f}")  # fmt: skip
    axis.set_xlabel("env steps")
    axis.set_ylabel("rate per trial")
    axis.set_title("lines: training (sampled actions); bands: final agents, held-out (greedy)", fontsize="medium")
    axis.set_ylim(0.0, 1.05)
    axis.grid(alpha=0.3)
    axis.legend(fontsize="x-small", loc="lower right")
    return save_figure(figure, output)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_agent_arguments(parser, TASK)
    parser.add_argument("--trials", type=positive_int, default=1000, help="held-out trials per agent")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out trials")
    args = parser.parse_args(argv)
    if not args.experiment:
        parser.error("give --experiment: the curves come from the experiments' training histories")
    try:
        history = pd.concat([strategy_over_training(experiment) for experiment in args.experiment], ignore_index=True)
        final = final_strategies(agents_of(args), args.trials, args.seed)
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    seeds = final_across_seeds(final)
    output_dir = output_dir_of(args)
    write_csv(history, output_dir / "eleven_arm_strategy.csv")
    write_csv(final, output_dir / "eleven_arm_final.csv")
    write_csv(seeds, output_dir / "eleven_arm_final_across_seeds.csv")
    plot(history, final, output_dir / "eleven_arm_strategy.png")
    report(history, final, seeds)
    names = ("eleven_arm_strategy.csv", "eleven_arm_final.csv", "eleven_arm_final_across_seeds.csv",
             "eleven_arm_strategy.png")  # fmt: skip
    print(f"Written: {', '.join(str(output_dir / name) for name in names)}")
    return history


def report(history: pd.DataFrame, final: pd.DataFrame, seeds: pd.DataFrame) -> None:
    for seed, part in history.groupby("seed"):
        reached = part[part["informative_first"] >= 0.95]
        when = f"{int(reached['env_steps'].iloc[0])} env steps" if len(reached) else "never"
        print(f"seed {seed}: informative arm first in >= 95% of trials (training) after {when}")
    for _, row in final.iterrows():
        rates = ", ".join(f"{label} {row[column]:.3f}" for column, label in RATES.items())
        print(f"seed {row['seed']}, held-out (frozen, greedy): return {row['return']:.3f}, {rates}")
    if len(final) > 1:
        for row in seeds.itertuples():
            print(f"mean of {row.seeds} seeds, {row.figure}: {row.mean:.3f} [{row.ci95_low:.3f}, {row.ci95_high:.3f}]")
