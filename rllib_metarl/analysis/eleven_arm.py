"""Eleven-armed bandit: over training, how often the agent pulls the informative arm first, and then the target.

    python -m analysis.eleven_arm --experiment ~/ray_results/eleven_arm-20261122-093000

Wang et al. 2016 (Fig. 4) judged the agent by this strategy, not by return alone: the Bayes-optimal policy pulls the
informative arm first in every trial and the target arm in every pull after it. The curves come from the per-trial
metrics the env reports during training (sampled actions, moving mean over the last 200 trials per iteration); the
final figures from the runner's held-out evaluation (``eval_trials.csv``, frozen weights, greedy). Writes
``eleven_arm_strategy.csv`` and ``eleven_arm_strategy.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from rllib_metarl.analysis.figures import plt, save_figure
from rllib_metarl.analysis.load import load_experiment
from rllib_metarl.training.runner import EVAL_TRIALS_FILE
from rllib_metarl.utils.atomic_io import write_csv

RATES = {"informative_first": "informative arm first", "target_after_informative": "target after informative"}


def strategy_over_training(experiment: str | Path) -> pd.DataFrame:
    """One row per trial (seed) and iteration: env steps, time, return and the two strategy rates."""
    loaded = load_experiment(experiment)
    if loaded.task != "eleven_arm":
        raise ValueError(f"{str(experiment)!r} trained on {loaded.task!r}, not on eleven_arm")
    columns = ["seed", "training_iteration", "time_total_s", "env_steps", "return", *RATES]
    return loaded.histories.reindex(columns=columns)


def final_strategy(experiment: str | Path) -> dict[str, float] | None:
    """The rates of the held-out evaluation, if the runner wrote one."""
    trials_file = Path(experiment).expanduser() / EVAL_TRIALS_FILE
    if not trials_file.exists():
        return None
    trials = pd.read_csv(trials_file)
    informative_first = trials["informative_first"].mean()
    # target_after_informative is only defined in trials that started with the informative arm (NaN otherwise).
    return {
        "informative_first": informative_first,
        "target_after_informative": trials["target_after_informative"].mean(),
    }


def plot(history: pd.DataFrame, final: dict[str, float] | None, output: Path) -> Path:
    figure, axis = plt.subplots(figsize=(7, 4.5))
    for (seed, part), style in zip(history.groupby("seed"), ["-", "--", ":", "-."] * 8, strict=False):
        for (column, label), color in zip(RATES.items(), ["tab:blue", "tab:orange"], strict=True):
            axis.plot(part["env_steps"], part[column], style, color=color, label=f"{label}, seed {seed}")
    if final:
        for (column, label), color in zip(RATES.items(), ["tab:blue", "tab:orange"], strict=True):
            axis.axhline(
                final[column], color=color, alpha=0.4, linewidth=4, label=f"{label}, held-out: {final[column]:.3f}"
            )
    axis.set_xlabel("env steps")
    axis.set_ylabel("rate per trial (training, sampled actions)")
    axis.set_ylim(0.0, 1.05)
    axis.grid(alpha=0.3)
    axis.legend(fontsize="small", loc="lower right")
    return save_figure(figure, output)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiment", required=True, help="a tune_configs/eleven_arm.py experiment folder")
    parser.add_argument("--output-dir", help="where the CSV and PNG go (default: the experiment folder)")
    args = parser.parse_args(argv)
    try:
        history = strategy_over_training(args.experiment)
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    final = final_strategy(args.experiment)
    output_dir = Path(args.output_dir or args.experiment).expanduser()
    output_dir.mkdir(parents=True, exist_ok=True)
    write_csv(history, output_dir / "eleven_arm_strategy.csv")
    plot(history, final, output_dir / "eleven_arm_strategy.png")
    for seed, part in history.groupby("seed"):
        reached = part[part["informative_first"] >= 0.95]
        when = f"{int(reached['env_steps'].iloc[0])} env steps" if len(reached) else "never"
        last = part.iloc[-1]
        print(f"seed {seed}: informative arm first in >= 95% of trials after {when}; at the end "
              f"{last['informative_first']:.3f}, target after it {last['target_after_informative']:.3f}")  # fmt: skip
    if final:
        print(f"held-out (frozen, greedy): informative first {final['informative_first']:.3f}, "
              f"target after informative {final['target_after_informative']:.3f}")  # fmt: skip
    print(f"Written: {output_dir / 'eleven_arm_strategy.csv'}, {output_dir / 'eleven_arm_strategy.png'}")
    return history
