"""The Bayes-optimal DPs against brute force: expectimax over raw histories, posteriors integrated on a grid."""

import numpy as np
import pytest

from rllib_metarl.baselines import DependentBayesOptimal, IndependentBayesOptimal
from rllib_metarl.baselines.bayes_optimal import KArmedBayesOptimal
from rllib_metarl.tasks.bandits import BernoulliBandit, DependentBandit

GRID = (np.arange(800) + 0.5) / 800  # midpoints on [0, 1]


def brute_force_value(horizon, prior_points, prior_weights):
    """Expectimax over every history; ``prior_points`` are (p_1, p_2) pairs with prior weights."""
    points = np.asarray(prior_points, dtype=float)

    def value(history, weights):
        if len(history) == horizon:
            return 0.0
        posterior = weights / weights.sum()
        best = -np.inf
        for arm in range(points.shape[1]):
            p_success = float(posterior @ points[:, arm])
            success = p_success * (1 + value(history + [(arm, 1)], weights * points[:, arm]))
            failure = (1 - p_success) * value(history + [(arm, 0)], weights * (1 - points[:, arm]))
            best = max(best, success + failure)
        return best

    return value([], np.asarray(prior_weights, dtype=float))


@pytest.mark.parametrize("horizon", [1, 2, 3, 4])
def test_independent_dp_matches_brute_force(horizon):
    coarse = (np.arange(100) + 0.5) / 100
    p1, p2 = np.meshgrid(coarse, coarse, indexing="ij")  # 100 x 100 midpoint grid of U[0,1]^2
    points = np.stack([p1.ravel(), p2.ravel()], axis=1)
    expected = brute_force_value(horizon, points, np.ones(len(points)))
    assert IndependentBayesOptimal(horizon).value == pytest.approx(expected, abs=2e-4)


@pytest.mark.parametrize("horizon", [1, 2, 3, 5])
@pytest.mark.parametrize("choices", [None, (0.1, 0.9), (0.25, 0.75), (0.4, 0.6), (0.0, 0.3, 1.0)])
def test_dependent_dp_matches_brute_force(horizon, choices):
    p1 = GRID if choices is None else np.asarray(choices)
    points = np.stack([p1, 1 - p1], axis=1)
    expected = brute_force_value(horizon, points, np.ones(len(points)))
    assert DependentBayesOptimal(horizon, choices).value == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize(("num_arms", "horizon"), [(3, 1), (3, 2), (3, 3), (4, 2)])
def test_k_armed_dp_matches_brute_force(num_arms, horizon):
    coarse = (np.arange(16) + 0.5) / 16
    grids = np.meshgrid(*[coarse] * num_arms, indexing="ij")  # midpoint grid of U[0,1]^k
    points = np.stack([g.ravel() for g in grids], axis=1)
    expected = brute_force_value(horizon, points, np.ones(len(points)))
    assert KArmedBayesOptimal(num_arms, horizon).value == pytest.approx(expected, abs=2e-3)


@pytest.mark.parametrize("horizon", [1, 4, 10])
def test_k_armed_dp_with_two_arms_is_the_two_armed_dp(horizon):
    assert KArmedBayesOptimal(2, horizon).value == pytest.approx(IndependentBayesOptimal(horizon).value, abs=1e-12)


def test_k_armed_dp_never_needs_more_arms_than_pulls():
    # With n pulls at most n arms are ever tried, so k = n and k = 50 are worth the same.
    assert KArmedBayesOptimal(50, 6).value == pytest.approx(KArmedBayesOptimal(6, 6).value, abs=1e-12)
    assert KArmedBayesOptimal(5, 10).value < KArmedBayesOptimal(10, 10).value


def test_known_small_values():
    # n = 2, independent: 1/2 + (1/2)(2/3) + (1/2)(1/2); dependent: 1/2 + (1/2)(2/3) + (1/2)(2/3).
    assert IndependentBayesOptimal(2).value == pytest.approx(0.5 + 1 / 3 + 1 / 4)
    assert DependentBayesOptimal(2).value == pytest.approx(0.5 + 2 / 3)
    # Known p: the two-point prior {p, p} is no prior at all; the best arm pays max(p, 1-p) every pull.
    assert DependentBayesOptimal(10, (0.7,)).value == pytest.approx(7.0)


def play(policy, env, trials, seed):
    env.reset(seed=seed)
    returns = []
    for _ in range(trials):
        env.reset()
        history, total, done = [], 0.0, False
        while not done:
            arm = policy.act(history)
            _, reward, done, _, _ = env.step(arm)
            history.append((arm, reward))
            total += reward
        returns.append(total)
    return np.array(returns)


@pytest.mark.parametrize(
    ("policy", "env"),
    [
        (IndependentBayesOptimal(10), BernoulliBandit(num_arms=2, trial_length=10)),
        (DependentBayesOptimal(10), DependentBandit("uniform", trial_length=10)),
        (DependentBayesOptimal(10, (0.25, 0.75)), DependentBandit("medium", trial_length=10)),
    ],
)
@pytest.mark.slow
def test_policy_earns_its_value_on_the_env(policy, env):
    returns = play(policy, env, trials=20000, seed=0)
    standard_error = returns.std() / np.sqrt(len(returns))
    assert abs(returns.mean() - policy.value) < 4 * standard_error


def test_bad_arguments():
    with pytest.raises(ValueError, match="trial_length must be a positive integer, got 0"):
        IndependentBayesOptimal(0)
    with pytest.raises(ValueError, match="limited to trial_length <= 12, got 20"):
        KArmedBayesOptimal(5, 20)
    with pytest.raises(ValueError, match=r"p1_choices must lie in \[0, 1\], got 1.5"):
        DependentBayesOptimal(10, (0.5, 1.5))
