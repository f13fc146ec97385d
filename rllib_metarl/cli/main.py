"""rllib-metarl: list the meta-tasks, train an agent, evaluate a checkpoint, and run the papers' analyses.

    rllib-metarl list
    rllib-metarl train eleven_arm --stop-time 120 --set entropy_coeff=0.02
    rllib-metarl evaluate ~/ray_results/dependent_easy-.../PPO_.../checkpoint_000004 --env dependent_medium
    rllib-metarl rl2-tables --storage-path ~/ray_results/rl2
    rllib-metarl two-step --experiment ~/ray_results/two_step-...   (and harlow, generalization, regret, ...)

``python -m rllib_metarl`` is the same command line.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rllib_metarl.cli.arguments import key_value, positive_int, seed
from rllib_metarl.tasks.registry import TASKS
from rllib_metarl.utils.atomic_io import disk_error_message, write_csv


def list_tasks() -> None:
    width = max(len(name) for name in TASKS)
    for task in TASKS.values():
        defaults = ", ".join(f"{k}={v}" for k, v in task.defaults.items())
        print(f"{task.name:<{width}}  {task.description}")
        print(f"{'':<{width}}  gymnasium id {task.gym_id}; RLlib env {task.rllib_env}; defaults: {defaults}")


def evaluate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    from rllib_metarl.evaluation import evaluate_checkpoint, resolve_task, summarize

    try:
        task_name, env_config = resolve_task(args.checkpoint, args.env, dict(args.env_arg) or None)
        trials = evaluate_checkpoint(args.checkpoint, task_name, env_config, args.trials, args.seed, args.explore)
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    summary = summarize(trials, task_name, env_config)
    mode = "sampled" if args.explore else "greedy"
    print(
        f"{task_name}: {summary['trials']} held-out trials, frozen weights, {mode} actions: "
        f"mean return {summary['mean_return']:.3f} (95% CI {summary['ci95_low']:.3f} to {summary['ci95_high']:.3f}); "
        f"optimum {summary['optimal_return']:.3f}, random {summary['random_return']:.3f}"
    )
    for key, value in summary.items():
        if key.startswith("mean_") and key != "mean_return":
            print(f"  {key[5:]}: {value:.4f}")
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        write_csv(trials, Path(args.output))
        print(f"per-trial results: {args.output}")


def exit_code(command: Callable[[list[str] | None], Any], argv: list[str] | None = None) -> int:
    """Run ``command(argv)`` (an analysis's ``main``): its exit code, 0 where it returns a table, or 1 with one line
    when the disk refuses a write (the files it writes are written whole, so what they held before is kept)."""
    try:
        result = command(argv)
    except OSError as error:
        message = disk_error_message(error)
        if message is None:
            raise
        print(f"error: {message}; free some space or fix the permissions, then run the command again", file=sys.stderr)
        return 1
    return result if isinstance(result, int) else 0


# Each analysis of rllib_metarl.analysis, by its command name; its own command line follows the name.
ANALYSES = {
    "rl2-tables": ("rl2_tables", "RL^2's Tables 1 and 2 beside the classical baselines"),
    "bandit-behaviour": ("bandit_behaviour", "RL^2's bandit table: how each player stays, switches and explores"),
    "memory-probe": ("memory_probe", "RL^2's bandit agents: what their memory holds of a trial, read out linearly"),
    "two-step": ("two_step", "two-step task: stay probabilities, agent beside model-free and model-based references"),
    "two-step-regression": ("two_step_regression", "two-step task: choices regressed on past rewards x transitions"),
    "harlow": ("harlow", "Harlow task: fraction correct per trial on held-out objects"),
    "restless": ("restless", "restless bandit: the agent beside the Bayes-optimal player, per regime"),
    "generalization": ("generalization", "dependent bandits: train on each difficulty, test on each"),
    "regret": ("regret", "regret within a trial, agent and baselines on the same trials"),
    "eleven-arm": ("eleven_arm", "eleven-arm: the informative-arm strategy over training"),
    "learning-curve": ("learning_curve", "an experiment's learning curves"),
}


def build_parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The command line, and the evaluate command's own parser (for its error messages)."""
    parser = argparse.ArgumentParser(prog="rllib-metarl", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("list", help="print every registered task with its defaults")
    train = commands.add_parser("train", add_help=False,
                                help="train an agent on a task: TASK, then the flags of every tune_configs/*.py script "
                                "(rllib-metarl train TASK --help)")  # fmt: skip
    train.add_argument("task", choices=list(TASKS), metavar="TASK")
    evaluation = commands.add_parser("evaluate", help="evaluate a checkpoint with frozen weights on held-out trials")
    evaluation.add_argument("checkpoint", help="an algorithm checkpoint folder (checkpoint_00000N)")
    evaluation.add_argument("-e", "--env", choices=list(TASKS), help="task to test on (default: the training task)")
    evaluation.add_argument("--env-arg", type=key_value, action="append", default=[], metavar="KEY=VALUE",
                            help="task parameter, e.g. --env-arg trial_length=50 (repeatable)")  # fmt: skip
    evaluation.add_argument("--trials", type=positive_int, default=1000, help="held-out trials")
    evaluation.add_argument("--seed", type=seed, default=0, help="seed of the held-out trials")
    evaluation.add_argument("--explore", action="store_true", help="sample actions instead of taking the most likely")
    evaluation.add_argument("--output", help="write one row per trial to this CSV")
    for name, (_, summary) in ANALYSES.items():
        commands.add_parser(name, add_help=False, help=f"{summary} (rllib-metarl {name} --help)")
    return parser, evaluation


def main(argv: list[str] | None = None) -> int:
    parser, evaluation = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "train":
        from rllib_metarl.training.runner import main as train  # imported here: it sets up Ray's environment first

        return train(args.task, rest)
    if args.command in ANALYSES:
        module = importlib.import_module(f"rllib_metarl.analysis.{ANALYSES[args.command][0]}")
        return exit_code(module.main, rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "list":
        list_tasks()
        return 0
    return exit_code(lambda _: evaluate(args, evaluation))


if __name__ == "__main__":
    sys.exit(main())
