"""The command line of every experiment script: its flags, their checks, and the :class:`Experiment` they make.

Every value is checked here, before Ray starts; a bad one exits with code 2 and a one-line message naming it.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import gymnasium as gym

from rllib_metarl.algorithms import ALGORITHMS
from rllib_metarl.cli.arguments import (
    discount,
    finite_float,
    key_value,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    seed,
)
from rllib_metarl.evaluation import module_path
from rllib_metarl.models import ATTENTION_WINDOWS, CORES
from rllib_metarl.tasks import TASKS, Task, get_task
from rllib_metarl.tasks.registry import make_agent_env, wrapper_options
from rllib_metarl.tasks.task import TrialSizes
from rllib_metarl.training.curriculum import check_same_network, curriculum_stages, stage_settings
from rllib_metarl.training.memory import machine_bytes, run_bytes
from rllib_metarl.training.presets import Preset, get_preset, parse_field
from rllib_metarl.training.ray_session import check_reachable, local_cpus
from rllib_metarl.training.storage import check_free_space
from rllib_metarl.wrappers import TrialStatisticsWrapper

SCHEDULERS = ("asha", "pbt", "fifo")
DEFAULT_STORAGE = "~/ray_results"


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
    concurrent_trials: int  # Tune trials that run at once (concurrent_trials below)
    init_from: Path | None = None  # the RLModule folder of a checkpoint whose weights the run starts from
    command: str = ""  # the command line that ran it, recorded in its summary

    @property
    def path(self) -> Path:
        return self.storage_path / self.name


# Flags of earlier versions that set one preset field each. They keep working, so that recorded commands rerun, and
# stay out of --help: --set FIELD=VALUE is the documented way. (flags, field, argparse settings)
OLDER_PRESET_FLAGS: tuple[tuple[tuple[str, ...], str, dict[str, Any]], ...] = (
    (("--envs-per-worker",), "envs_per_worker", {"type": positive_int}),
    (("--attention-window",), "attention_window", {"type": int, "choices": ATTENTION_WINDOWS}),
    (("--no-tokenizer",), "tokenizer_hiddens", {"nargs": 0, "const": ()}),
    (("--share-core",), "vf_share_layers", {"nargs": 0, "const": True}),
    (("--lr-final",), "lr_final", {"type": positive_float}),
    (("--lr-decay-steps",), "lr_decay_steps", {"type": positive_int}),
    (("--gamma",), "gamma", {"type": discount}),
    (("--entropy-coeff",), "entropy_coeff", {"type": non_negative_float}),
    (("--num-epochs",), "num_epochs", {"type": positive_int}),
    (("--reward-prediction",), "reward_prediction_coeff", {"type": non_negative_float}),
    (("--reward-logits",), "reward_logits_weight", {"type": non_negative_float}),
    (("--pretrain-memory",), "pretrain_memory_s", {"type": non_negative_float}),
    (("--stop-iters",), "stop_iters", {"type": positive_int}),
    (("--stop-return",), "stop_return", {"type": finite_float}),
    (("--checkpoint-every",), "checkpoint_every", {"type": positive_int}),
)


def without_decays(parser: argparse.ArgumentParser, preset: Preset, fields: dict[str, Any]) -> Preset:
    """The preset for ``--scheduler pbt``, which mutates the learning rate and the entropy coefficient itself: a
    decay of either given on the command line is refused, and one the preset declares is dropped."""
    for decayed, name in (("lr", "learning rate"), ("entropy", "entropy coefficient")):
        keys = {f"{decayed}_final", f"{decayed}_decay_steps"}
        if keys & set(fields):
            parser.error(f"--scheduler pbt mutates the {name} itself: drop {decayed}_final and {decayed}_decay_steps")
        preset = replace(preset, **dict.fromkeys(keys))
    return preset


class SetPresetField(argparse.Action):
    """Collects every flag that sets a preset field, and each ``--set FIELD=VALUE``, into ``preset_fields``: one dict
    of the fields the command line changes, the last word winning."""

    def __init__(self, option_strings: list[str], dest: str, field: str | None = None, **kwargs: Any):
        self.field = field
        super().__init__(option_strings, dest="preset_fields", **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:  # fmt: skip
        field, value = values if self.field is None else (self.field, self.const if self.nargs == 0 else values)
        namespace.preset_fields = {**getattr(namespace, "preset_fields", {}), field: value}


def preset_setting(text: str) -> tuple[str, Any]:
    """``FIELD=VALUE`` as (field, typed value); an unknown field or a bad value names itself (exit 2)."""
    name, sep, raw = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected FIELD=VALUE, got {text!r}")
    try:
        return name, parse_field(name, raw)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def preset_listing(task_name: str) -> str:
    """Every preset field with this task's value: the --help epilog."""
    preset = get_preset(task_name)
    values = ", ".join(f"{f.name}={getattr(preset, f.name)!r}" for f in dataclasses.fields(preset))
    return f"preset fields (--set FIELD=VALUE) and {task_name}'s values: {values}"


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
                        help="any other task parameter, e.g. --env-arg num_arms=10 (repeatable); "
                        "trial_statistics=True adds the trial's statistics to the inputs (not RL^2), "
                        "statistics_uncertainty=True also each action's 1/sqrt(1+visits)")  # fmt: skip
    # Preset fields: the few changed daily have flags of their own; --set reaches every field by its name.
    preset_flag = {"action": SetPresetField, "default": argparse.SUPPRESS}
    parser.add_argument("--algo", field="algo", choices=ALGORITHMS, **preset_flag,
                        help="ppo, appo, impala (RLlib's) or a2c (default: the preset's)")  # fmt: skip
    parser.add_argument("--core", field="core", choices=CORES, **preset_flag,
                        help=f"memory core: {', '.join(CORES)} (default: the preset's)")  # fmt: skip
    parser.add_argument("-w", "--num-workers", field="num_workers", type=non_negative_int, metavar="N", **preset_flag,
                        help="remote env runners per trial (default: the preset's, 0)")  # fmt: skip
    parser.add_argument("--lr", field="lr", type=positive_float, metavar="LR", **preset_flag,
                        help="learning rate (default: the preset's)")  # fmt: skip
    parser.add_argument("--num-samples", field="num_samples", type=positive_int, metavar="N", **preset_flag,
                        help="Tune trials, seeded seed, seed+1, ... (default: the preset's)")  # fmt: skip
    parser.add_argument("--stop-time", field="stop_time_s", type=positive_float, metavar="SECONDS", **preset_flag,
                        help="stop a trial after this many seconds of training (default: the preset's)")  # fmt: skip
    parser.add_argument("--set", action=SetPresetField, type=preset_setting, metavar="FIELD=VALUE",
                        default=argparse.SUPPRESS,
                        help="any preset field by its name, e.g. --set gamma=0.99 (repeatable; the fields and this "
                        "task's values are listed below)")  # fmt: skip
    for flags, field, kind in OLDER_PRESET_FLAGS:
        parser.add_argument(*flags, field=field, help=argparse.SUPPRESS, **preset_flag, **kind)
    parser.add_argument("--scheduler", choices=SCHEDULERS, default="asha", help="Tune trial scheduler")
    parser.add_argument("--seed", type=seed, default=0, help="base seed; trial i uses seed + i")
    parser.add_argument("--init-from", metavar="CHECKPOINT",
                        help="start from the network weights of an earlier run's checkpoint, e.g. one trained on "
                        "longer trials (a curriculum); the optimizer and counters start afresh")  # fmt: skip
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
    parser.add_argument("--no-dashboard", action="store_true", help=argparse.SUPPRESS)  # local Ray without it
    parser.epilog = preset_listing(task_name)
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
    if task.accepts("meta"):
        env_config["meta"] = args.meta
        if not args.meta:
            env_config.setdefault("task_seed", args.seed)  # one task shared by every env copy and the evaluation
    elif not args.meta:
        parser.error(f"--no-meta: task {task.name} has no fixed-task mode (its env takes no 'meta' parameter)")
    fields = getattr(args, "preset_fields", {})
    try:
        preset = get_preset(task.name, **fields)
    except ValueError as error:
        parser.error(str(error))
    concurrent = concurrent_trials(preset, args.address)
    check_curriculum(parser, task, env_config, preset, args, concurrent)
    sizes = declared_sizes(task, env_config)
    if not args.address:  # before the env is built: a large task can take the memory at construction
        check_memory(parser, task, env_config, preset, args.eval_trials, sizes, concurrent)
    try:
        _, statistics = wrapper_options(task, dict(env_config))
        env = task.make(**env_config)  # the env validates its own parameters
    except (TypeError, ValueError) as error:
        parser.error(f"{task.name}: {error}")
    if preset.statistics_head and statistics is None:
        parser.error("statistics_head reads the trial statistics: add --env-arg trial_statistics=True")
    if not args.address and (sizes is None or statistics is not None):
        try:
            sizes = sizes or task.measured_sizes(env)  # a user's task declares no sizes: read them from its env
            if statistics is not None:
                sizes = with_trial_statistics(sizes, env, task, statistics)
        except ValueError as error:
            parser.error(f"{task.name}: {error}")
        check_memory(parser, task, env_config, preset, args.eval_trials, sizes, concurrent)
    env.close()
    if args.scheduler == "pbt":
        preset = without_decays(parser, preset, fields)
    check_resources(parser, preset, args.address)
    if args.scheduler == "pbt" and preset.num_samples < 2:
        parser.error(f"--scheduler pbt needs --num-samples of at least 2, got {preset.num_samples}")
    storage_path = Path(args.storage_path).expanduser().resolve()
    try:
        storage_path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        parser.error(f"--storage-path {str(storage_path)!r} cannot be created: {error.strerror}")
    if not os.access(storage_path, os.W_OK):
        parser.error(f"--storage-path {str(storage_path)!r} is not writable")
    try:
        check_free_space(storage_path, concurrent)
    except ValueError as error:
        parser.error(f"--storage-path {error}")
    if args.name is not None:
        try:
            check_experiment_name(args.name)
        except ValueError as error:
            parser.error(f"--name: {error}")
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
        if fields.get("pretrain_memory_s"):
            parser.error("pretrain_memory_s and --init-from both give the starting weights: give one")
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
        concurrent_trials=concurrent,
        init_from=init_from,
        command=shlex.join(["python", sys.argv[0], *(sys.argv[1:] if argv is None else argv)]),
    )


MAX_NUM_SAMPLES = 1000  # Tune trials of one experiment: more is a typo (each trial is minutes of training)


def check_resources(parser: argparse.ArgumentParser, preset: Preset, address: str | None) -> None:
    """Refuse what would leave a trial waiting forever: a local Ray with fewer CPUs than one trial takes (1 for the
    trial, 1 per remote env runner), an address where nothing answers, an oversized number of trials."""
    if preset.num_samples > MAX_NUM_SAMPLES:
        parser.error(f"--num-samples {preset.num_samples} is more than {MAX_NUM_SAMPLES} Tune trials; give fewer")
    if address:
        try:
            check_reachable(address)
        except ConnectionError as error:
            parser.error(f"--address: {error}")
        return
    needed, cpus = 1 + preset.num_workers, local_cpus()
    if needed > cpus:
        parser.error(f"-w {preset.num_workers}: a trial takes {needed} CPUs (1 + 1 per remote env runner), and a local "
                     f"Ray here has {cpus}; use -w {cpus - 1} or fewer, or --address of a larger cluster")  # fmt: skip


def check_curriculum(parser: argparse.ArgumentParser, task: Task, env_config: dict[str, Any], preset: Preset,
                     args: argparse.Namespace, concurrent: int) -> None:  # fmt: skip
    """Refuse a curriculum (training.curriculum) that is declared wrong, whose stages' tasks are refused or too large
    for this machine, or whose stages would change the agent's network."""
    try:
        stages = curriculum_stages(task, preset)
    except ValueError as error:
        parser.error(str(error))
    spaces, lengths = [], []
    for index, stage in enumerate(stages):  # each stage's task, checked as the run's own below
        _, stage_config, _ = stage_settings(stage, index, env_config, preset)
        stage_sizes = declared_sizes(task, stage_config)
        if not args.address:
            check_memory(parser, task, stage_config, preset, args.eval_trials, stage_sizes, concurrent)
        try:
            agent_env = make_agent_env(task, stage_config)
        except (TypeError, ValueError) as error:
            parser.error(f"{task.name}, curriculum stage {stage.name}: {error}")
        if not args.address and stage_sizes is not None:  # again with the agent's own inputs (statistics included)
            inputs = gym.spaces.flatdim(agent_env.observation_space)
            stage_sizes = replace(stage_sizes, observation_size=inputs)
            check_memory(parser, task, stage_config, preset, args.eval_trials, stage_sizes, concurrent)
        spaces.append((agent_env.observation_space, agent_env.action_space))
        lengths.append(task.trial_length_of(stage_config))
        agent_env.close()
    if stages:
        try:
            check_same_network(stages, spaces, lengths, preset.core)
        except ValueError as error:
            parser.error(str(error))


def declared_sizes(task: Task, env_config: dict[str, Any]) -> TrialSizes | None:
    """The trial's sizes from the task's declaration, without building the env; None where it declares none or the
    parameters are ones the env will refuse itself."""
    try:
        return task.trial_sizes(env_config)
    except (TypeError, ValueError, KeyError):
        return None


def with_trial_statistics(sizes: TrialSizes, env: gym.Env, task: Task, statistics: dict[str, bool]) -> TrialSizes:
    """``sizes`` with the inputs the trial-statistics wrapper (arguments ``statistics``) adds to ``env``'s
    observation."""
    wrapped = TrialStatisticsWrapper(env, trial_length=task.trial_length, **statistics)
    added = gym.spaces.flatdim(wrapped.observation_space) - gym.spaces.flatdim(env.observation_space)
    return replace(sizes, observation_size=sizes.observation_size + added)


def check_memory(
    parser: argparse.ArgumentParser,
    task: Task,
    env_config: dict[str, Any],
    preset: Preset,
    eval_trials: int,
    sizes: TrialSizes | None,
    concurrent: int,
) -> None:
    """Refuse a local run whose estimated memory (rllib_metarl.training.memory), with ``concurrent`` trials at once,
    exceeds this machine's, naming the sizes it comes from."""
    if sizes is None:
        return
    needed, available = run_bytes(sizes, preset, eval_trials, concurrent), machine_bytes()
    if needed > available:
        given = ", ".join(f"{key}={value!r}" for key, value in env_config.items() if key not in ("meta", "task_seed"))
        parser.error(
            f"{task.name}{f' with {given}' if given else ''}: a run would need about {needed / 2**30:,.1f} GiB of "
            f"memory ({sizes.trial_length:,} steps per trial, {sizes.observation_size:,} inputs per step, "
            f"{preset.envs_per_worker} env copies x {preset.trials_per_rollout} trials per iteration, "
            f"{concurrent} trial(s) at once) and this machine has {available / 2**30:,.1f} GiB; use smaller sizes"
        )


def concurrent_trials(preset: Preset, address: str | None) -> int:
    """Tune trials that run at once: as many as a local Ray's CPUs hold; on a cluster, at most all of them."""
    if address:
        return preset.num_samples
    return max(1, min(preset.num_samples, local_cpus() // (1 + preset.num_workers)))


MAX_NAME_BYTES = 255  # a file name's limit on the usual file systems (ext4, XFS, APFS)


def check_experiment_name(name: str) -> None:
    """A ValueError unless ``name`` is one folder inside the storage path: no separator, no ``.``/``..``, not empty,
    not longer than a file name may be."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise ValueError(f"{name!r} is not an experiment name: one folder name, without '/', '\\' or '..'")
    if len(name.encode()) > MAX_NAME_BYTES:
        raise ValueError(f"{name[:40]!r}... is {len(name.encode())} bytes long; a folder name takes at most "
                         f"{MAX_NAME_BYTES}")  # fmt: skip


def latest_experiment(storage_path: Path, task_name: str) -> str | None:
    """The newest ``<task>-<time>`` experiment folder that Tune can restore, by its time stamp."""
    candidates = sorted(p.name for p in storage_path.glob(f"{task_name}-*") if (p / "tuner.pkl").exists())
    return candidates[-1] if candidates else None
