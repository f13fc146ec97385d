"""The restless bandit's Bayes-optimal player: greedy on its exact belief equals exhaustive dynamic programming over
beliefs on short trials, and on the env's held-out trials it tells the regimes apart and beats random play."""

import copy

import numpy as np
import pytest

from rllib_metarl.baselines.bandits import RandomPolicy
from rllib_metarl.baselines.play import play_baseline
from rllib_metarl.baselines.restless import RestlessBayesPolicy


def one_trial(policy: RestlessBayesPolicy) -> RestlessBayesPolicy:
    policy.reset(1, 2, 10, np.random.default_rng(0))
    return policy


def values(policy: RestlessBayesPolicy, pulls_left: int) -> tuple[float, float]:
    """(the best expected return over the remaining pulls, the expected return of pulling greedily on the belief; a
    tie between the arms counts as a fair coin), by exhaustive recursion over rewards."""
    if pulls_left == 0:
        return 0.0, 0.0
    better = policy.better_arm_probability[0]
    outcomes = []
    for arm in (0, 1):
        p_reward = better[arm] * policy.p_high + (1 - better[arm]) * (1 - policy.p_high)
        best = greedy = 0.0
        for reward, probability in ((1.0, p_reward), (0.0, 1.0 - p_reward)):
            after = copy.deepcopy(policy)
            after.update(np.array([arm]), np.array([reward]))
            best_after, greedy_after = values(after, pulls_left - 1)
            best += probability * (reward + best_after)
            greedy += probability * (reward + greedy_after)
        outcomes.append((best, greedy))
    optimum = max(best for best, _ in outcomes)
    if abs(better[0] - better[1]) < 1e-12:
        return optimum, (outcomes[0][1] + outcomes[1][1]) / 2
    return optimum, outcomes[int(better[1] > better[0])][1]


@pytest.mark.parametrize(
    "parameters",
    [{"p_high": 0.75, "stable_hazard": 0.0, "volatile_hazard": 0.05, "volatile_prior": 0.5},
     {"p_high": 0.9, "stable_hazard": 0.1, "volatile_hazard": 0.4, "volatile_prior": 0.3},
     {"p_high": 0.6, "stable_hazard": 0.0, "volatile_hazard": 0.5, "volatile_prior": 1.0}],
)  # fmt: skip
@pytest.mark.parametrize("pulls", [1, 3, 6])
def test_greedy_on_the_exact_belief_is_bayes_optimal(parameters, pulls):
    optimum, greedy = values(one_trial(RestlessBayesPolicy(**parameters)), pulls)
    assert greedy == pytest.approx(optimum, abs=1e-12)
    assert optimum >= pulls * 0.5 - 1e-12  # a coin's return at least (exactly that where the arms swap at 0.5)
    if pulls > 1 and max(parameters["stable_hazard"], parameters["volatile_hazard"]) < 0.5:
        assert optimum > pulls * 0.5  # the first pull is a coin; the later ones are informed


def test_the_belief_after_a_reward_and_a_swap_is_bayes_rule_by_hand():
    policy = one_trial(RestlessBayesPolicy(p_high=0.8, stable_hazard=0.0, volatile_hazard=0.1, volatile_prior=0.5))
    policy.update(np.array([0]), np.array([1.0]))
    # Before the swap: P(arm 0 better | reward from arm 0) = 0.8 in both regimes; then volatile swaps with 0.1.
    stable_arm0, volatile_arm0 = 0.5 * 0.8, 0.5 * (0.9 * 0.8 + 0.1 * 0.2)
    np.testing.assert_allclose(policy.belief[0, :, 0], [stable_arm0, volatile_arm0])
    assert policy.better_arm_probability[0].sum() == pytest.approx(1.0)
    assert policy.volatile_probability[0] == pytest.approx(0.5)  # one pull says nothing about the regime


def test_for_task_reads_the_envs_probabilities_hazards_and_regime():
    mixed = RestlessBayesPolicy.for_task({"p_high": 0.8, "volatile_hazard": 0.1})
    assert (mixed.p_high, mixed.volatile_prior) == (0.8, 0.5) and mixed.hazards.tolist() == [0.0, 0.1]
    assert RestlessBayesPolicy.for_task({"regime": "volatile"}).volatile_prior == 1.0
    assert RestlessBayesPolicy.for_task({"regime": "stable"}).volatile_prior == 0.0


def test_on_held_out_trials_it_beats_random_play_in_both_regimes():
    bayes = play_baseline(RestlessBayesPolicy.for_task(), "restless", None, num_trials=400, seed=1)
    random = play_baseline(RandomPolicy(), "restless", None, num_trials=400, seed=1)
    for volatile in (0.0, 1.0):
        regime_bayes = bayes.loc[bayes["volatile"] == volatile, "return"]
        regime_random = random.loc[random["volatile"] == volatile, "return"]
        assert regime_bayes.mean() > regime_random.mean() + 10  # about 50 for random play; the oracle gets 75
        assert regime_bayes.mean() < 75
    assert bayes.loc[bayes["volatile"] == 0.0, "return"].mean() > bayes.loc[bayes["volatile"] == 1.0, "return"].mean()
