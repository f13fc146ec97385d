"""Progress bars for long commands (evaluations, the analyses, RL^2's tables, pretraining), with the time left."""

from __future__ import annotations

from tqdm import tqdm


def progress(total: float, description: str, unit: str = "trial") -> tqdm:
    """A tqdm bar on standard error, shown only on a terminal, so that logs, pipes and tests stay clean."""
    return tqdm(total=total, desc=description, unit=unit, disable=None, leave=False, dynamic_ncols=True)
