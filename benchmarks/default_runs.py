"""Run each task's default experiment as a user would and record wall time and the held-out result.

    python benchmarks/default_runs.py                       # the main job: eleven_arm
    python benchmarks/default_runs.py eleven_arm dependent_uniform two_armed_independent
    python benchmarks/default_runs.py rl2_bandits_n10_k5 rl2_mdps_n10 --storage-path ~/ray_results/rl2
    python benchmarks/default_runs.py dependent_hard --scheduler fifo --storage-path ~/ray_results/seeds
    python benchmarks/default_runs.py rl2_bandits_n10_k10 --preset-budget   # the preset's 300 s, not 20 minutes

Each run is ``python tune_configs/<script> [variant flags]`` with no other arguments (results in a temporary folder,
or kept under ``--storage-path`` for ``python -m analysis.rl2_tables --storage-path ...`` to find the agents), or with
``--scheduler fifo``, so that every seed trains its whole budget for the analyses' seeds axis (Tune's default ASHA
stops the weaker seed early); its figures are printed and appended, one JSON object per line, to
``benchmarks/results/default_runs.jsonl``.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from common import RESULTS as RESULTS_FOLDER
from common import append_record, machine

from rllib_metarl.cli.main import exit_code
from rllib_metarl.tasks.bandits import DEPENDENT_DIFFICULTIES
from rllib_metarl.training.command_line import SCHEDULERS

ROOT = Path(__file__).resolve().parents[1]
RESULTS = RESULTS_FOLDER / "default_runs.jsonl"


def rl2_budget(n: int, k: int) -> list[str]:
    if n > 10:
        return ["--stop-time", "1500"]
    return [] if k == 5 else ["--stop-time", "1200"]


COMMANDS = {
    "eleven_arm": ["eleven_arm.py"],
    "two_armed_independent": ["two_armed_independent.py"],
    **{f"dependent_{d}": ["two_armed_dependent.py", "--difficulty", d] for d in DEPENDENT_DIFFICULTIES},
    # RL^2's tables: the preset's 300 s for n = 10, k = 5; 20 minutes for the other n = 10 cells; 25 minutes for longer
    # trials, so that a whole run (start-up and the held-out evaluation included) stays within 30 minutes.
    **{
        f"rl2_bandits_n{n}_k{k}": ["rl2_bandits.py", "--n", str(n), "--k", str(k), *rl2_budget(n, k)]
        for n in (10, 100, 500)
        for k in (5, 10, 50)
    },
    **{f"rl2_mdps_n{n}": ["rl2_mdps.py", "--n", str(n)] for n in (10, 25, 50, 75, 100)},
    "restless": ["restless.py"],
    "two_step": ["two_step.py"],
    "harlow": ["harlow.py"],
}


def without_stop_time(flags: list[str]) -> list[str]:
    """``flags`` less any ``--stop-time SECONDS``: the script then trains for its preset's budget."""
    if "--stop-time" not in flags:
        return flags
    at = flags.index("--stop-time")
    return flags[:at] + flags[at + 2 :]


def run_default(
    task: str, keep_in: Path | None = None, scheduler: str | None = None, preset_budget: bool = False
) -> dict:
    script, *flags = COMMANDS[task]
    flags = without_stop_time(flags) if preset_budget else flags
    flags += ["--scheduler", scheduler] if scheduler else []
    with tempfile.TemporaryDirectory() as temporary:
        storage = str(keep_in or temporary)
        name = f"{task}-{time.strftime('%Y%m%d-%H%M%S')}" if keep_in else task  # never resume an earlier run
        command = [
            sys.executable,
            str(ROOT / "tune_configs" / script),
            *flags,
            "--storage-path",
            storage,
            "--name",
            name,
        ]
        started = time.time()
        result = subprocess.run(command, capture_output=True, text=True)
        wall = time.time() - started
        if result.returncode != 0:
            raise RuntimeError(f"{task} failed:\n{(result.stdout + result.stderr)[-3000:]}")
        summary = pd.read_csv(Path(storage) / name / "summary.csv").iloc[0].to_dict()
    shown = " ".join(["python", f"tune_configs/{script}", *flags])
    record = {
        "benchmark": "default_run",
        "task": task,
        "command": shown,
        "wall_time_s": round(wall, 1),
        "held_out_trials": int(summary["trials"]),
        "mean_return": round(summary["mean_return"], 4),
        "ci95": [round(summary["ci95_low"], 4), round(summary["ci95_high"], 4)],
        "optimal_return": summary["optimal_return"],
        "random_return": summary["random_return"],
        "fraction_of_optimum": round(summary["fraction_of_optimum"], 4),
        "checkpoint_iteration": summary.get("checkpoint_iteration"),
        "train_wall_time_s": summary.get("train_wall_time_s"),
        "machine": machine(),
    }
    return record


def without_nan(record: dict) -> dict:
    """NaN (no known optimum) as JSON null, so that every line is strict JSON."""
    return {key: None if isinstance(value, float) and math.isnan(value) else value for key, value in record.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tasks", nargs="*", default=["eleven_arm"], choices=list(COMMANDS), metavar="TASK")
    parser.add_argument("--storage-path", type=Path, help="keep the runs here (default: a temporary folder)")
    parser.add_argument("--scheduler", choices=SCHEDULERS, help="Tune's scheduler (default: the script's)")
    parser.add_argument(
        "--preset-budget",
        action="store_true",
        help="train for the preset's own budget, without the longer --stop-time of some RL^2 cells",
    )
    args = parser.parse_args(argv)
    keep_in = args.storage_path.expanduser().resolve() if args.storage_path else None
    for task in args.tasks:
        record = run_default(task, keep_in, args.scheduler, args.preset_budget)
        optimum = (
            f"optimum {record['optimal_return']:.3f} ({record['fraction_of_optimum']:.1%} of it), "
            if not math.isnan(record["optimal_return"])
            else ""
        )
        print(
            f"{record['command']}: wall {record['wall_time_s']:.0f} s, held-out mean {record['mean_return']:.3f} "
            f"(95% CI {record['ci95'][0]:.3f} to {record['ci95'][1]:.3f}) over {record['held_out_trials']} trials; "
            f"{optimum}random {record['random_return']:.3f}",
            flush=True,
        )
        append_record(without_nan(record), RESULTS)
    print(f"appended to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(exit_code(main))
