"""How every baseline turns scores into actions, for a batch of trials at once."""

from __future__ import annotations

import numpy as np


def random_argmax(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The best-scoring action of every row of ``scores``, ties broken uniformly at random."""
    best = np.isclose(scores, scores.max(axis=1, keepdims=True), rtol=0, atol=1e-12)
    return (best * rng.random(scores.shape)).argmax(axis=1)


def epsilon_mix(actions: np.ndarray, epsilon: float, num_actions: int, rng: np.random.Generator) -> np.ndarray:
    """``actions``, each replaced with probability ``epsilon`` by one drawn uniformly from ``num_actions``."""
    explore = rng.random(len(actions)) < epsilon
    return np.where(explore, rng.integers(num_actions, size=len(actions)), actions)
