"""The one experiment runner behind every ``tune_configs/*.py``.

``main("eleven_arm")`` parses the command line, checks every input before Ray starts, trains under a Tune scheduler
(a local Ray closed to the network, or an existing cluster with ``--address``), evaluates the best checkpoint with
frozen weights on held-out trials and writes ``summary.csv`` beside the Tune results. Re-running with the same
``--name`` resumes an interrupted experiment from its last checkpoints.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from rllib_metarl.evaluation import evaluate_checkpoint, module_path, summarize
from rllib_metarl.tasks import get_task
from rllib_metarl.training.command_line import EnvOption, Experiment, parse_experiment
from rllib_metarl.training.curriculum import curriculum_stages, describe, stage_settings
from rllib_metarl.training.experiment_folder import ExperimentBusy, SettingsDiffer, check_same_experiment, running
from rllib_metarl.training.initial_weights import PRETRAINED_DIR, PRETRAINING_STATS, check_initial_weights, pretrained
from rllib_metarl.training.metrics import METRICS_WINDOW
from rllib_metarl.training.ray_session import prepare_ray_environment, start_ray
from rllib_metarl.training.storage import SpaceWatch, repair_tune_state
from rllib_metarl.training.tune_setup import best_checkpoint, checkpoint_metrics, make_tuner
from rllib_metarl.utils.atomic_io import disk_error_message, write_csv

SUMMARY_FILE = "summary.csv"
EVAL_TRIALS_FILE = "eval_trials.csv"


class DiskFull(RuntimeError):
    """The run stopped, resumable, before its disk filled."""


def run(experiment: Experiment) -> dict[str, Any]:
    """Train, evaluate the best checkpoint on held-out trials, write summary.csv; return the summary row."""
    started = time.time()
    # Tune's newer console output ignores custom reporters and prints the whole RLlib config; use the classic table.
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    # Ctrl-C interrupts the run (KeyboardInterrupt, exit 130). Tune's own handler would end fit() quietly instead,
    # and the half-trained agent would be evaluated and summarized as if finished.
    os.environ["TUNE_DISABLE_SIGINT_HANDLER"] = "1"
    session = start_ray(experiment.address, experiment.dashboard)
    print(f"Ray:           {session.describe()}")
    print(f"Ray Dashboard: {session.dashboard_url or 'off'}")
    if session.dashboard_url and session.token_file:
        print(f"               it asks for this run's token: `ray get-auth-token` prints it ({session.token_file})")
    print(f"Tune results:  {experiment.path}")
    print(f"TensorBoard:   tensorboard --logdir {experiment.path}", flush=True)

    for name in repair_tune_state(experiment.path):
        print(f"{name} was cut short (a full disk?): its last complete version is put back", flush=True)
    tuner = make_tuner(experiment)
    with SpaceWatch(experiment.path, experiment.concurrent_trials) as watch:
        results = tuner.fit()
    if watch.stopped:
        raise DiskFull(f"the run stopped: {watch.stopped}")
    for error in results.errors:
        print(f"A trial failed: {str(error).splitlines()[0][:300]}", file=sys.stderr)
    best, checkpoint = best_checkpoint(results)
    summary: dict[str, Any] = {
        "experiment": str(experiment.path),
        "failed_trials": len(results.errors),
        "best_trial": Path(best.path).name,
        "checkpoint": checkpoint.path,
        **checkpoint_metrics(best, checkpoint),
        "train_wall_time_s": round(time.time() - started, 1),
        "command": experiment.command,
    }
    if experiment.preset.pretrain_memory_s:  # the training budget is pretraining plus the Tune run
        summary.update(json.loads((experiment.path / PRETRAINED_DIR / PRETRAINING_STATS).read_text()))
    if experiment.eval_trials:
        held_out_config = get_task(experiment.task).held_out_config(experiment.env_config)
        trials = evaluate_checkpoint(
            checkpoint.path, experiment.task, held_out_config, experiment.eval_trials, seed=experiment.seed
        )
        write_csv(trials, experiment.path / EVAL_TRIALS_FILE)
        summary = {**summarize(trials, experiment.task, held_out_config), **summary}
    summary["total_wall_time_s"] = round(time.time() - started, 1)
    write_csv(pd.DataFrame([summary]), experiment.path / SUMMARY_FILE)
    print_summary(summary, experiment)
    return summary


def print_summary(summary: dict[str, Any], experiment: Experiment) -> None:
    print()
    print(f"Best checkpoint (highest training return, last {METRICS_WINDOW} trials): {summary['checkpoint']}")
    if "mean_return" in summary:
        print(
            f"Held-out evaluation, frozen weights, greedy actions, {summary['trials']} trials of {experiment.task}: "
            f"mean return {summary['mean_return']:.3f} (95% CI {summary['ci95_low']:.3f} to {summary['ci95_high']:.3f})"
        )
        references = [f"{name} {summary[f'{name}_return']:.3f}" for name in ("optimal", "random")]
        print("  " + "   ".join(r.replace("optimal", "optimum") for r in references if not r.endswith("nan")))
    print(f"Wall time: {summary['total_wall_time_s']:.0f} s   Summary: {experiment.path / SUMMARY_FILE}")


def main(
    task_name: str,
    argv: list[str] | None = None,
    variants: dict[str, str] | None = None,
    env_options: tuple[EnvOption, ...] = (),
) -> int:
    """Entry point of every ``tune_configs/*.py``: ``variants`` adds ``--difficulty``, ``env_options`` task flags."""
    experiment = parse_experiment(task_name, argv, variants, env_options)
    try:
        check_same_experiment(experiment)
        # Once, here: a curriculum's stages run as experiments of their own inside this one, which is what resumes.
        print(f"After an interruption, resume with the same command and --resume (or --name {experiment.name})",
              flush=True)  # fmt: skip
        with running(experiment):
            return train_curriculum(experiment) if experiment.preset.curriculum else train(experiment)
    except (SettingsDiffer, ExperimentBusy) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\nInterrupted: nothing was evaluated or summarized; {resume_hint(experiment)}", file=sys.stderr)
        return 130
    except DiskFull as error:
        print(f"error: {error}; free some space, then {resume_hint(experiment)}", file=sys.stderr)
        return 1
    except OSError as error:
        message = disk_error_message(error)
        if message is None:
            raise
        print(f"error: {message}; free some space or fix the permissions, then {resume_hint(experiment)}",
              file=sys.stderr)  # fmt: skip
        return 1


def resume_hint(experiment: Experiment) -> str:
    return f"resume with the same command and --name {experiment.name}"


def train_curriculum(experiment: Experiment) -> int:
    """Train the curriculum's stages in turn (``training.curriculum``), each from the stage before's best checkpoint,
    skipping those already summarized; then write the curriculum's summary: the last stage's, with every stage's
    training time. The exit code."""
    stages = curriculum_stages(get_task(experiment.task), experiment.preset)
    init_from, summaries = experiment.init_from, []
    for index, stage in enumerate(stages):
        name, env_config, preset = stage_settings(stage, index, experiment.env_config, experiment.preset)
        stage_experiment = replace(experiment, env_config=env_config, preset=preset, storage_path=experiment.path,
                                   name=name, init_from=init_from)  # fmt: skip
        print(f"\nCurriculum stage {index + 1} of {len(stages)}: {stage.name}, {stage.budget_s:g} s "
              f"({stage_experiment.path})", flush=True)  # fmt: skip
        if not (stage_experiment.path / SUMMARY_FILE).exists():
            check_same_experiment(stage_experiment)
            with running(stage_experiment):
                code = train(stage_experiment)
            import ray  # imported by the stage's run, after its settings (training.ray_session)

            ray.shutdown()  # the next stage starts its own
            if code:
                return code
        summaries.append(pd.read_csv(stage_experiment.path / SUMMARY_FILE).iloc[0].to_dict())
        print(f"Stage {stage.name} done: held-out return {summaries[-1].get('mean_return', float('nan')):.3f}")
        init_from = module_path(summaries[-1]["checkpoint"])
    summary = {
        **summaries[-1],
        "experiment": str(experiment.path),
        "curriculum": describe(stages),
        "train_wall_time_s": round(sum(s["train_wall_time_s"] for s in summaries), 1),
        "total_wall_time_s": round(sum(s["total_wall_time_s"] for s in summaries), 1),
        "command": experiment.command,
    }
    write_csv(pd.DataFrame([summary]), experiment.path / SUMMARY_FILE)
    print(f"\nCurriculum {describe(stages)} done: the last stage's agent is the experiment's ({summary['checkpoint']})")
    return 0


def train(experiment: Experiment) -> int:
    """Pretrain or check the starting weights, train, evaluate; the exit code."""
    if experiment.preset.pretrain_memory_s:
        prepare_ray_environment(experiment.address)  # before Ray's first import, which pretraining makes
        experiment = pretrained(experiment)
    elif experiment.init_from is not None:
        prepare_ray_environment(experiment.address)  # before Ray's first import, which the check below makes
        try:
            check_initial_weights(experiment)
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    summary = run(experiment)
    if summary["failed_trials"]:
        print(f"{summary['failed_trials']} trial(s) failed; the figures above come from the others or partial runs.",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0
