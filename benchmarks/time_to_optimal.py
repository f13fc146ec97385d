"""Wall time to a near-optimal agent: our presets with each learner batch path, and RLlib's out-of-the-box PPO.

    python benchmarks/time_to_optimal.py              # eleven_arm, dependent_uniform, k_armed; 3 seeds; all settings
    python benchmarks/time_to_optimal.py --settings ours ours_rllib_batch   # the two learner batch paths
    python benchmarks/time_to_optimal.py --tasks eleven_arm --seeds 0 --cap 120
    python benchmarks/time_to_optimal.py --tasks eleven_arm --settings ours ours_rllib_batch --set num_epochs=2
    python benchmarks/time_to_optimal.py --tasks k_armed --settings ours ours_rllib_batch --set core=per_action
    python benchmarks/time_to_optimal.py --smoke                    # seconds: what the test suite runs

Each run trains in its own Ray task on one CPU (two runs at a time on a 2-core machine: ours and RLlib's default side
by side) with one torch thread. Its clock starts before the algorithm is built and stops when the agent, evaluated
every ``--eval-every`` seconds of training with frozen weights and greedy actions on 1000 held-out trials (the
runner's evaluation), reaches the threshold: 98.8% of eleven-arm's optimum (20.30 of 20.55), 99% of
dependent-uniform's exact Bayes-optimal return (73.04 of 73.78), or 6.60 on k_armed, the RL^2 bandit cell n = 10,
k = 5 (99% of its Bayes-optimal 6.66). The evaluations' own time is not counted (it is
recorded). A run that has not reached it after ``--cap`` seconds of training stops there: its time is only a lower
bound, and so is the ratio it gives.

Settings:
  ours           the task's preset (``rllib_metarl.training.presets``): PPO + LSTM, TrialEnvRunner, native vector env,
                 the learner's batch built from whole trials (``batch_path="trial"``)
  ours_rllib_batch  the same with RLlib's default learner connector pipeline (``batch_path="rllib"``): same learning
  rllib_default  ``PPOConfig()`` as shipped (lr 5e-5, batch 4000, minibatch 128, 30 epochs, gamma 0.99, its default
                 model with ``use_lstm=True``: LSTM 256 after a [256, 256] MLP, max_seq_len 20) on the same agent env,
                 16 envs in RLlib's own SingleAgentEnvRunner, sampling in the trial's process like ours

``--set FIELD=VALUE`` changes a preset field of both ``ours`` settings (an update schedule to study: epochs,
minibatches; or the memory core: ``--set core=per_action``); each record names the fields it changed. The medians
of 3 seeds, and their ratios to ``ours``, are printed and appended to ``benchmarks/results/time_to_optimal.jsonl``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from common import RESULTS, append_record, machine

from rllib_metarl.cli.main import exit_code
from rllib_metarl.tasks.registry import get_task
from rllib_metarl.training.command_line import SetPresetField, preset_setting
from rllib_metarl.training.presets import get_preset
from rllib_metarl.training.ray_session import start_ray

# Fractions of the optimum / Bayes-optimal; k_armed: 6.60 of 6.66.
THRESHOLDS = {"eleven_arm": 0.988, "dependent_uniform": 0.99, "k_armed": 0.991}
SETTINGS = ("ours", "ours_rllib_batch", "rllib_default")
DEFAULT_CAPS = {"eleven_arm": 180.0, "dependent_uniform": 240.0, "k_armed": 300.0}  # seconds of training (k_armed: its
# preset's budget)


def build_config(task_name: str, setting: str, seed: int, preset_fields: dict[str, Any]) -> Any:
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig

    from rllib_metarl.tasks.registry import register_rllib_envs
    from rllib_metarl.training.config import algorithm_config

    if setting in ("ours", "ours_rllib_batch"):
        batch_path = "trial" if setting == "ours" else "rllib"
        return algorithm_config(task_name, get_preset(task_name, **preset_fields, batch_path=batch_path), {}, seed=seed)
    register_rllib_envs()
    return (
        PPOConfig()
        .environment(get_task(task_name).rllib_env)
        .env_runners(num_env_runners=0, num_envs_per_env_runner=16)
        .learners(num_learners=0)
        .rl_module(model_config=DefaultModelConfig(use_lstm=True))
        .debugging(seed=seed)
    )


def train_to_threshold(task_name: str, setting: str, seed: int, cap_s: float, eval_every_s: float,
                       eval_trials: int, preset_fields: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """One run: train until the held-out return reaches the task's threshold or ``cap_s`` seconds of training."""
    import torch

    from rllib_metarl.evaluation import evaluate_module

    torch.set_num_threads(1)
    task = get_task(task_name)
    optimum = task.optimal_return(task.env_kwargs())
    threshold = THRESHOLDS[task_name] * optimum
    started = time.perf_counter()
    evaluation_s = 0.0
    algo = build_config(task_name, setting, seed, preset_fields).build_algo()
    held_out, iterations, steps, last_evaluation = float("nan"), 0, 0, 0.0
    while True:
        steps += int(algo.train()["env_runners"]["num_env_steps_sampled"])
        iterations += 1
        training_s = time.perf_counter() - started - evaluation_s
        if training_s - last_evaluation >= eval_every_s or training_s >= cap_s:
            last_evaluation = training_s
            evaluation_started = time.perf_counter()
            held_out = float(evaluate_module(algo.get_module(), task_name, num_trials=eval_trials)["return"].mean())
            evaluation_s += time.perf_counter() - evaluation_started
            if held_out >= threshold or training_s >= cap_s:
                break
    algo.stop()
    return {
        "task": task_name,
        "setting": setting,
        "seed": seed,
        "preset_fields": preset_fields if setting != "rllib_default" else {},
        "reached": held_out >= threshold,
        "time_s": round(training_s, 1),
        "held_out": round(held_out, 4),
        "threshold": round(threshold, 4),
        "optimum": round(optimum, 4),
        "iterations": iterations,
        "env_steps": steps,
        "evaluation_s": round(evaluation_s, 1),
        "cap_s": cap_s,
        "torch_threads": torch.get_num_threads(),
    }


def summarize(records: list[dict]) -> list[dict]:
    """Per task: each setting's median time (a lower bound where a run hit its cap) and its ratio to ours'."""
    rows = []
    for task in dict.fromkeys(r["task"] for r in records):
        row: dict[str, Any] = {"task": task}
        for setting in SETTINGS:
            runs = [r for r in records if r["task"] == task and r["setting"] == setting]
            if runs:
                row[f"{setting}_median_s"] = statistics.median(r["time_s"] for r in runs)
                row[f"{setting}_reached"] = f"{sum(r['reached'] for r in runs)}/{len(runs)}"
        for setting in SETTINGS[1:]:
            if "ours_median_s" in row and f"{setting}_median_s" in row:
                row[f"{setting}_over_ours"] = round(row[f"{setting}_median_s"] / row["ours_median_s"], 2)
                capped = [r for r in records if r["task"] == task and r["setting"] in ("ours", setting)
                          and not r["reached"]]  # fmt: skip
                row[f"{setting}_over_ours_is_bound"] = bool(capped)  # a capped run's time is only a lower bound
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="+", choices=list(THRESHOLDS), default=list(THRESHOLDS))
    parser.add_argument("--settings", nargs="+", choices=SETTINGS, default=list(SETTINGS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--cap", type=float, help="seconds of training per run (default: eleven_arm 180, others 240)")
    parser.add_argument("--eval-every", type=float, default=5.0, help="seconds of training between evaluations")
    parser.add_argument("--eval-trials", type=int, default=1000)
    parser.add_argument("--parallel", type=int, default=2, help="runs at a time, one CPU each (default 2)")
    parser.add_argument(
        "--set",
        action=SetPresetField,
        type=preset_setting,
        metavar="FIELD=VALUE",
        default={},
        help="a preset field of both 'ours' settings, e.g. --set num_epochs=2 (repeatable)",
    )
    parser.add_argument("--smoke", action="store_true", help="one seed, 3 s cap, 50 trials: seconds in all")
    parser.add_argument("--output", type=Path, default=RESULTS / "time_to_optimal.jsonl")
    args = parser.parse_args(argv)
    preset_fields = args.preset_fields
    try:  # checked as a whole before Ray starts
        for task in args.tasks:
            get_preset(task, **preset_fields)
    except ValueError as error:
        parser.error(str(error))
    if args.cap is not None and args.cap <= 0:
        parser.error(f"--cap must be positive, got {args.cap}")
    if args.smoke:
        args.seeds, args.cap, args.eval_every, args.eval_trials = args.seeds[:1], 3.0, 1.0, 50
    start_ray(None, num_cpus=args.parallel)
    import ray

    run = ray.remote(num_cpus=1)(train_to_threshold)
    # Ours and the default of one seed are submitted together, so that they run side by side.
    jobs = [(task, setting, seed) for task in args.tasks for seed in args.seeds for setting in args.settings]
    futures = [
        run.remote(
            task, setting, seed, args.cap or DEFAULT_CAPS[task], args.eval_every, args.eval_trials, preset_fields
        )
        for task, setting, seed in jobs
    ]
    host, records = machine(), []
    for future in futures:
        record = ray.get(future)
        records.append(record)
        print(f"{record['task']:<18} {record['setting']:<14} seed {record['seed']}: "
              f"{'reached' if record['reached'] else 'NOT reached'} {record['held_out']:.3f} "
              f"(threshold {record['threshold']:.2f}) after {record['time_s']:.0f} s of training, "
              f"{record['env_steps']:,} env steps", flush=True)  # fmt: skip
        append_record({"benchmark": "time_to_optimal", **record, "machine": host}, args.output)
    ray.shutdown()
    print()
    for row in summarize(records):
        summary = {"benchmark": "time_to_optimal_summary", **row, "seeds": args.seeds, "preset_fields": preset_fields}
        append_record({**summary, "machine": host}, args.output)
        print("  ".join(f"{k}={v}" for k, v in row.items()))
    print(f"\nAppended to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(exit_code(main))
