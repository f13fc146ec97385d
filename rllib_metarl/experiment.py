"""The one experiment runner behind every ``tune_configs/*.py``.

``main("eleven_arm")`` parses the command line, checks every input before Ray starts, trains PPO + LSTM under a Tune
scheduler (a local Ray with its dashboard, or an existing cluster with ``--address``), evaluates the best checkpoint
with frozen weights on held-out trials and writes ``summary.csv`` beside the Tune results. Re-running with the same
``--name`` resumes an interrupted experiment from its last checkpoints.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from rllib_metarl.cli import discount, key_value, non_negative_float, non_negative_int, positive_float, positive_int
from rllib_metarl.evaluation import module_path, saved_module_state
from rllib_metarl.presets import (
    ALGORITHMS,
    ATTENTION_WINDOWS,
    CHECKPOINT_SCORE,
    CORES,
    RETURN_METRIC,
    Preset,
    get_preset,
)
from rllib_metarl.ray_session import prepare_ray_environment, start_ray
from rllib_metarl.registry import TASKS, get_task

SCHEDULERS = ("asha", "pbt", "fifo")
DEFAULT_STORAGE = "~/ray_results"
SUMMARY_FILE = "summary.csv"
EVAL_TRIALS_FILE = "eval_trials.csv"
PRETRAINED_DIR = "pretrained_memory"  # in the experiment's folder: the RLModule that --pretrain-memory trained
PRETRAINING_STATS = "pretraining.json"  # in PRETRAINED_DIR: its seconds, trials and final loss


@dataclass(frozen=True)
class EnvOption:
    """A task parameter that one experiment script exposes as its own flag (e.g. ``--k`` for the number of arms)."""

    flags: tuple[str, ...]
    key: str  # the env constructor's parameter (or, with ``expand``, the flag's own name)
    type: Callable[[str], Any]
    help: str
    choices: tuple[str, ...] | None = None
    # A flag that stands for several parameters (e.g. a published variant): value -> env constructor overrides.
    expand: Callable[[Any], dict[str, Any]] | None = None

    def env_overrides(self, value: Any) -> dict[str, Any]:
        return self.expand(value) if self.expand else {self.key: value}


@dataclass
class Experiment:
    """Everything one run needs, checked before Ray starts."""

    task: str
    env_config: dict[str, Any]
    preset: Preset
    seed: int
    scheduler: str
    storage_path: Path
    name: str
    address: str | None
    eval_trials: int
    dashboard: bool
    init_from: Path | None = None  # the RLModule folder of a checkpoint whose weights the run starts from

    @property
    def path(self) -> Path:
        return self.storage_path / self.name


# -- command line -----------------------------------------------------------------------------------------------------
class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Appends a flag's default to its help, unless it has none (None: the preset decides) or the help names it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or "(default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def build_parser(
    task_name: str, variants: dict[str, str] | None = None, env_options: tuple[EnvOption, ...] = ()
) -> argparse.ArgumentParser:
    task = get_task(task_name)
    parser = argparse.ArgumentParser(
        description=f"Train a meta-RL agent (PPO + LSTM by default) on {task.name}: {task.description}.",
        formatter_class=DefaultsHelpFormatter,
    )
    if variants:
        parser.add_argument("--difficulty", choices=list(variants), default=next(iter(variants)), help="task variant")
    else:
        parser.add_argument("-e", "--env", choices=list(TASKS), default=task_name, help="task to train on")
    parser.add_argument("-n", "--n", "--trial-length", dest="trial_length", type=positive_int, metavar="N",
                        help=f"{task.trial_size_unit} per trial, the papers' n (default: the task's)")  # fmt: skip
    for option in env_options:
        parser.add_argument(
            *option.flags,
            dest=option.key,
            type=option.type,
            choices=option.choices,
            help=f"{option.help} (default: the task's)",
        )
    parser.add_argument(
        "-m", "--meta", action=argparse.BooleanOptionalAction, default=True,
        help="meta mode: new task every trial; --no-meta keeps one task (the original scripts' -m flag)",
    )  # fmt: skip
    parser.add_argument("--env-arg", type=key_value, action="append", default=[], metavar="KEY=VALUE",
                        help="any other task parameter, e.g. --env-arg num_arms=10 (repeatable)")  # fmt: skip
    parser.add_argument(
        "-w", "--num-workers", type=non_negative_int, help="remote env runners per trial (default: the preset's)"
    )
    parser.add_argument(
        "--envs-per-worker", type=positive_int, help="env copies per env runner (default: the preset's)"
    )
    parser.add_argument("--algo", choices=ALGORITHMS,
                        help="ppo, appo, impala (RLlib's), or a2c (rllib_metarl.a2c) (default: the preset's, "
                        "ppo)")  # fmt: skip
    parser.add_argument("--core", choices=CORES,
                        help="memory core: lstm, gru, or causal attention (default: the preset's; attention for "
                        "tabular_mdp, lstm elsewhere)")  # fmt: skip
    parser.add_argument("--attention-window", type=int, choices=ATTENTION_WINDOWS,
                        help="attention core: steps per token, 2 joins each step with the one before "
                        "(default: the preset's)")  # fmt: skip
    parser.add_argument("--no-tokenizer", action="store_true",
                        help="attention core: no MLP before it, its first layer embeds the input")  # fmt: skip
    parser.add_argument("--share-core", action="store_true",
                        help="one memory core for the policy and the value function (default: one each)")  # fmt: skip
    parser.add_argument("--lr", type=positive_float, help="learning rate (default: the preset's)")
    parser.add_argument(
        "--lr-final", type=positive_float, help="decay the learning rate linearly to this over --lr-decay-steps"
    )
    parser.add_argument("--lr-decay-steps", type=positive_int, help="sampled env steps to reach --lr-final")
    parser.add_argument("--gamma", type=discount, help="discount factor (default: the preset's)")
    parser.add_argument("--entropy-coeff", type=non_negative_float,
                        help="weight of the policy's entropy bonus (default: the preset's)")  # fmt: skip
    parser.add_argument("--num-epochs", type=positive_int,
                        help="PPO and APPO: passes over each rollout (default: the preset's, 6)")  # fmt: skip
    parser.add_argument("--reward-prediction", type=non_negative_float, metavar="COEFF",
                        help="PPO: weight of an auxiliary loss that predicts each step's reward from the memory core "
                        "(rllib_metarl.auxiliary; default: the preset's, 0)")  # fmt: skip
    parser.add_argument("--reward-logits", type=non_negative_float, metavar="WEIGHT",
                        help="with --reward-prediction: the policy's logits add the predicted rewards times a "
                        "learned weight that starts at WEIGHT (rllib_metarl.auxiliary; default: the preset's, "
                        "0: no)")  # fmt: skip
    parser.add_argument(
        "--num-samples", type=positive_int, help="Tune trials, seeded seed, seed+1, ... (default: the preset's)"
    )
    parser.add_argument("--scheduler", choices=SCHEDULERS, default="asha", help="Tune trial scheduler")
    parser.add_argument(
        "--stop-iters", type=positive_int, help="stop a trial after this many iterations (default: the preset's)"
    )
    parser.add_argument(
        "--stop-time",
        type=positive_float,
        help="stop a trial after this many seconds of training (default: the preset's)",
    )
    parser.add_argument(
        "--stop-return",
        type=float,
        help="stop a trial once its mean training return reaches this (default: the preset's)",
    )
    parser.add_argument(
        "--checkpoint-every", type=positive_int, help="checkpoint every N iterations (default: the preset's)"
    )
    parser.add_argument("--seed", type=int, default=0, help="base seed; trial i uses seed + i")
    parser.add_argument("--init-from", metavar="CHECKPOINT",
                        help="start from the network weights of an earlier run's checkpoint, e.g. one trained on "
                        "longer trials (a curriculum); the optimizer and counters start afresh")  # fmt: skip
    parser.add_argument("--pretrain-memory", type=non_negative_float, metavar="SECONDS",
                        help="with --reward-prediction: first train the memory core and the reward head on trials of "
                        "random play for SECONDS (rllib_metarl.pretraining), then start the run from them; 0: not "
                        "(default: the preset's)")  # fmt: skip
    parser.add_argument("--storage-path", default=DEFAULT_STORAGE, help="where Tune writes results and checkpoints")
    parser.add_argument("--name", help="experiment name (default: <task>-<time>); an existing one is resumed")
    parser.add_argument(
        "--resume", action="store_true", help="resume this task's latest experiment (or the one --name names)"
    )
    parser.add_argument(
        "--address",
        default=os.environ.get("RAY_ADDRESS"),
        help="an existing Ray cluster's address (default: $RAY_ADDRESS, set inside `ray job submit`; else a local Ray)",
    )
    parser.add_argument("--eval-trials", type=non_negative_int, default=1000,
                        help="held-out trials for the final frozen-weight evaluation (0 skips it)")  # fmt: skip
    parser.add_argument("--no-dashboard", action="store_true", help="do not start the Ray Dashboard (local Ray)")
    return parser


def parse_experiment(
    task_name: str,
    argv: list[str] | None = None,
    variants: dict[str, str] | None = None,
    env_options: tuple[EnvOption, ...] = (),
) -> Experiment:
    """Parse and check the command line; usage errors exit with code 2 before anything starts."""
    parser = build_parser(task_name, variants, env_options)
    args = parser.parse_args(argv)
    task = get_task(variants[args.difficulty] if variants else args.env)

    env_config: dict[str, Any] = dict(args.env_arg)
    if args.trial_length is not None:
        env_config[task.trial_size_parameter] = args.trial_length
    for option in env_options:
        if getattr(args, option.key) is not None:
            env_config.update(option.env_overrides(getattr(args, option.key)))
    env_config["meta"] = args.meta
    if not args.meta:
        env_config.setdefault("task_seed", args.seed)  # one task shared by every env copy and the evaluation
    try:
        task.make(**env_config)  # the env validates its own parameters
    except (TypeError, ValueError) as error:
        parser.error(f"{task.name}: {error}")

    if (args.lr_final is None) != (args.lr_decay_steps is None):
        parser.error("--lr-final and --lr-decay-steps go together: give both or neither")
    if args.scheduler == "pbt" and args.lr_final is not None:
        parser.error("--scheduler pbt mutates the learning rate itself: drop --lr-final and --lr-decay-steps")
    try:
        preset = get_preset(
            task.name,
            algo=args.algo,
            core=args.core,
            attention_window=args.attention_window,
            tokenizer_hiddens=() if args.no_tokenizer else None,
            vf_share_layers=True if args.share_core else None,
            lr=args.lr,
            lr_final=args.lr_final,
            lr_decay_steps=args.lr_decay_steps,
            gamma=args.gamma,
            entropy_coeff=args.entropy_coeff,
            reward_prediction_coeff=args.reward_prediction,
            reward_logits_weight=args.reward_logits,
            pretrain_memory_s=args.pretrain_memory,
            num_epochs=args.num_epochs,
            num_workers=args.num_workers,
            envs_per_worker=args.envs_per_worker,
            num_samples=args.num_samples,
            stop_iters=args.stop_iters,
            stop_time_s=args.stop_time,
            stop_return=args.stop_return,
            checkpoint_every=args.checkpoint_every,
        )
    except ValueError as error:
        parser.error(str(error))
    if args.scheduler == "pbt" and preset.num_samples < 2:
        parser.error(f"--scheduler pbt needs --num-samples of at least 2, got {preset.num_samples}")
    storage_path = Path(args.storage_path).expanduser().resolve()
    try:
        storage_path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        parser.error(f"--storage-path {str(storage_path)!r} cannot be created: {error.strerror}")
    if not os.access(storage_path, os.W_OK):
        parser.error(f"--storage-path {str(storage_path)!r} is not writable")
    name = args.name or (latest_experiment(storage_path, task.name) if args.resume else None)
    if args.resume and name is None:
        parser.error(f"--resume: no experiment of {task.name} to resume in {str(storage_path)!r}")
    if args.resume and not (storage_path / name).is_dir():
        parser.error(f"--resume: no experiment {name!r} in {str(storage_path)!r}")
    name = name or f"{task.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        init_from = module_path(args.init_from).resolve() if args.init_from is not None else None
    except FileNotFoundError as error:
        parser.error(f"--init-from: {error}")
    if init_from is not None and preset.pretrain_memory_s:
        if args.pretrain_memory:
            parser.error("--pretrain-memory and --init-from both give the starting weights: give one")
        preset = replace(preset, pretrain_memory_s=0.0)  # the checkpoint replaces the preset's pretraining
    return Experiment(
        task=task.name,
        env_config=env_config,
        preset=preset,
        seed=args.seed,
        scheduler=args.scheduler,
        storage_path=storage_path,
        name=name,
        address=args.address,
        eval_trials=args.eval_trials,
        dashboard=not args.no_dashboard,
        init_from=init_from,
    )


def check_initial_weights(experiment: Experiment) -> None:
    """Load ``--init-from``'s weights into this experiment's network, here and before Ray starts, so that a checkpoint
    of another task, core or width is named at once (ValueError) rather than inside a Tune trial.

    Every weight must match by name and shape, except that a reward-prediction agent's checkpoint may lack
    ``WEIGHTS_STARTED_AFRESH`` (the policy's weight on its predictions: ``--reward-logits`` sets where it starts).
    RLlib's own restore would skip the names that do not match without a word, half-loading another core.
    """
    import torch

    from rllib_metarl.auxiliary import WEIGHTS_STARTED_AFRESH
    from rllib_metarl.presets import build_rl_module

    module = build_rl_module(experiment.task, experiment.preset, experiment.env_config)
    network = f"this experiment's network ({experiment.task}, {experiment.preset.core} core, width " \
              f"{experiment.preset.lstm_cell_size})"  # fmt: skip
    try:
        saved = {k: torch.as_tensor(v) for k, v in saved_module_state(experiment.init_from).items()}
        missing, unexpected = module.load_state_dict(saved, strict=False)  # a size mismatch still raises
    except Exception as error:  # torch lists the mismatched sizes, one per line; pickle and msgpack fail otherwise
        reason = f"{type(error).__name__}: {str(error).strip().splitlines()[-1][:300]}"
        raise ValueError(f"--init-from {str(experiment.init_from)!r} does not fit {network}: {reason}") from error
    missing = [name for name in missing if name not in WEIGHTS_STARTED_AFRESH]
    if missing or unexpected:
        examples = "; ".join(f"{label}: {len(names)}, e.g. {names[0]!r}"
                             for label, names in (("not in the checkpoint", missing),
                                                  ("not in the network", unexpected)) if names)  # fmt: skip
        raise ValueError(f"--init-from {str(experiment.init_from)!r} does not fit {network}: weights {examples}")


def pretrained(experiment: Experiment) -> Experiment:
    """The experiment, starting from its memory pretrained ``preset.pretrain_memory_s`` (``--pretrain-memory``).

    The pretrained module is written into the experiment's folder, under a temporary name first, so a rerun
    (``--resume``) starts from the same weights instead of pretraining again, and an interrupted pretraining leaves
    nothing that could be taken for a finished one.
    """
    import torch

    from rllib_metarl.pretraining import pretrain_reward_memory

    folder = experiment.path / PRETRAINED_DIR  # exists only complete: it is renamed into place at the end
    if not folder.exists():
        seconds, threads = experiment.preset.pretrain_memory_s, torch.get_num_threads()
        print(f"Pretraining the memory for {seconds:.0f} s on random play ...", flush=True)
        torch.set_num_threads(1)  # as a Tune trial's own learner: the pretraining's seconds count alike
        try:
            module = pretrain_reward_memory(experiment.task, experiment.preset, experiment.env_config, seconds,
                                            experiment.seed)  # fmt: skip
        finally:
            torch.set_num_threads(threads)
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        module.save_to_path(str(partial))
        (partial / PRETRAINING_STATS).write_text(json.dumps(module.pretraining_stats))
        partial.rename(folder)
    stats = json.loads((folder / PRETRAINING_STATS).read_text())
    print(f"Pretrained memory: {folder} ({stats['pretrain_seconds']:.0f} s, {stats['pretrain_trials']} trials of "
          f"random play, reward-prediction loss {stats['pretrain_loss']:.3f})", flush=True)  # fmt: skip
    return replace(experiment, init_from=folder)


def latest_experiment(storage_path: Path, task_name: str) -> str | None:
    """The newest ``<task>-<time>`` experiment folder that Tune can restore, by its time stamp."""
    candidates = sorted(p.name for p in storage_path.glob(f"{task_name}-*") if (p / "tuner.pkl").exists())
    return candidates[-1] if candidates else None


# -- Ray and Tune -----------------------------------------------------------------------------------------------------
def _scheduler(experiment: Experiment) -> Any:
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, PopulationBasedTraining

    preset = experiment.preset
    max_t = preset.stop_time_s or 24 * 3600.0
    if experiment.scheduler == "asha":
        return ASHAScheduler(
            time_attr="time_total_s", max_t=max_t, grace_period=min(preset.grace_period_s, max_t), reduction_factor=2
        )
    if experiment.scheduler == "pbt":
        random.seed(experiment.seed)  # PBT draws its perturbations from Python's global generator
        return PopulationBasedTraining(
            time_attr="time_total_s",
            perturbation_interval=max(preset.grace_period_s / 2, 10.0),
            # With the 2 to 4 trials that fit on a small machine, the default 0.25 leaves no bottom quantile to replace.
            quantile_fraction=0.5,
            hyperparam_mutations={
                "lr": tune.loguniform(preset.lr / 4, preset.lr * 4),
                "entropy_coeff": [preset.entropy_coeff * factor for factor in (0.0, 0.3, 1.0, 3.0)],
            },
        )
    return FIFOScheduler()


def _stop_criteria(preset: Preset) -> dict[str, float]:
    stop = {
        "training_iteration": preset.stop_iters,
        "time_total_s": preset.stop_time_s,
        RETURN_METRIC: preset.stop_return,
    }
    return {key: value for key, value in stop.items() if value is not None}


def make_tuner(experiment: Experiment) -> Any:
    """A Tuner for the experiment, restored from its folder when an earlier run of it was interrupted."""
    from ray import tune

    from rllib_metarl.presets import algorithm_class, algorithm_config
    from rllib_metarl.registry import register_rllib_envs

    register_rllib_envs()  # a restored trial rebuilds its env by name: this Ray session must know the names too
    # The class, not a name such as "PPO": RLlib's string import of "PPO" pulls in DreamerV3 and its extra needs.
    trainable = algorithm_class(experiment.preset.algo)
    if tune.Tuner.can_restore(experiment.path):
        print(f"Resuming experiment {experiment.path}")
        return tune.Tuner.restore(str(experiment.path), trainable=trainable, resume_errored=True)
    preset = experiment.preset
    config = algorithm_config(experiment.task, preset, experiment.env_config, experiment.seed, experiment.init_from)
    param_space = config.to_dict()
    param_space["seed"] = tune.grid_search([experiment.seed + i for i in range(preset.num_samples)])
    return tune.Tuner(
        trainable,
        param_space=param_space,
        tune_config=tune.TuneConfig(metric=RETURN_METRIC, mode="max", scheduler=_scheduler(experiment)),
        run_config=tune.RunConfig(
            name=experiment.name,
            storage_path=str(experiment.storage_path),
            stop=_stop_criteria(preset),
            checkpoint_config=checkpoint_config(preset),
            failure_config=tune.FailureConfig(max_failures=2),
            progress_reporter=progress_reporter(),
            verbose=1,  # the status table only; every result is in the results folder and TensorBoard
        ),
    )


# Columns of the progress table: the return and the meta-RL metrics the envs report (absent ones are left out).
PROGRESS_METRICS = {
    "training_iteration": "iter",
    "time_total_s": "time (s)",
    "num_env_steps_sampled_lifetime": "env steps",
    # The learner's current rate, not the config's: PBT mutates it, --lr-final decays it.
    "learners/default_policy/default_optimizer_learning_rate": "lr",
    RETURN_METRIC: "return",
    "env_runners/meta/optimal_action_rate": "optimal arm",
    "env_runners/meta/regret": "regret",
    "env_runners/meta/informative_first": "informative first",
    "env_runners/meta/normalized_return": "return / oracle",
    "env_runners/meta/reward_rate": "reward rate",
    "env_runners/meta/accuracy_after_first": "correct, trials 2+",
    "evaluation/env_runners/meta/accuracy_after_first": "held-out correct, trials 2+",
}


def checkpoint_config(preset: Preset) -> Any:
    """A checkpoint every ``checkpoint_every`` iterations and at the end; Tune keeps the 3 with the highest training
    return, and the latest.

    Scored by the top-level ``CHECKPOINT_SCORE``, not by the nested RETURN_METRIC: Tune 2.60 looks a score's name
    up in the unflattened result, so a nested one is never found there, and it then keeps the 3 latest checkpoints
    instead (ray-project/ray#59130).
    """
    from ray import tune

    return tune.CheckpointConfig(
        checkpoint_frequency=preset.checkpoint_every,
        checkpoint_at_end=True,
        num_to_keep=3,
        checkpoint_score_attribute=CHECKPOINT_SCORE,
        checkpoint_score_order="max",
    )


def progress_reporter() -> Any:
    from ray.tune import CLIReporter

    return CLIReporter(metric_columns=PROGRESS_METRICS, parameter_columns={"seed": "seed"}, max_report_frequency=30)


def best_checkpoint(results: Any) -> tuple[Any, Any]:
    """(result, checkpoint) of the trial and checkpoint with the highest training return."""
    best = results.get_best_result(metric=RETURN_METRIC, mode="max", scope="all")
    if best is None:
        raise RuntimeError("no trial reported a return: nothing to evaluate")
    checkpoint = best.get_best_checkpoint(RETURN_METRIC, "max") or best.checkpoint
    if checkpoint is None:
        raise RuntimeError(f"trial {best.path} saved no checkpoint")
    return best, checkpoint


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write atomically, so that an interrupted run never leaves a half-written file."""
    partial = path.with_suffix(path.suffix + ".partial")
    frame.to_csv(partial, index=False)
    partial.replace(path)


def write_text(text: str, path: Path) -> None:
    """Write atomically, as :func:`write_csv` does."""
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(text)
    partial.replace(path)


def run(experiment: Experiment) -> dict[str, Any]:
    """Train, evaluate the best checkpoint on held-out trials, write summary.csv; return the summary row."""
    from rllib_metarl.evaluation import evaluate_checkpoint, summarize

    started = time.time()
    # Tune's newer console output ignores custom reporters and prints the whole RLlib config; use the classic table.
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    session = start_ray(experiment.address, experiment.dashboard)
    print(f"Ray:           {session.describe()}")
    print(f"Ray Dashboard: {session.dashboard_url or 'off'}")
    if session.dashboard_url and session.token_file:
        print(f"               it asks for this run's token: `ray get-auth-token` prints it ({session.token_file})")
    print(f"Tune results:  {experiment.path}")
    print(f"TensorBoard:   tensorboard --logdir {experiment.path}")
    print(f"After an interruption, resume with the same command and --resume (or --name {experiment.name})", flush=True)

    results = make_tuner(experiment).fit()
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


def checkpoint_metrics(result: Any, checkpoint: Any) -> dict[str, Any]:
    """The training iteration and training return at which ``checkpoint`` was saved."""
    from ray.tune.utils import flatten_dict

    for saved, metrics in result.best_checkpoints:
        if saved.path == checkpoint.path:
            flat = flatten_dict(metrics, delimiter="/")
            return {
                "checkpoint_iteration": flat.get("training_iteration"),
                "checkpoint_training_return": flat.get(RETURN_METRIC),
            }
    return {"checkpoint_iteration": None, "checkpoint_training_return": None}


def print_summary(summary: dict[str, Any], experiment: Experiment) -> None:
    print()
    print(f"Best checkpoint (highest training return): {summary['checkpoint']}")
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
    try:
        summary = run(experiment)
    except KeyboardInterrupt:
        print(f"\nInterrupted. Resume with the same command and --name {experiment.name}", file=sys.stderr)
        return 130
    if summary["failed_trials"]:
        print(f"{summary['failed_trials']} trial(s) failed; the figures above come from the others or partial runs.",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0
