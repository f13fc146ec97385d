"""Two-step task: the probability of repeating the first-stage choice, by the previous trial's outcome and transition.

    python -m analysis.two_step --experiment ~/ray_results/two_step-20261122-093000     # trained agent + references
    python -m analysis.two_step                                                         # the reference agents only

The papers' bar chart (Daw et al. 2011; Wang et al. 2018, Fig. 5): P(stay) after {rewarded, unrewarded} x {common,
uncommon} transitions. A model-free learner stays after rewards whatever the transition; a model-based one stays after
rewarded-common and unrewarded-uncommon trials. The trained agent plays with frozen weights, sampling its actions as
it did in training (``--greedy`` takes the most likely action), beside the project's model-free and model-based
reference agents on the same episodes. Writes ``two_step_stay.csv`` and ``two_step_stay.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pandas as pd

from rllib_metarl.analysis.figures import plt, save_figure
from rllib_metarl.analysis.load import experiment_checkpoint
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


def nearest_reference(frame: pd.DataFrame, agent: str = "trained agent") -> str:
    """The reference agent whose four stay probabilities lie closest (Euclidean) to ``agent``'s."""
    pattern = frame.pivot(index="agent", columns="condition", values="stay_probability")
    references = pattern.drop(index=agent)
    return str(((references - pattern.loc[agent]) ** 2).sum(axis=1).idxmin())


def agent_trials(
    checkpoint: str, env_config: dict[str, Any] | None = None, episodes: int = 300, seed: int = 0, explore: bool = True
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The trained agent's trials (frozen weights), one row per trial, and the env_config it played."""
    from rllib_metarl.evaluation import load_module, play_module, resolve_task

    task_name, env_config = resolve_task(checkpoint, None, env_config)
    if task_name != "two_step":
        raise ValueError(f"{checkpoint!r} was trained on {task_name!r}, not on two_step")
    _, steps = play_module(load_module(checkpoint), task_name, env_config, episodes, seed, explore)
    trials = steps[steps["trial_end"]].rename(columns={"trial": "episode"})
    return trials.reset_index(drop=True), env_config


def analyse(
    checkpoint: str | None, env_config: dict[str, Any] | None, episodes: int, seed: int, explore: bool
) -> pd.DataFrame:
    """Stay probabilities of the agent (if a checkpoint is given) and of both reference agents, stacked."""
    frames = []
    if checkpoint:
        trials, env_config = agent_trials(checkpoint, env_config, episodes, seed, explore)
        frames.append(stay_probabilities(trials).assign(agent="trained agent"))
    for reference in (ModelFreeAgent(), ModelBasedAgent()):
        trials = play_two_step(reference, env_config, episodes, seed)
        frames.append(stay_probabilities(trials).assign(agent=reference.name))
    return pd.concat(frames, ignore_index=True)


def plot(frame: pd.DataFrame, output: Path) -> Path:
    agents = list(dict.fromkeys(frame["agent"]))
    figure, axes = plt.subplots(1, len(agents), figsize=(3.6 * len(agents), 3.6), sharey=True, squeeze=False)
    for axis, agent in zip(axes[0], agents, strict=True):
        part = frame[frame["agent"] == agent]
        for offset, (common, color) in enumerate([(True, "tab:blue"), (False, "tab:red")]):
            bars = part[part["common"] == common].sort_values("rewarded", ascending=False)  # rewarded first
            errors = [bars["stay_probability"] - bars["ci95_low"], bars["ci95_high"] - bars["stay_probability"]]
            axis.bar([offset * 0.38, 1 + offset * 0.38], bars["stay_probability"], width=0.36, color=color,
                     yerr=errors, capsize=3, label="common" if common else "uncommon")  # fmt: skip
        axis.set_xticks([0.19, 1.19], ["rewarded", "unrewarded"])
        axis.set_ylim(0.0, 1.05)
        axis.set_title(agent)
        axis.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("P(repeat first-stage action)")
    axes[0][0].legend(loc="lower left", fontsize="small")
    return save_figure(figure, output)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--experiment", help="a finished tune_configs/two_step.py experiment (its best checkpoint)")
    source.add_argument("--checkpoint", help="an algorithm checkpoint trained on two_step")
    parser.add_argument("--episodes", type=positive_int, default=300, help="episodes per agent (100 trials each)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out episodes")
    parser.add_argument("--greedy", action="store_true", help="the agent takes its most likely action")
    parser.add_argument(
        "--output-dir", help="where the CSV and PNG go (default: the experiment, else analysis/results)"
    )
    args = parser.parse_args(argv)
    try:
        checkpoint = experiment_checkpoint(args.experiment) if args.experiment else args.checkpoint
        frame = analyse(checkpoint, None, args.episodes, args.seed, explore=not args.greedy)
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    output_dir = Path(args.output_dir or args.experiment or "analysis/results").expanduser()
    output_dir.mkdir(parents=True, exist_ok=True)
    write_csv(frame, output_dir / "two_step_stay.csv")
    plot(frame, output_dir / "two_step_stay.png")
    for agent, part in frame.groupby("agent", sort=False):
        print(f"\n{agent}: P(stay), {args.episodes} episodes [95% interval]")
        for row in part.itertuples():
            print(f"  {row.condition:<22} {row.stay_probability:.3f} [{row.ci95_low:.3f}, {row.ci95_high:.3f}]  "
                  f"n={row.count}")  # fmt: skip
        verdict = signature(part)
        pattern = "yes" if verdict["model_based_pattern"] else "no"
        print(f"  model-based margins: rewarded {verdict['rewarded_margin']:+.3f}, unrewarded "
              f"{verdict['unrewarded_margin']:+.3f}; reward effect {verdict['reward_effect']:+.3f}; "
              f"model-based pattern outside the intervals: {pattern}")  # fmt: skip
    if checkpoint:
        print(f"\nThe trained agent's pattern is closest to the {nearest_reference(frame)} reference's.")
    print(f"\nWritten: {output_dir / 'two_step_stay.csv'}, {output_dir / 'two_step_stay.png'}")
    return frame
