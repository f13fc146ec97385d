"""The restless analysis's learning-rate fit: it recovers a delta-rule player's own learning rate, and it finds the
Bayes-optimal player learning faster in volatile trials than in stable ones."""

import numpy as np
import pandas as pd
import pytest

from rllib_metarl.analysis.restless import fit_delta_rule, learning_rates
from rllib_metarl.baselines.play import baseline_steps
from rllib_metarl.baselines.restless import RestlessBayesPolicy


def delta_rule_player(alpha: float, beta: float, trials: int = 400, pulls: int = 100, seed: int = 0) -> pd.DataFrame:
    """Choices of the delta rule the fit assumes, on arms paying 0.75 / 0.25 that swap with hazard 0.05."""
    rng = np.random.default_rng(seed)
    better = rng.integers(2, size=trials)
    value = np.full(trials, 0.5)
    rows = []
    for step in range(pulls):
        arm_0 = rng.random(trials) < 1 / (1 + np.exp(-beta * (value - 0.5)))
        actions = np.where(arm_0, 0, 1)
        rewards = (rng.random(trials) < np.where(actions == better, 0.75, 0.25)).astype(float)
        evidence = ((actions == 0) == (rewards > 0)).astype(float)
        value += alpha * (evidence - value)
        better = np.where(rng.random(trials) < 0.05, 1 - better, better)
        rows += [{"trial": i, "step": step, "action": int(a), "reward": r}
                 for i, (a, r) in enumerate(zip(actions, rewards, strict=True))]  # fmt: skip
    return pd.DataFrame(rows)


@pytest.mark.parametrize("alpha", [0.1, 0.4])
def test_the_fit_recovers_a_delta_rule_players_learning_rate(alpha):
    fitted = fit_delta_rule(delta_rule_player(alpha, beta=8.0))
    assert fitted["learning_rate"] == pytest.approx(alpha, abs=0.05)
    assert fitted["inverse_temperature"] == pytest.approx(8.0, rel=0.3)


def test_the_bayes_optimal_player_learns_faster_when_the_arms_swap():
    trials, steps = baseline_steps(RestlessBayesPolicy.for_task(), "restless", None, num_trials=300, seed=2)
    rates = learning_rates(trials, steps).set_index("regime")["learning_rate"]
    assert rates["volatile"] > 1.3 * rates["stable"]
