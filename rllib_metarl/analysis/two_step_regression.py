"""Two-step task: a lagged logistic regression of the first-stage choice on past rewards and transitions.

    python -m analysis.two_step_regression --experiment ~/ray_results/two_step-20261122-093000   # agent + references
    python -m analysis.two_step_regression --experiment EXP_A EXP_B                            # several runs' seeds
    python -m analysis.two_step_regression                                                       # the references only

The stay-probability bars look one trial back and cannot tell a model-based learner from a model-free one that
learns fast. The standard answer (Miller, Botvinick and Brody 2017; Daw et al. 2011's regression extended over
lags) regresses each first-stage choice on the outcomes of the trials before it. For each lag k = 1 to 5 there are
four regressors, one per kind of trial: common-rewarded, common-unrewarded, uncommon-rewarded,
uncommon-unrewarded. A regressor is +1 when trial t - k was of its kind and chose the first-stage action 1, -1 when
it was of its kind and chose action 0, and 0 otherwise; a positive weight means "repeat the choice after such a
trial". Fitted by statsmodels' maximum-likelihood logistic regression, with an intercept (a bias to action 1).

Two contrasts per lag summarise the weights, each with its 95% interval: the reward effect, (CR + UR - CU - UU) / 2,
and the reward x transition interaction, the model-based index, (CR - UR - CU + UU) / 2 (CR: common-rewarded, UU:
uncommon-unrewarded, ...). Textbook signatures: a model-free learner repeats after rewards whatever the transition (a
reward effect, no interaction); a model-based learner's response to a reward flips with the transition (an
interaction, little main effect). Contrasts rather than the signs of single weights: every kind's weight also
carries the learner's tendency to repeat itself, the same for all four (a slow learner's values persist beyond the
lags), and the contrasts cancel it. The trained agent plays with frozen weights beside the project's model-free and
model-based reference agents (:mod:`rllib_metarl.baselines.two_step`) on the same episodes. Writes
``two_step_regression.csv`` (the weights and the contrasts of each agent and training seed, each with its 95%
interval), ``two_step_regression_across_seeds.csv`` (the agent's mean over seeds, with a 95% t-interval across them)
and ``two_step_regression.png`` (the mean over seeds).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from rllib_metarl.analysis import two_step
from rllib_metarl.analysis.figures import plt, save_figure
from rllib_metarl.analysis.seeds import TRAINED, across_seeds, agents_of, output_dir_of
from rllib_metarl.utils.atomic_io import write_csv

LAGS = 5
# The kinds of trial, (common, rewarded), in the order of the regressors and of the figure's legend.
KINDS = {"common, rewarded": (True, True), "uncommon, rewarded": (False, True),
         "common, unrewarded": (True, False), "uncommon, unrewarded": (False, False)}  # fmt: skip
# Contrasts of the four kinds' weights at one lag (coefficients in the order of KINDS).
CONTRASTS = {"reward effect": (0.5, 0.5, -0.5, -0.5), "model-based index": (0.5, -0.5, -0.5, 0.5)}


def lagged_design(trials: pd.DataFrame, lags: int = LAGS) -> tuple[pd.DataFrame, pd.Series]:
    """(regressors, choices): one row per trial that has ``lags`` trials before it in its episode.

    ``trials``: one row per trial with ``episode``, ``trial_index``, ``first_stage_action`` (0 or 1), ``common`` and
    ``rewarded``. Columns are named ``"<kind> lag <k>"``.
    """
    ordered = trials.sort_values(["episode", "trial_index"]).reset_index(drop=True)
    choice_sign = 2 * ordered["first_stage_action"].astype(int) - 1
    by_episode = ordered.groupby("episode", sort=False)
    columns = {}
    for lag in range(1, lags + 1):
        sign = choice_sign.groupby(ordered["episode"], sort=False).shift(lag)
        common, rewarded = by_episode["common"].shift(lag), by_episode["rewarded"].shift(lag)
        for kind, (is_common, is_rewarded) in KINDS.items():
            of_kind = (common == is_common) & (rewarded == is_rewarded)
            columns[f"{kind} lag {lag}"] = sign.where(of_kind, 0.0)
    design = pd.DataFrame(columns)
    complete = by_episode.cumcount() >= lags  # every lag inside the episode
    return design[complete].astype(float), ordered.loc[complete, "first_stage_action"].astype(int)


def fit_regression(trials: pd.DataFrame, lags: int = LAGS) -> pd.DataFrame:
    """One row per (term, lag), the terms being the four kinds' weights and the CONTRASTS: the estimate, its 95%
    interval and standard error, and the number of choices fitted."""
    import statsmodels.api as sm

    design, choices = lagged_design(trials, lags)
    result = sm.Logit(choices.to_numpy(), sm.add_constant(design.to_numpy(), has_constant="add")).fit(disp=0)
    position = {column: index for index, column in enumerate(design.columns, start=1)}  # 0 is the intercept
    rows = []
    for lag in range(1, lags + 1):
        terms = {kind: {kind: 1.0} for kind in KINDS}
        terms.update({name: dict(zip(KINDS, weights, strict=True)) for name, weights in CONTRASTS.items()})
        for term, weights in terms.items():
            combination = np.zeros(len(position) + 1)
            for kind, weight in weights.items():
                combination[position[f"{kind} lag {lag}"]] = weight
            test = result.t_test(combination)
            low, high = np.asarray(test.conf_int(alpha=0.05)).ravel()
            rows.append({"term": term, "lag": lag, "estimate": float(np.squeeze(test.effect)),
                         "ci95_low": float(low), "ci95_high": float(high), "std_error": float(np.squeeze(test.sd)),
                         "choices": len(choices)})  # fmt: skip
    return pd.DataFrame(rows)


def signature(weights: pd.DataFrame, lag: int = 1) -> str:
    """ "model-based" where the interaction at ``lag`` is above 0 (its interval) and larger than the reward effect,
    "model-free" where the reward effect is above 0 and larger than the interaction, else "neither"."""
    at_lag = weights[weights["lag"] == lag].set_index("term")
    reward, interaction = at_lag.loc["reward effect"], at_lag.loc["model-based index"]
    if interaction["ci95_low"] > 0 and interaction["estimate"] > abs(reward["estimate"]):
        return "model-based"
    if reward["ci95_low"] > 0 and reward["estimate"] > abs(interaction["estimate"]):
        return "model-free"
    return "neither"


def plot(frame: pd.DataFrame, output: Path) -> Path:
    """The weights against the lag, per agent (the trained agent's: the mean over seeds, t-intervals across them)."""
    seeds = across_seeds(frame[frame["agent"] == TRAINED], "estimate", ["term", "lag"])
    seeds = seeds.rename(columns={"mean": "estimate"})
    frame = pd.concat([seeds, frame[frame["agent"] != TRAINED]], ignore_index=True)
    agents = list(dict.fromkeys(frame["agent"]))
    figure, axes = plt.subplots(1, len(agents), figsize=(3.8 * len(agents), 3.4), sharey=True, squeeze=False)
    styles = {"common, rewarded": ("tab:blue", "-"), "uncommon, rewarded": ("tab:red", "-"),
              "common, unrewarded": ("tab:blue", "--"), "uncommon, unrewarded": ("tab:red", "--")}  # fmt: skip
    for axis, agent in zip(axes[0], agents, strict=True):
        for kind, (color, line) in styles.items():
            part = frame[(frame["agent"] == agent) & (frame["term"] == kind)].sort_values("lag")
            errors = [part["estimate"] - part["ci95_low"], part["ci95_high"] - part["estimate"]]
            axis.errorbar(part["lag"], part["estimate"], yerr=errors, color=color, linestyle=line, marker="o",
                          markersize=3, capsize=2, label=kind)  # fmt: skip
        axis.axhline(0.0, color="grey", linewidth=0.8)
        axis.set_xticks(range(1, LAGS + 1))
        axis.set_xlabel("trials back")
        count = seeds["seeds"].iloc[0] if agent == TRAINED and len(seeds) else 0
        axis.set_title(f"{agent} (mean of {count} seeds)" if count > 1 else agent)
    axes[0][0].set_ylabel("weight on repeating the choice")
    axes[0][0].legend(fontsize="x-small")
    return save_figure(figure, output)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    two_step.add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        checkpoints = agents_of(args)
        frame = two_step.analyse(checkpoints, args.episodes, args.seed, not args.greedy, measure=fit_regression)
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    output_dir = output_dir_of(args)
    seeds = across_seeds(frame[frame["agent"] == TRAINED], "estimate", ["term", "lag"])
    write_csv(frame, output_dir / "two_step_regression.csv")
    write_csv(seeds, output_dir / "two_step_regression_across_seeds.csv")
    plot(frame, output_dir / "two_step_regression.png")
    for (agent, seed), part in frame.groupby(["agent", "seed"], sort=False, dropna=False):
        name = agent if pd.isna(seed) else f"{agent}, seed {int(seed)}"
        terms = "; ".join(f"{r.term} {r.estimate:+.2f} [{r.ci95_low:+.2f}, {r.ci95_high:+.2f}]"
                          for r in part[part["lag"] == 1].itertuples())  # fmt: skip
        print(f"{name}, lag 1: {terms}; signature: {signature(part)}")
    if len(seeds):
        at_lag_1 = seeds[(seeds["lag"] == 1) & seeds["term"].isin(list(CONTRASTS))]
        terms = "; ".join(
            f"{r.term} {r.mean:+.2f} [{r.ci95_low:+.2f}, {r.ci95_high:+.2f}]" for r in at_lag_1.itertuples()
        )
        print(f"{TRAINED}, mean over {seeds['seeds'].iloc[0]} seed(s), lag 1 [95% t-interval across seeds]: {terms}")
    written = [output_dir / f"two_step_regression{suffix}" for suffix in (".csv", "_across_seeds.csv", ".png")]
    print(f"\nWritten: {', '.join(map(str, written))}")
    return frame
