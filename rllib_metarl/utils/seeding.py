"""Seeds of evaluation trials, shared by the agent's evaluation and the baselines so that both face the same tasks."""

from __future__ import annotations

import numpy as np

# Independent streams derived from (seed, stream): training seeds never carry these entries.
HELD_OUT_STREAM = 0x4E1D0  # the trials every reported figure is measured on
TUNING_STREAM = 0x7E5E7  # the trials baselines' parameters are tuned on, disjoint from the held-out ones


def trial_seeds(num_trials: int, seed: int = 0, stream: int = HELD_OUT_STREAM) -> np.ndarray:
    """The reset seed of each of ``num_trials`` trials; trial i gets the same seed whatever ``num_trials`` is."""
    if num_trials <= 0:
        raise ValueError(f"num_trials must be positive, got {num_trials!r}")
    return np.random.default_rng(np.random.SeedSequence([seed, stream])).integers(0, 2**31 - 1, size=num_trials)
