"""The 95% intervals every report uses: of a mean (normal approximation), of a mean over a few seeds (Student's t)
and of a proportion (Wilson)."""

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


def seeds_interval(values: Sequence[float] | np.ndarray) -> dict[str, float]:
    """``mean``, ``ci95_low``, ``ci95_high`` of per-seed figures: Student's t with n - 1 degrees of freedom, as the
    normal approximation is too narrow for the handful of seeds a training run has (NaN bounds below two)."""
    from scipy.stats import t

    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return {"mean": mean, "ci95_low": float("nan"), "ci95_high": float("nan")}
    half_width = float(t.ppf(0.975, len(values) - 1)) * float(values.std(ddof=1)) / math.sqrt(len(values))
    return {"mean": mean, "ci95_low": mean - half_width, "ci95_high": mean + half_width}


def wilson_interval(successes: float, count: int, z: float = Z_95) -> tuple[float, float]:
    """95% interval of a proportion (Wilson): sound near 0 and 1, where stay probabilities and accuracies sit."""
    if count == 0:
        return float("nan"), float("nan")
    p = successes / count
    centre = (p + z * z / (2 * count)) / (1 + z * z / count)
    half = z * math.sqrt(p * (1 - p) / count + z * z / (4 * count * count)) / (1 + z * z / count)
    return centre - half, centre + half
