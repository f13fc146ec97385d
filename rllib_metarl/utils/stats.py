"""The 95% intervals every report uses: of a mean (normal approximation) and of a proportion (Wilson)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Z_95 = 1.96


def mean_interval(values: Sequence[float] | np.ndarray) -> dict[str, float]:
    """``mean``, ``ci95_low``, ``ci95_high`` of ``values`` (NaN bounds for fewer than two values)."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    half_width = Z_95 * float(values.std(ddof=1)) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
    return {"mean": mean, "ci95_low": mean - half_width, "ci95_high": mean + half_width}


def wilson_interval(successes: float, count: int, z: float = Z_95) -> tuple[float, float]:
    """95% interval of a proportion (Wilson): sound near 0 and 1, where stay probabilities and accuracies sit."""
    if count == 0:
        return float("nan"), float("nan")
    p = successes / count
    centre = (p + z * z / (2 * count)) / (1 + z * z / count)
    half = z * math.sqrt(p * (1 - p) / count + z * z / (4 * count * count)) / (1 + z * z / count)
    return centre - half, centre + half
