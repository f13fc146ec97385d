"""The baselines of RL^2's Tables 1 and 2, their parameter grids, and the grid search that tunes them.

The paper tuned its baselines' parameters per setting; we do the same: every value of the grid plays
``tuning_trials`` trials drawn from :data:`rllib_metarl.utils.seeding.TUNING_STREAM` (never the held-out ones), and the
value with the highest mean return is the one reported. Baselines without a grid are played as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from rllib_metarl.baselines.bandits import (
    BayesOptimalPolicy,
    EpsilonGreedyPolicy,
    GittinsPolicy,
    GreedyPolicy,
    OptimisticThompsonSamplingPolicy,
    RandomPolicy,
    ThompsonSamplingPolicy,
    UCB1Policy,
)
from rllib_metarl.baselines.mdps import (
    BEBPolicy,
    EpsilonGreedyMDPPolicy,
    GreedyMDPPolicy,
    OPSRLPolicy,
    PSRLPolicy,
    RandomMDPPolicy,
    UCRL2Policy,
)
from rllib_metarl.baselines.play import play_baseline
from rllib_metarl.utils.seeding import TUNING_STREAM


@dataclass(frozen=True)
class Baseline:
    """A baseline algorithm and the grid of its one tuned parameter (none: nothing to tune)."""

    name: str
    make: Callable[..., Any]
    parameter: str | None = None
    grid: tuple[float, ...] = field(default_factory=tuple)


BANDIT_BASELINES: dict[str, Baseline] = {
    b.name: b
    for b in [
        Baseline("Random", RandomPolicy),
        Baseline("Gittins", GittinsPolicy, "discount", (0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995)),
        Baseline("TS", ThompsonSamplingPolicy),
        Baseline("OTS", OptimisticThompsonSamplingPolicy),  # Chapelle and Li's, as the paper's figures suggest
        Baseline("UCB1", UCB1Policy, "c", (0.0, 0.01, 0.03, 0.1, 0.3, 1.0)),
        Baseline("eps-Greedy", EpsilonGreedyPolicy, "epsilon", (0.0, 0.01, 0.03, 0.1, 0.3)),
        Baseline("Greedy", GreedyPolicy),
        Baseline("Bayes-optimal", BayesOptimalPolicy),
    ]
}

MDP_BASELINES: dict[str, Baseline] = {
    b.name: b
    for b in [
        Baseline("Random", RandomMDPPolicy),
        Baseline("PSRL", PSRLPolicy),
        Baseline("OPSRL", OPSRLPolicy, "num_samples", (2, 5, 10)),
        Baseline("UCRL2", UCRL2Policy, "scale", (0.01, 0.03, 0.1, 0.3, 1.0)),
        Baseline("BEB", BEBPolicy, "beta", (0.1, 0.3, 1.0, 3.0, 10.0)),
        Baseline("eps-Greedy", EpsilonGreedyMDPPolicy, "epsilon", (0.0, 0.03, 0.1, 0.3)),
        Baseline("Greedy", GreedyMDPPolicy),
    ]
}


def tune(
    baseline: Baseline, task_name: str, env_config: dict[str, Any], tuning_trials: int = 500, seed: int = 0
) -> tuple[dict[str, Any], pd.DataFrame]:
    """(best parameters, one row per grid value with its mean return) on the tuning trials."""
    if baseline.parameter is None:
        return {}, pd.DataFrame()
    rows = []
    for value in baseline.grid:
        trials = play_baseline(
            baseline.make(**{baseline.parameter: value}), task_name, env_config, tuning_trials, seed, TUNING_STREAM
        )
        rows.append({"baseline": baseline.name, baseline.parameter: value, "mean_return": trials["return"].mean()})
    scores = pd.DataFrame(rows)
    best = scores.loc[scores["mean_return"].idxmax(), baseline.parameter]
    return {baseline.parameter: best.item() if hasattr(best, "item") else best}, scores
