"""Run each task's default experiment as a user would and record wall time and the held-out result.

    python benchmarks/default_runs.py                       # the main job: eleven_arm
    python benchmarks/default_runs.py eleven_arm dependent_uniform two_armed_independent

Each run is ``python tune_configs/<script> [variant flags]`` with no other arguments (results in a temporary folder);
its figures are printed and appended, one JSON object per line, to ``benchmarks/results/default_runs.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from rllib_metarl.envs import DEPENDENT_DIFFICULTIES

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "default_runs.jsonl"
COMMANDS = {
    "eleven_arm": ["eleven_arm.py"],
    "two_armed_independent": ["two_armed_independent.py"],
    **{f"dependent_{d}": ["two_armed_dependent.py", "--difficulty", d] for d in DEPENDENT_DIFFICULTIES},
}


def run_default(task: str) -> dict:
    script, *flags = COMMANDS[task]
    with tempfile.TemporaryDirectory() as storage:
        command = [
            sys.executable,
            str(ROOT / "tune_configs" / script),
            *flags,
            "--storage-path",
            storage,
            "--name",
            task,
        ]
        started = time.time()
        result = subprocess.run(command, capture_output=True, text=True)
        wall = time.time() - started
        if result.returncode != 0:
            raise RuntimeError(f"{task} failed:\n{(result.stdout + result.stderr)[-3000:]}")
        summary = pd.read_csv(Path(storage) / task / "summary.csv").iloc[0].to_dict()
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
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tasks", nargs="*", default=["eleven_arm"], choices=list(COMMANDS), metavar="TASK")
    args = parser.parse_args(argv)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    for task in args.tasks:
        record = run_default(task)
        print(
            f"{record['command']}: wall {record['wall_time_s']:.0f} s, held-out mean {record['mean_return']:.3f} "
            f"(95% CI {record['ci95'][0]:.3f} to {record['ci95'][1]:.3f}) over {record['held_out_trials']} trials; "
            f"optimum {record['optimal_return']:.3f} ({record['fraction_of_optimum']:.1%} of it), "
            f"random {record['random_return']:.3f}",
            flush=True,
        )
        with open(RESULTS, "a") as results:
            results.write(json.dumps(record) + "\n")
    print(f"appended to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
