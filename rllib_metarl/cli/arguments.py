"""Argument types shared by the command-line tools: each names the bad value in its error."""

from __future__ import annotations

import argparse
import ast
import math
from collections.abc import Callable
from typing import Any


def _int_at_least(minimum: int, wording: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {wording}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected {wording}, got {text!r}")
        return value

    return parse


positive_int = _int_at_least(1, "a positive integer")
MAX_SEED = 2**31 - 1  # numpy's and torch's seeds take it on every platform, with room for seed + trial index


def seed(text: str) -> int:
    """A seed: an integer in [0, MAX_SEED]."""
    value = _int_at_least(0, f"a seed, an integer in [0, {MAX_SEED}]")(text)
    if value > MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected a seed, an integer in [0, {MAX_SEED}], got {text!r}")
    return value


non_negative_int = _int_at_least(0, "an integer >= 0")


def _float_where(accept: Callable[[float], bool], wording: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {wording}, got {text!r}") from None
        if not math.isfinite(value) or not accept(value):
            raise argparse.ArgumentTypeError(f"expected {wording}, got {text!r}")
        return value

    return parse


finite_float = _float_where(lambda value: True, "a finite number")
positive_float = _float_where(lambda value: value > 0, "a positive number")
non_negative_float = _float_where(lambda value: value >= 0, "a number >= 0")
probability = _float_where(lambda value: 0.0 <= value <= 1.0, "a probability in [0, 1]")
discount = _float_where(lambda value: 0.0 < value <= 1.0, "a discount in (0, 1]")


def key_value(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw  # a plain string such as difficulty=easy
    return key, value
