"""Harlow task: the fraction of correct choices per trial index (1..6) on held-out objects, over training.

    python -m analysis.harlow --experiment ~/ray_results/harlow-20261122-093000 [EXPERIMENT ...]

A learned "learning set" shows as chance (50%) on trial 1, when the agent cannot know which of two novel objects pays,
and near 100% on trials 2-6. Two sources, both on objects from the held-out pool:
- over training: the greedy evaluation the Harlow preset runs every few iterations (``held_out/correct_trial_<i>`` in
  the Tune results);
- the final agents: every training seed's best checkpoint, frozen, on ``--episodes`` held-out episodes; the trained
  agent's figure is the mean over seeds with a 95% t-interval across them.
Writes ``harlow_accuracy.csv`` (per seed and trial index), ``harlow_accuracy_across_seeds.csv`` (per trial index, the
mean over seeds), ``harlow_training.csv`` (one row per seed and evaluation during training) and
``harlow_accuracy.png``.
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
from rllib_metarl.utils.stats import wilson_interval


def accuracy_by_trial(steps: pd.DataFrame) -> pd.DataFrame:
    """Fraction correct per trial index (1-based) with a 95% interval; ``steps`` has ``trial_index`` and ``correct``."""
    rows = []
    for index, choices in steps.groupby("trial_index")["correct"]:
        low, high = wilson_interval(float(choices.sum()), len(choices))
        rows.append(
            {
                "trial": int(index) + 1,
                "correct": float(choices.mean()),
                "ci95_low": low,
                "ci95_high": high,
                "episodes": len(choices),
            }  # fmt: skip
        )
    return pd.DataFrame(rows)


def final_accuracy(checkpoint: str, episodes: int = 1000, seed: int = 0) -> pd.DataFrame:
    """The frozen agent on ``episodes`` episodes with held-out objects, greedy, per trial index."""
    from rllib_metarl.evaluation import load_module, play_module
    from rllib_metarl.tasks.registry import get_task

    held_out = get_task("harlow").held_out_config(trained_env_config(checkpoint, "harlow"))
    _, steps = play_module(load_module(checkpoint), "harlow", held_out, episodes, seed)
    return accuracy_by_trial(steps)


def accuracy_over_training(experiment: str | Path) -> pd.DataFrame:
    """One row per held-out evaluation during training: seed, iteration, time and ``trial_<i>`` fractions correct."""
    histories = load_experiment(experiment).histories
    columns = sorted((c for c in histories.columns if c.startswith("held_out/correct_trial_")),
                     key=lambda c: int(c.rsplit("_", 1)[1]))  # fmt: skip
    if not columns:
        raise ValueError(
            f"{str(experiment)!r} has no held-out evaluations: was it trained with tune_configs/harlow.py?"
        )
    frame = histories.dropna(subset=columns)[["seed", "training_iteration", "time_total_s", "env_steps", *columns]]
    return frame.rename(columns={c: f"trial_{c.rsplit('_', 1)[1]}" for c in columns}).reset_index(drop=True)


def final_accuracies(agents: list[tuple[int, str]], episodes: int, seed: int) -> pd.DataFrame:
    """Every training seed's agent on the same held-out episodes: fraction correct per seed and trial index."""
    return pd.concat(
        [final_accuracy(checkpoint, episodes, seed).assign(agent=TRAINED, seed=training_seed)
         for training_seed, checkpoint in agents],
        ignore_index=True,
    )  # fmt: skip


def training_histories(experiments: list[str]) -> pd.DataFrame:
    """The held-out evaluations during training of every seed of the experiments (none for a lone checkpoint)."""
    if not experiments:
        return pd.DataFrame(columns=["seed", "training_iteration", "time_total_s", "env_steps"])
    return pd.concat([accuracy_over_training(experiment) for experiment in experiments], ignore_index=True)


def plot(final: pd.DataFrame, seeds: pd.DataFrame, training: pd.DataFrame, output: Path) -> Path:
    """Left: the final agents per trial index, the mean over seeds with its interval (one seed: its Wilson interval
    over episodes) and each seed's points. Right: every seed's held-out evaluations during training."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    several = seeds["seeds"].iloc[0] > 1
    mean = seeds if several else final.rename(columns={"correct": "mean"})
    errors = [mean["mean"] - mean["ci95_low"], mean["ci95_high"] - mean["mean"]]
    label = f"mean of {seeds['seeds'].iloc[0]} seeds" if several else f"seed {final['seed'].iloc[0]}"
    left.errorbar(mean["trial"], mean["mean"], yerr=errors, marker="o", color="black", capsize=3,
                  label=f"final agent, {label}, {int(final['episodes'].iloc[0])} episodes each")  # fmt: skip
    if several:
        left.scatter(final["trial"], final["correct"], s=12, color="tab:blue", zorder=3, label="each seed")
    left.axhline(0.5, color="grey", linestyle=":", label="chance")
    left.set_xlabel("trial within episode")
    left.set_ylabel("fraction correct (held-out objects)")
    left.set_ylim(0.0, 1.05)
    left.legend(fontsize="small", loc="lower right")
    trial_columns = [c for c in training.columns if c.startswith("trial_")]
    for seed, part in training.groupby("seed"):
        right.plot(part["env_steps"], part[trial_columns[0]], linestyle="--", label=f"trial 1, seed {seed}")
        right.plot(part["env_steps"], part[trial_columns[1:]].mean(axis=1), label=f"trials 2-6, seed {seed}")
    right.axhline(0.5, color="grey", linestyle=":")
    right.set_xlabel("env steps")
    right.set_ylim(0.0, 1.05)
    right.set_title("held-out evaluation during training")
    right.legend(fontsize="small", loc="lower right")
    for axis in (left, right):
        axis.grid(alpha=0.3)
    return save_figure(figure, output)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_agent_arguments(parser, "harlow")
    parser.add_argument("--episodes", type=positive_int, default=1000, help="held-out episodes per agent")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out episodes")
    args = parser.parse_args(argv)
    if not (args.experiment or args.checkpoint):
        parser.error("give --experiment or --checkpoint")
    try:
        training = training_histories(args.experiment or [])
        final = final_accuracies(agents_of(args), args.episodes, args.seed)
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    seeds = across_seeds(final, "correct", ["trial"])
    output_dir = output_dir_of(args)
    write_csv(final, output_dir / "harlow_accuracy.csv")
    write_csv(seeds, output_dir / "harlow_accuracy_across_seeds.csv")
    write_csv(training, output_dir / "harlow_training.csv")
    plot(final, seeds, training, output_dir / "harlow_accuracy.png")
    report(final, seeds, args.episodes)
    names = ("harlow_accuracy.csv", "harlow_accuracy_across_seeds.csv", "harlow_training.csv", "harlow_accuracy.png")
    print(f"Written: {', '.join(str(output_dir / name) for name in names)}")
    return final


def report(final: pd.DataFrame, seeds: pd.DataFrame, episodes: int) -> None:
    print(f"Final agents, {episodes} held-out episodes each, greedy: fraction correct [95% interval]")
    for seed, part in final.groupby("seed"):
        cells = "  ".join(f"{r.correct:.3f}" for r in part.itertuples())
        print(
            f"  seed {seed}, trials 1-{part['trial'].max()}: {cells}; trials 2-: {part['correct'].iloc[1:].mean():.3f}"
        )
    if seeds["seeds"].iloc[0] > 1:
        print(f"  mean of {seeds['seeds'].iloc[0]} seeds [95% t-interval across seeds]:")
        for row in seeds.itertuples():
            print(f"    trial {row.trial}: {row.mean:.3f} [{row.ci95_low:.3f}, {row.ci95_high:.3f}]")
