"""Harlow task: the fraction of correct choices per trial index (1..6) on held-out objects, over training.

    python -m analysis.harlow --experiment ~/ray_results/harlow-20261122-093000

A learned "learning set" shows as chance (50%) on trial 1, when the agent cannot know which of two novel objects pays,
and near 100% on trials 2-6. Two sources, both on objects from the held-out pool:
- over training: the greedy evaluation the Harlow preset runs every few iterations (``held_out/correct_trial_<i>`` in
  the Tune results);
- the final agent: the experiment's best checkpoint, frozen, on ``--episodes`` held-out episodes.
Writes ``harlow_accuracy.csv`` (the final agent, one row per trial index), ``harlow_training.csv`` (one row per
evaluation during training) and ``harlow_accuracy.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from rllib_metarl.analysis.figures import plt, save_figure
from rllib_metarl.analysis.load import experiment_checkpoint, load_experiment
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
    from rllib_metarl.evaluation import load_module, play_module, resolve_task
    from rllib_metarl.tasks.registry import get_task

    task_name, env_config = resolve_task(checkpoint)
    if task_name != "harlow":
        raise ValueError(f"{checkpoint!r} was trained on {task_name!r}, not on harlow")
    held_out = get_task(task_name).held_out_config(env_config)
    _, steps = play_module(load_module(checkpoint), task_name, held_out, episodes, seed)
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


def plot(final: pd.DataFrame, training: pd.DataFrame, output: Path) -> Path:
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    trial_columns = [c for c in training.columns if c.startswith("trial_")]
    best_seed = training.groupby("seed")[trial_columns[1:]].mean().mean(axis=1).idxmax()
    curve = training[training["seed"] == best_seed]
    for position in sorted({0, min(1, len(curve) - 1), len(curve) - 1}):  # the first two and the last evaluation
        row = curve.iloc[position]
        left.plot(range(1, len(trial_columns) + 1), row[trial_columns], marker="o", alpha=0.6,
                  label=f"iteration {int(row['training_iteration'])} (seed {best_seed})")  # fmt: skip
    errors = [final["correct"] - final["ci95_low"], final["ci95_high"] - final["correct"]]
    left.errorbar(final["trial"], final["correct"], yerr=errors, marker="o", color="black", capsize=3,
                  label=f"final agent, {int(final['episodes'].iloc[0])} episodes")  # fmt: skip
    left.axhline(0.5, color="grey", linestyle=":", label="chance")
    left.set_xlabel("trial within episode")
    left.set_ylabel("fraction correct (held-out objects)")
    left.set_ylim(0.0, 1.05)
    left.legend(fontsize="small", loc="lower right")
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
    parser.add_argument("--experiment", required=True, help="a finished tune_configs/harlow.py experiment")
    parser.add_argument("--episodes", type=positive_int, default=1000, help="held-out episodes for the final agent")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out episodes")
    parser.add_argument("--output-dir", help="where the CSVs and PNG go (default: the experiment folder)")
    args = parser.parse_args(argv)
    try:
        training = accuracy_over_training(args.experiment)
        final = final_accuracy(experiment_checkpoint(args.experiment), args.episodes, args.seed)
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    output_dir = Path(args.output_dir or args.experiment).expanduser()
    output_dir.mkdir(parents=True, exist_ok=True)
    write_csv(final, output_dir / "harlow_accuracy.csv")
    write_csv(training, output_dir / "harlow_training.csv")
    plot(final, training, output_dir / "harlow_accuracy.png")
    print(f"Final agent, {args.episodes} held-out episodes, greedy: fraction correct [95% interval]")
    for row in final.itertuples():
        print(f"  trial {row.trial}: {row.correct:.3f} [{row.ci95_low:.3f}, {row.ci95_high:.3f}]")
    later = final[final["trial"] > 1]["correct"].mean()
    print(f"  trials 2-{final['trial'].max()}: {later:.3f}")
    print(f"Written: {output_dir / 'harlow_accuracy.csv'}, {output_dir / 'harlow_training.csv'}, "
          f"{output_dir / 'harlow_accuracy.png'}")  # fmt: skip
    return final
