"""Two-step task: the probability of repeating the first-stage choice, by the previous trial's outcome and transition.

    python -m analysis.two_step --experiment ~/ray_results/two_step-20261122-093000     # trained agent + references
    python -m analysis.two_step --experiment EXP_A EXP_B                                # the seeds of several runs
    python -m analysis.two_step                                                         # the reference agents only

The papers' bar chart (Daw et al. 2011; Wang et al. 2018, Fig. 5): P(stay) after {rewarded, unrewarded} x {common,
uncommon} transitions. A model-free learner stays after rewards whatever the transition; a model-based one stays after
rewarded-common and unrewarded-uncommon trials. The trained agent plays with frozen weights, sampling its actions as
it did in training (``--greedy`` takes the most likely action), beside the project's model-free and model-based
reference agents on the same episodes. Seeds are an axis: every Tune trial of the experiments (one per seed) plays
with its own best checkpoint, and the agent's bars are the mean over seeds with a 95% t-interval across them, each
seed's own point drawn over them. Writes ``two_step_stay.csv`` (per agent and seed, Wilson intervals within a seed),
``two_step_stay_across_seeds.csv`` and ``two_step_stay.png``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from rllib_metarl.analysis.figures import plt, save_figure
from rllib_metarl.analysis.load import trained_env_config
from rllib_metarl.analysis.seeds import TRAINED, across_seeds, add_agent_arguments, agents_of, output_dir_of
from rllib_metarl.baselines.two_step import ModelBasedAgent, ModelFreeAgent, play_two_step
from rllib_metarl.cli.arguments import positive_int
from rllib_metarl.utils.atomic_io import write_csv
from rllib_metarl.utils.stats import wilson_interval

# (rewarded, common) in the papers' order.
CONDITIONS = [(True, True), (True, False), (False, True), (False, False)]


def condition_label(rewarded: bool, common: bool) -> str:
    return f"{'rewarded' if rewarded else 'unrewarded'}, {'common' if common else 'uncommon'}"


def stay_probabilities(trials: pd.DataFrame) -> pd.DataFrame:
    """P(stay) per condition of the previous trial; one row per (rewarded, common).

    ``trials``: one row per trial with ``episode``, ``trial_index``, ``first_stage_action``, ``rewarded``, ``common``.
    A trial counts as "stay" when the next trial of the same episode repeats its first-stage action; an episode's last
    trial has no next one and is left out.
    """
    ordered = trials.sort_values(["episode", "trial_index"])
    next_action = ordered.groupby("episode")["first_stage_action"].shift(-1)
    pairs = ordered[next_action.notna()].assign(
        stay=(next_action == ordered["first_stage_action"])[next_action.notna()]
    )
    rows = []
    for rewarded, common in CONDITIONS:
        stays = pairs.loc[(pairs["rewarded"] == rewarded) & (pairs["common"] == common), "stay"]
        low, high = wilson_interval(float(stays.sum()), len(stays))
        rows.append(
            {
                "rewarded": rewarded,
                "common": common,
                "condition": condition_label(rewarded, common),
                "stay_probability": float(stays.mean()) if len(stays) else float("nan"),
                "ci95_low": low,
                "ci95_high": high,
                "count": len(stays),
            }
        )
    return pd.DataFrame(rows)


def signature(stays: pd.DataFrame) -> dict[str, Any]:
    """The model-based and model-free indices, and whether the model-based pattern holds outside the intervals.

    Model-based: P(stay | rewarded, common) > P(stay | rewarded, uncommon) and P(stay | unrewarded, uncommon) >
    P(stay | unrewarded, common), each with the two 95% intervals apart. Model-free index: the main effect of reward.
    """
    row = {(r.rewarded, r.common): r for r in stays.itertuples()}
    rewarded_common, rewarded_uncommon = row[(True, True)], row[(True, False)]
    unrewarded_common, unrewarded_uncommon = row[(False, True)], row[(False, False)]
    return {
        "rewarded_margin": rewarded_common.stay_probability - rewarded_uncommon.stay_probability,
        "unrewarded_margin": unrewarded_uncommon.stay_probability - unrewarded_common.stay_probability,
        "reward_effect": (rewarded_common.stay_probability + rewarded_uncommon.stay_probability) / 2
        - (unrewarded_common.stay_probability + unrewarded_uncommon.stay_probability) / 2,
        "model_based_pattern": bool(
            rewarded_common.ci95_low > rewarded_uncommon.ci95_high
            and unrewarded_uncommon.ci95_low > unrewarded_common.ci95_high
        ),
    }


def nearest_reference(frame: pd.DataFrame, agent: str = TRAINED) -> str:
    """The reference agent whose four stay probabilities (the agent's: its mean over seeds) lie closest (Euclidean)
    to ``agent``'s."""
    pattern = frame.pivot_table(index="agent", columns="condition", values="stay_probability", aggfunc="mean")
    references = pattern.drop(index=agent)
    return str(((references - pattern.loc[agent]) ** 2).sum(axis=1).idxmin())


def agent_trials(
    checkpoint: str, env_config: dict[str, Any] | None = None, episodes: int = 300, seed: int = 0, explore: bool = True
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The trained agent's trials (frozen weights), one row per trial, and the env_config it played."""
    from rllib_metarl.evaluation import load_module, play_module

    env_config = trained_env_config(checkpoint, "two_step", env_config)
    _, steps = play_module(load_module(checkpoint), "two_step", env_config, episodes, seed, explore)
    trials = steps[steps["trial_end"]].rename(columns={"trial": "episode"})
    return trials.reset_index(drop=True), env_config


def analyse(
    checkpoints: list[tuple[int, str]],
    episodes: int,
    seed: int,
    explore: bool,
    measure: Callable[[pd.DataFrame], pd.DataFrame] = stay_probabilities,
) -> pd.DataFrame:
    """``measure`` (by default the stay probabilities) of the trials of the agent of each ``(training seed,
    checkpoint)`` and of both reference agents, stacked; ``seed`` is the training seed (none for the references)."""
    frames, env_config = [], None
    for training_seed, checkpoint in checkpoints:
        trials, env_config = agent_trials(checkpoint, env_config, episodes, seed, explore)
        frames.append(measure(trials).assign(agent=TRAINED, seed=training_seed))
    for reference in (ModelFreeAgent(), ModelBasedAgent()):
        trials = play_two_step(reference, env_config, episodes, seed)
        frames.append(measure(trials).assign(agent=reference.name, seed=None))
    return pd.concat(frames, ignore_index=True)


def plot(frame: pd.DataFrame, output: Path) -> Path:
    """The papers' bars per agent; the trained agent's are its mean over seeds with the interval across them, and
    each seed's point is drawn over them."""
    agents = list(dict.fromkeys(frame["agent"]))
    seeds = across_seeds(frame, "stay_probability", ["rewarded", "common"])
    figure, axes = plt.subplots(1, len(agents), figsize=(3.6 * len(agents), 3.6), sharey=True, squeeze=False)
    for axis, agent in zip(axes[0], agents, strict=True):
        part = frame[frame["agent"] == agent]
        several_seeds = part["seed"].nunique() > 1
        for offset, (common, color) in enumerate([(True, "tab:blue"), (False, "tab:red")]):
            positions = [offset * 0.38, 1 + offset * 0.38]
            if several_seeds:
                bars = seeds[(seeds["agent"] == agent) & (seeds["common"] == common)]
                height, low, high = bars["mean"], bars["ci95_low"], bars["ci95_high"]
            else:
                bars = part[part["common"] == common]
                height, low, high = bars["stay_probability"], bars["ci95_low"], bars["ci95_high"]
            order = bars["rewarded"].to_numpy().argsort()[::-1]  # rewarded first
            height, low, high = (series.to_numpy()[order] for series in (height, low, high))
            axis.bar(positions, height, width=0.36, color=color, yerr=[height - low, high - height], capsize=3,
                     label="common" if common else "uncommon")  # fmt: skip
            if several_seeds:
                for position, rewarded in zip(positions, (True, False), strict=True):
                    points = part[(part["common"] == common) & (part["rewarded"] == rewarded)]["stay_probability"]
                    axis.scatter([position] * len(points), points, s=9, color="black", zorder=3)
        axis.set_xticks([0.19, 1.19], ["rewarded", "unrewarded"])
        axis.set_ylim(0.0, 1.05)
        count = part["seed"].nunique()
        axis.set_title(f"{agent} ({count} seeds)" if several_seeds else agent)
        axis.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("P(repeat first-stage action)")
    axes[0][0].legend(loc="lower left", fontsize="small")
    return save_figure(figure, output)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The two-step analyses' command line: the agents, the held-out episodes and how the agents act."""
    add_agent_arguments(parser, "two_step")
    parser.add_argument("--episodes", type=positive_int, default=300, help="episodes per agent (100 trials each)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out episodes")
    parser.add_argument("--greedy", action="store_true", help="the agent takes its most likely action")


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        checkpoints = agents_of(args)
        frame = analyse(checkpoints, args.episodes, args.seed, explore=not args.greedy)
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    output_dir = output_dir_of(args)
    seeds = across_seeds(frame[frame["agent"] == TRAINED], "stay_probability", ["condition"])
    write_csv(frame, output_dir / "two_step_stay.csv")
    write_csv(seeds, output_dir / "two_step_stay_across_seeds.csv")
    plot(frame, output_dir / "two_step_stay.png")
    report(frame, seeds, args.episodes)
    print(f"\nWritten: {output_dir / 'two_step_stay.csv'}, {output_dir / 'two_step_stay_across_seeds.csv'}, "
          f"{output_dir / 'two_step_stay.png'}")  # fmt: skip
    return frame


def report(frame: pd.DataFrame, seeds: pd.DataFrame, episodes: int) -> None:
    for (agent, seed), part in frame.groupby(["agent", "seed"], sort=False, dropna=False):
        name = agent if pd.isna(seed) else f"{agent}, seed {int(seed)}"
        print(f"\n{name}: P(stay), {episodes} episodes [95% interval]")
        for row in part.itertuples():
            print(f"  {row.condition:<22} {row.stay_probability:.3f} [{row.ci95_low:.3f}, {row.ci95_high:.3f}]  "
                  f"n={row.count}")  # fmt: skip
        verdict = signature(part)
        pattern = "yes" if verdict["model_based_pattern"] else "no"
        print(f"  model-based margins: rewarded {verdict['rewarded_margin']:+.3f}, unrewarded "
              f"{verdict['unrewarded_margin']:+.3f}; reward effect {verdict['reward_effect']:+.3f}; "
              f"model-based pattern outside the intervals: {pattern}")  # fmt: skip
    if len(seeds):
        print(f"\n{TRAINED}, mean over {seeds['seeds'].iloc[0]} seed(s) [95% t-interval across seeds]")
        for row in seeds.itertuples():
            print(f"  {row.condition:<22} {row.mean:.3f} [{row.ci95_low:.3f}, {row.ci95_high:.3f}]")
        print(f"\nThe trained agent's pattern is closest to the {nearest_reference(frame)} reference's.")
