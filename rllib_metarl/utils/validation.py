"""Parameter checks shared by the envs and the wrapper: each error names the bad value and what is allowed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def validate_integer(name: str, value: Any, minimum: int = 1) -> int:
    """Return ``value`` as an int, or raise ValueError if it is not an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        allowed = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return int(value)


def validate_trial_length(trial_length: Any) -> int:
    """Return ``trial_length`` as an int, or raise ValueError naming the bad value."""
    return validate_integer("trial_length", trial_length)


def validate_fraction(name: str, value: Any) -> float:
    """Return ``value`` as a float, or raise ValueError if it is not a number in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return float(value)


def validate_probabilities(name: str, values: Sequence[float]) -> tuple[float, ...]:
    """Return ``values`` as a tuple of floats, or raise ValueError if any lies outside [0, 1]."""
    if any(isinstance(v, bool | np.bool_) or not isinstance(v, int | float | np.number) for v in values):
        raise ValueError(f"{name} must be numbers in [0, 1], got {tuple(values)!r}")
    values = tuple(float(v) for v in values)
    if not values:
        raise ValueError(f"{name} must not be empty")
    bad = [v for v in values if not 0.0 <= v <= 1.0]
    if bad:
        raise ValueError(f"{name} must lie in [0, 1], got {bad[0]!r} in {values!r}")
    return values


def validate_flag(name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool, else raise ValueError naming it."""
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def validate_number(name: str, value: Any) -> float:
    """Return ``value`` as a float if it is a finite number (not a bool), else raise ValueError naming it."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def validate_task_mode(meta: Any, task_seed: Any, what: str = "task") -> tuple[bool, int | None]:
    """Check the meta/fixed-task switch every env has: ``meta`` a bool, ``task_seed`` only for a fixed task."""
    if not isinstance(meta, (bool, np.bool_)):
        raise ValueError(f"meta must be True (new {what} every reset) or False (fixed {what}), got {meta!r}")
    if task_seed is not None and (meta or isinstance(task_seed, bool) or not isinstance(task_seed, (int, np.integer))):
        raise ValueError(f"task_seed fixes one {what}: it needs meta=False and an integer, got {task_seed!r}")
    return bool(meta), task_seed


def validate_action(action: Any, num_actions: int, start: int = 0) -> int:
    """Return a discrete ``action`` as an int, or raise ValueError unless it is an integer in ``[start, start + n)``.

    An integer-valued float (``3.0``, ``np.float32(3.9)``) is refused, not truncated: an action is what it claims.
    """
    value = action.item() if isinstance(action, np.ndarray) and action.ndim == 0 else action
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise ValueError(f"action must be an integer in [{start}, {start + num_actions - 1}], got {action!r}")
    if not start <= value < start + num_actions:
        raise ValueError(f"action must be in [{start}, {start + num_actions - 1}], got {action!r}")
    return int(value)


def validate_actions(actions: Any, num_envs: int, num_actions: int, start: int = 0) -> np.ndarray:
    """The actions of ``num_envs`` copies as an int64 array, or a ValueError naming the first that is not an integer
    in ``[start, start + n)``."""
    array = np.asarray(actions)
    if array.size != num_envs:
        raise ValueError(f"expected {num_envs} actions, one per copy, got {array.size}")
    array = array.reshape(num_envs)
    if array.dtype.kind not in "iu":
        raise ValueError(f"actions must be integers in [{start}, {start + num_actions - 1}], got {array.dtype} "
                         f"values such as {array.flat[0].item()!r}")  # fmt: skip
    bad = (array < start) | (array >= start + num_actions)
    if bad.any():
        raise ValueError(f"action must be in [{start}, {start + num_actions - 1}], got {array[bad][0].item()!r}")
    return array.astype(np.int64)
