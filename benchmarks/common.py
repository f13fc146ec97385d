"""What every benchmark script records: the machine it ran on, and one JSON object per line in benchmarks/results/."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

from rllib_metarl.utils.atomic_io import append_line

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """Cores, torch threads and versions: the figures of a benchmark depend on all of them."""
    import ray
    import torch

    return {
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "ray": ray.__version__,
        "processor": platform.processor() or platform.machine(),
    }


def append_record(record: dict[str, Any], results_file: Path) -> None:
    """Append ``record`` (with the date) as one JSON line; the file and its folder are created when missing."""
    results_file.parent.mkdir(parents=True, exist_ok=True)
    append_line(results_file, json.dumps({**record, "date": time.strftime("%Y-%m-%d %H:%M:%S")}))


def markdown_table(frame: Any, index_name: str) -> str:
    """A pandas frame as a Markdown table, its index as the first column (pandas' own needs ``tabulate``)."""
    lines = [f"| {index_name} | " + " | ".join(str(c) for c in frame.columns) + " |",
             "|---" * (len(frame.columns) + 1) + "|"]  # fmt: skip
    for name, row in frame.iterrows():
        cells = [f"{v:,.0f}" if isinstance(v, float) else str(v) for v in row]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
