"""The seeds axis of the behavioural analyses: the agent of every training seed of one or more experiments, and a
figure's mean over those seeds with a 95% t-interval across them."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from rllib_metarl.cli.arguments import non_negative_int
from rllib_metarl.evaluation import evaluate_module, load_module, resolve_task
from rllib_metarl.training.metrics import CHECKPOINT_SCORE
from rllib_metarl.utils.seeding import TUNING_STREAM
from rllib_metarl.utils.stats import seeds_interval

TRAINED = "trained agent"  # the label of the trained agents' rows, beside the reference players'


def trial_checkpoints(
    experiments: list[str | Path], checkpoint_trials: int = 0, seed: int = 0
) -> list[tuple[int, str]]:
    """(seed, checkpoint) of every Tune trial of every experiment, sorted by seed: the seeds axis of the behavioural
    analyses.

    Each trial's checkpoint is the one with the highest training return (``CHECKPOINT_SCORE``), or, with
    ``checkpoint_trials``, the one of the checkpoints Tune kept (:func:`kept_checkpoints`) with the highest greedy
    return on that many tuning trials (``TUNING_STREAM`` from ``seed``, disjoint from the held-out ones): the training
    return of a window of trials ranks a plateau's checkpoints by luck more than by skill.
    """
    from ray.tune import ExperimentAnalysis

    found = []
    for experiment in experiments:
        path = Path(experiment).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"{str(path)!r} is not an experiment folder")
        analysis = ExperimentAnalysis(str(path.resolve()))
        kept = kept_checkpoints(path) if checkpoint_trials else {}
        for trial in analysis.trials:
            checkpoint = analysis.get_best_checkpoint(trial, metric=CHECKPOINT_SCORE, mode="max")
            if checkpoint is None:
                continue
            chosen = checkpoint.path
            if checkpoint_trials:
                candidates = [saved for saved, _ in kept[int(trial.config["seed"])]]
                chosen = best_on_tuning_trials(candidates, checkpoint_trials, seed)
            found.append((int(trial.config["seed"]), chosen))
    if not found:
        raise FileNotFoundError(f"no trial with a checkpoint in {', '.join(map(str, experiments))}")
    trained = [training_seed for training_seed, _ in found]
    if len(set(trained)) != len(trained):
        raise ValueError(f"the experiments share seeds ({sorted(trained)}): each seed must be trained once")
    return sorted(found)


def kept_checkpoints(experiment: str | Path) -> dict[int, list[tuple[str, int]]]:
    """Training seed -> (checkpoint, training iteration) of every checkpoint Tune kept of that seed's trial in the Tune
    experiment folder ``experiment``: the best by training return and the latest, oldest first."""
    from ray.tune import ExperimentAnalysis, ResultGrid

    kept: dict[int, list[tuple[str, int]]] = {}
    for result in ResultGrid(ExperimentAnalysis(str(Path(experiment).expanduser().resolve()))):
        saved = {checkpoint.path: metrics for checkpoint, metrics in result.best_checkpoints or []}
        if result.checkpoint is not None:
            saved.setdefault(result.checkpoint.path, result.metrics or {})
        kept[int(result.config["seed"])] = sorted(
            ((path, int(metrics.get("training_iteration", 0))) for path, metrics in saved.items()),
            key=lambda entry: entry[1],
        )
    return kept


def best_on_tuning_trials(checkpoints: list[str], trials: int, seed: int = 0) -> str:
    """The checkpoint with the highest mean return, greedy, on ``trials`` tuning trials of the task it trained on."""
    if len(checkpoints) == 1:
        return checkpoints[0]
    task_name, env_config = resolve_task(checkpoints[0])
    scores = {}
    for checkpoint in checkpoints:
        played = evaluate_module(load_module(checkpoint), task_name, env_config, trials, seed, stream=TUNING_STREAM)
        scores[checkpoint] = float(played["return"].mean())
        print(f"  {Path(checkpoint).parent.name[:40]}/{Path(checkpoint).name}: {scores[checkpoint]:.3f} "
              f"on {trials} tuning trials", flush=True)  # fmt: skip
    return max(checkpoints, key=scores.__getitem__)


def across_seeds(frame: pd.DataFrame, value: str, keys: list[str]) -> pd.DataFrame:
    """Per agent and ``keys``: the mean of ``value`` over the seeds, its 95% t-interval across them, the seeds."""
    rows = []
    for group, part in frame.groupby(["agent", *keys], sort=False):
        rows.append({**dict(zip(["agent", *keys], group, strict=True)), **seeds_interval(part[value]),
                     "seeds": part["seed"].nunique()})  # fmt: skip
    return pd.DataFrame(rows)


def add_agent_arguments(parser: argparse.ArgumentParser, task: str | None = None) -> None:
    """The agents an analysis (of ``task``, or of any task) plays: ``--experiment`` (one or more, every trial's best
    checkpoint, chosen as ``--checkpoint-trials`` says) or ``--checkpoint``, and where its files go,
    ``--output-dir``."""
    script = f"tune_configs/{task}.py" if task else "tune_configs"
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--experiment", nargs="+", help=f"finished {script} experiments: every trial (seed) with its "
                        "best checkpoint")  # fmt: skip
    source.add_argument("--checkpoint", help=f"an algorithm checkpoint trained on {task or 'the task'}")
    add_checkpoint_trials_argument(parser)
    parser.add_argument("--output-dir", help="where the CSVs and PNG go (default: the first experiment, else "
                        "analysis/results)")  # fmt: skip


def add_checkpoint_trials_argument(parser: argparse.ArgumentParser) -> None:
    """``--checkpoint-trials N``: how each seed's checkpoint is chosen (:func:`trial_checkpoints`)."""
    parser.add_argument("--checkpoint-trials", type=non_negative_int, default=0, metavar="N",
                        help="choose each seed's checkpoint among those Tune kept by greedy return on N tuning trials "
                        "(default 0: the one with the highest training return)")  # fmt: skip


def agents_of(args: argparse.Namespace) -> list[tuple[int, str]]:
    """(training seed, checkpoint) of each agent the arguments name; none: the references alone."""
    if args.checkpoint:
        return [(0, args.checkpoint)]
    return trial_checkpoints(args.experiment, args.checkpoint_trials) if args.experiment else []


def output_dir_of(args: argparse.Namespace) -> Path:
    """The folder the analysis writes to, created: ``--output-dir``, else the first experiment, else the project's
    analysis/results."""
    output_dir = Path(args.output_dir or (args.experiment or ["analysis/results"])[0]).expanduser()
    output_dir.mkdir(parents=True, exist_ok=True)
    return output_dir
