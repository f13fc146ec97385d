"""Parameter checks shared by the envs and the wrapper: each error names the bad value and what is allowed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def validate_trial_length(trial_length: Any) -> int:
    """Return ``trial_length`` as an int, or raise ValueError naming the bad value."""
    if isinstance(trial_length, bool) or not isinstance(trial_length, (int, np.integer)) or trial_length <= 0:
        raise ValueError(f"trial_length must be a positive integer, got {trial_length!r}")
    return int(trial_length)


def validate_probabilities(name: str, values: Sequence[float]) -> tuple[float, ...]:
    """Return ``values`` as a tuple of floats, or raise ValueError if any lies outside [0, 1]."""
    values = tuple(float(v) for v in values)
    if not values:
        raise ValueError(f"{name} must not be empty")
    bad = [v for v in values if not 0.0 <= v <= 1.0]
    if bad:
        raise ValueError(f"{name} must lie in [0, 1], got {bad[0]!r} in {values!r}")
    return values
