"""Peak resident memory of the main job: the driver and every process it starts (Ray's GCS, raylet, dashboard, the
Tune trials' workers), sampled from /proc twice a second.

    python benchmarks/memory.py                                   # python tune_configs/eleven_arm.py, as in the README
    python benchmarks/memory.py -- --stop-time 60 --num-samples 1 # extra flags after -- go to the job
    python benchmarks/memory.py --smoke                           # a 5-second job: what the test suite runs

Prints and appends to ``benchmarks/results/memory.jsonl``: the peak of the summed resident set size (RSS) over the
process tree, the peak of its largest process, and the job's wall time. RSS counts shared pages once per process,
so the sum is an upper bound of what the job holds. Linux only (it reads /proc).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import RESULTS, append_record, machine

from rllib_metarl.cli.main import exit_code

ROOT = Path(__file__).resolve().parents[1]
PAGE_KB = 4


def children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return children


def process_tree(root: int) -> list[int]:
    children, tree, pending = children_by_parent(), [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending += children.get(pid, [])
    return tree


def rss_mb(pid: int) -> float:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB / 1024
    except (OSError, IndexError):
        return 0.0


def measure(command: list[str], interval_s: float = 0.5) -> dict:
    started = time.perf_counter()
    job = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak_total, peak_process, peak_count = 0.0, 0.0, 0
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(job.stdout), daemon=True)
    reader.start()
    while job.poll() is None:
        sizes = [rss_mb(pid) for pid in process_tree(job.pid)]
        if sum(sizes) > peak_total:
            peak_total, peak_count = sum(sizes), len(sizes)
        peak_process = max(peak_process, *sizes)
        time.sleep(interval_s)
    reader.join(timeout=5)
    if job.returncode != 0:
        raise RuntimeError(f"the job failed (exit {job.returncode}):\n" + "".join(output)[-2000:])
    return {
        "job_output_tail": "".join(output).splitlines()[-8:],
        "peak_rss_total_mb": round(peak_total),
        "processes_at_peak": peak_count,
        "peak_rss_largest_process_mb": round(peak_process),
        "wall_time_s": round(time.perf_counter() - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a 5-second, one-trial job")
    parser.add_argument("--output", type=Path, default=RESULTS / "memory.jsonl")
    parser.add_argument("job_flags", nargs="*", help="flags for tune_configs/eleven_arm.py (after --)")
    args = parser.parse_args(argv)
    flags = list(args.job_flags)
    if args.smoke:
        flags += ["--stop-time", "5", "--num-samples", "1", "--eval-trials", "50", "--no-dashboard"]
    with tempfile.TemporaryDirectory() as storage:
        command = [sys.executable, "tune_configs/eleven_arm.py", *flags, "--storage-path", storage]
        record = measure(command)
    shown = " ".join(["python", "tune_configs/eleven_arm.py", *flags])
    record = {"benchmark": "memory", "command": shown, **record}
    print("\n".join(record["job_output_tail"]))
    print(f"{shown}: peak RSS {record['peak_rss_total_mb']:,} MB over {record['processes_at_peak']} processes "
          f"(largest {record['peak_rss_largest_process_mb']:,} MB), wall {record['wall_time_s']:.0f} s")  # fmt: skip
    append_record({**record, "machine": machine()}, args.output)
    print(f"Appended to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(exit_code(main))
