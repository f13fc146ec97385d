"""Every algorithm x memory core on eleven-arm and dependent-uniform, each with the same fixed training budget.

    python benchmarks/algorithms.py                                # 4 algorithms x 3 cores x 2 tasks, 150 s each
    python benchmarks/algorithms.py --algos ppo a2c --cores gru --tasks eleven_arm --budget 60

Each cell is ``python tune_configs/<task script> --algo A --core C --num-samples 1 --scheduler fifo --stop-time B``
(seed 0; the task's preset otherwise), evaluated by the runner on 1000 held-out trials with frozen weights. The table
gives the held-out mean as a fraction of the optimum (eleven-arm's 20.55, the exact Bayes-optimal 73.78 of
dependent-uniform) and the run's wall time. ``--parallel 2`` runs two cells at a time (one CPU each), their starts
30 s apart (two Ray instances started at the same moment collide). Every cell is appended to
``benchmarks/results/algorithms.jsonl`` as it finishes; the Markdown table goes to ``benchmarks/results/algorithms.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
from common import RESULTS, append_record, machine

from rllib_metarl.algorithms import ALGORITHMS
from rllib_metarl.cli.main import exit_code
from rllib_metarl.models import CORES
from rllib_metarl.training.presets import get_preset

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = {"eleven_arm": ["eleven_arm.py"], "dependent_uniform": ["two_armed_dependent.py", "--difficulty", "uniform"]}
START_GAP_S = 30.0


def run_cell(task: str, algo: str, core: str, budget: float, storage: Path, start_delay: float) -> dict:
    time.sleep(start_delay)
    name = f"{task}-{algo}-{core}-{time.strftime('%Y%m%d-%H%M%S')}"
    script, *flags = SCRIPTS[task]
    arguments = [*flags, "--algo", algo, "--core", core, "--num-samples", "1", "--scheduler", "fifo",
                 "--stop-time", f"{budget:g}"]  # fmt: skip
    started = time.time()
    result = subprocess.run(
        [sys.executable, str(ROOT / "tune_configs" / script), *arguments, "--no-dashboard",
         "--storage-path", str(storage), "--name", name],
        capture_output=True,
        text=True,
    )  # fmt: skip
    record = {
        "benchmark": "algorithms",
        "task": task,
        "algo": algo,
        "core": core,
        "budget_s": budget,
        "entropy_coeff": get_preset(task, algo=algo, core=core).entropy_coeff,
        "wall_time_s": round(time.time() - started, 1),
        "command": " ".join(["python", f"tune_configs/{script}", *arguments]),
    }
    summary_file = storage / name / "summary.csv"
    if result.returncode != 0 or not summary_file.exists():
        record["error"] = (result.stdout + result.stderr)[-1500:]
        return record
    summary = pd.read_csv(summary_file).iloc[0]
    record.update(
        held_out_mean=round(float(summary["mean_return"]), 4),
        ci95=[round(float(summary["ci95_low"]), 4), round(float(summary["ci95_high"]), 4)],
        optimal_return=float(summary["optimal_return"]),
        fraction_of_optimum=round(float(summary["fraction_of_optimum"]), 4),
        iterations=int(summary["checkpoint_iteration"])
        if summary["checkpoint_iteration"] == summary["checkpoint_iteration"]
        else None,
        machine=machine(),
    )
    return record


def markdown(records: list[dict]) -> str:
    frame = pd.DataFrame(records)
    frame["cell"] = frame.apply(
        lambda r: "failed" if pd.isna(r.get("fraction_of_optimum")) else
        f"{r['fraction_of_optimum']:.1%} ({r['held_out_mean']:.2f}, {r['wall_time_s']:.0f} s)", axis=1)  # fmt: skip
    table = frame.pivot_table(index=["algo", "core"], columns="task", values="cell", aggfunc="first")
    table = table.reindex(columns=[task for task in SCRIPTS if task in table.columns])
    lines = ["| algo | core | " + " | ".join(table.columns) + " |", "|---|---|" + "---|" * len(table.columns)]
    for (algo, core), row in table.iterrows():
        lines.append(f"| {algo} | {core} | " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algos", nargs="+", choices=ALGORITHMS, default=list(ALGORITHMS))
    parser.add_argument("--cores", nargs="+", choices=CORES, default=list(CORES))
    parser.add_argument("--tasks", nargs="+", choices=list(SCRIPTS), default=list(SCRIPTS))
    parser.add_argument("--budget", type=float, default=150.0, help="seconds of training per cell")
    parser.add_argument("--parallel", type=int, choices=(1, 2), default=1, help="cells run at a time")
    parser.add_argument("--storage-path", type=Path, help="keep the runs here (default: a temporary folder)")
    parser.add_argument("--table-only", action="store_true",
                        help="run nothing: rebuild algorithms.md from the newest record of every cell")  # fmt: skip
    args = parser.parse_args(argv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.table_only:
        write_table(latest_records(args.budget), args.budget)
        return 0
    cells = [(t, a, c) for t in args.tasks for a in args.algos for c in args.cores]
    records = []
    with tempfile.TemporaryDirectory() as temporary, ThreadPoolExecutor(args.parallel) as pool:
        storage = (args.storage_path or Path(temporary)).expanduser().resolve()
        futures = [
            pool.submit(run_cell, *cell, args.budget, storage, START_GAP_S if i % 2 and args.parallel > 1 else 0.0)
            for i, cell in enumerate(cells)
        ]
        for future in futures:
            record = future.result()
            records.append(record)
            shown = record.get("fraction_of_optimum")
            print(f"{record['task']:<18} {record['algo']:<7} {record['core']:<10} "
                  + (f"{shown:.1%} of the optimum ({record['held_out_mean']:.3f}), wall {record['wall_time_s']:.0f} s"
                     if shown is not None else f"FAILED: {record['error'][-300:]}"), flush=True)  # fmt: skip
            append_record(record, RESULTS / "algorithms.jsonl")
    write_table(records, args.budget)
    return 0


def latest_records(budget: float) -> list[dict]:
    """The newest record of every (task, algo, core) cell with this budget in the JSONL file."""
    newest: dict[tuple, dict] = {}
    for line in (RESULTS / "algorithms.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record.get("budget_s") == budget:
            newest[(record["task"], record["algo"], record["core"])] = record
    return list(newest.values())


def write_table(records: list[dict], budget: float) -> None:
    table = markdown(records)
    (RESULTS / "algorithms.md").write_text(
        f"`python benchmarks/algorithms.py --budget {budget:g}`: held-out mean as a fraction of the optimum "
        f"(mean, wall time), 1000 trials, seed 0\n\n{table}\n"
    )
    print("\n" + table)


if __name__ == "__main__":
    sys.exit(exit_code(main))
