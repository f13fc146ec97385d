"""The seeds axis of the behavioural analyses: the agent of every training seed of one or more experiments, and a
figure's mean over those seeds with a 95% t-interval across them."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from rllib_metarl.training.metrics import CHECKPOINT_SCORE
from rllib_metarl.utils.stats import seeds_interval

TRAINED = "trained agent"  # the label of the trained agents' rows, beside the reference players'


def trial_checkpoints(experiments: list[str | Path]) -> list[tuple[int, str]]:
    """(seed, best checkpoint by training return) of every Tune trial of every experiment, sorted by seed: the seeds
    axis of the behavioural analyses."""
    from ray.tune import ExperimentAnalysis

    found = []
    for experiment in experiments:
        path = Path(experiment).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"{str(path)!r} is not an experiment folder")
        analysis = ExperimentAnalysis(str(path.resolve()))
        for trial in analysis.trials:
            checkpoint = analysis.get_best_checkpoint(trial, metric=CHECKPOINT_SCORE, mode="max")
            if checkpoint is not None:
                found.append((int(trial.config["seed"]), checkpoint.path))
    if not found:
        raise FileNotFoundError(f"no trial with a checkpoint in {', '.join(map(str, experiments))}")
    seeds = [seed for seed, _ in found]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"the experiments share seeds ({sorted(seeds)}): each seed must be trained once")
    return sorted(found)


def across_seeds(frame: pd.DataFrame, value: str, keys: list[str]) -> pd.DataFrame:
    """Per agent and ``keys``: the mean of ``value`` over the seeds, its 95% t-interval across them, the seeds."""
    rows = []
    for group, part in frame.groupby(["agent", *keys], sort=False):
        rows.append({**dict(zip(["agent", *keys], group, strict=True)), **seeds_interval(part[value]),
                     "seeds": part["seed"].nunique()})  # fmt: skip
    return pd.DataFrame(rows)


def add_agent_arguments(parser: argparse.ArgumentParser, task: str | None = None) -> None:
    """The agents an analysis (of ``task``, or of any task) plays: ``--experiment`` (one or more, every trial's best
    checkpoint) or ``--checkpoint``, and where its files go, ``--output-dir``."""
    script = f"tune_configs/{task}.py" if task else "tune_configs"
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--experiment", nargs="+", help=f"finished {script} experiments: every trial (seed) with its "
                        "best checkpoint")  # fmt: skip
    source.add_argument("--checkpoint", help=f"an algorithm checkpoint trained on {task or 'the task'}")
    parser.add_argument("--output-dir", help="where the CSVs and PNG go (default: the first experiment, else "
                        "analysis/results)")  # fmt: skip


def agents_of(args: argparse.Namespace) -> list[tuple[int, str]]:
    """(training seed, checkpoint) of each agent the arguments name; none: the references alone."""
    if args.checkpoint:
        return [(0, args.checkpoint)]
    return trial_checkpoints(args.experiment) if args.experiment else []


def output_dir_of(args: argparse.Namespace) -> Path:
    """The folder the analysis writes to, created: ``--output-dir``, else the first experiment, else the project's
    analysis/results."""
    output_dir = Path(args.output_dir or (args.experiment or ["analysis/results"])[0]).expanduser()
    output_dir.mkdir(parents=True, exist_ok=True)
    return output_dir
