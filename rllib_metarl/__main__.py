"""``python -m rllib_metarl list`` prints every task; ``python -m rllib_metarl evaluate CHECKPOINT`` tests an agent.

    python -m rllib_metarl evaluate ~/ray_results/dependent_easy-.../PPO_.../checkpoint_000004 \\
        --env dependent_medium --trials 1000 --output medium.csv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rllib_metarl.cli import key_value, positive_int
from rllib_metarl.registry import TASKS


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
        trials.to_csv(args.output, index=False)
        print(f"per-trial results: {args.output}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rllib_metarl", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="print every registered task with its defaults")
    evaluation = commands.add_parser("evaluate", help="evaluate a checkpoint with frozen weights on held-out trials")
    evaluation.add_argument("checkpoint", help="an algorithm checkpoint folder (checkpoint_00000N)")
    evaluation.add_argument("-e", "--env", choices=list(TASKS), help="task to test on (default: the training task)")
    evaluation.add_argument("--env-arg", type=key_value, action="append", default=[], metavar="KEY=VALUE",
                            help="task parameter, e.g. --env-arg trial_length=50 (repeatable)")  # fmt: skip
    evaluation.add_argument("--trials", type=positive_int, default=1000, help="held-out trials")
    evaluation.add_argument("--seed", type=int, default=0, help="seed of the held-out trials")
    evaluation.add_argument("--explore", action="store_true", help="sample actions instead of taking the most likely")
    evaluation.add_argument("--output", help="write one row per trial to this CSV")
    args = parser.parse_args(argv)
    if args.command == "list":
        list_tasks()
    else:
        evaluate(args, evaluation)
    return 0


if __name__ == "__main__":
    sys.exit(main())
