"""The classical baselines of RL^2's tables: known answers on tiny cases, tuning, and playing the agent's trials."""

import numpy as np
import pandas as pd
import pytest

from rllib_metarl.baselines.bandits import (
    BayesOptimalPolicy,
    EpsilonGreedyPolicy,
    GittinsPolicy,
    GreedyPolicy,
    OptimisticThompsonSamplingPolicy,
    RandomPolicy,
    ThompsonSamplingPolicy,
    UCB1Policy,
    gittins_indices,
)
from rllib_metarl.baselines.bayes_optimal import KArmedBayesOptimal, bayes_optimal_return
from rllib_metarl.baselines.mdps import (
    BEBPolicy,
    EpsilonGreedyMDPPolicy,
    GreedyMDPPolicy,
    OPSRLPolicy,
    PSRLPolicy,
    RandomMDPPolicy,
    UCRL2Policy,
    _optimistic_expectation,
)
from rllib_metarl.baselines.play import play_baseline
from rllib_metarl.baselines.tuning import BANDIT_BASELINES, Baseline, tune
from rllib_metarl.tasks.bandits import BernoulliBandit
from rllib_metarl.utils.seeding import trial_seeds


def play_fixed_arms(policy, probabilities, trials=2000, seed=0):
    """Total reward per trial of ``policy`` on a bandit with known arm probabilities (the same in every trial)."""
    rng = np.random.default_rng(seed)
    probabilities = np.asarray(probabilities)
    policy.reset(trials, len(probabilities), 10, np.random.default_rng(seed + 1))
    total = np.zeros(trials)
    for _ in range(10):
        arms = policy.act()
        rewards = (rng.random(trials) < probabilities[arms]).astype(float)
        policy.update(arms, rewards)
        total += rewards
    return total


def reference_gittins_index(s, f, discount, depth=400):
    """Bisection on the retirement reward, with a fresh DP from (s, f) for each candidate."""
    low, high = 0.0, 1.0
    for _ in range(40):
        lam = (low + high) / 2
        successes = s + np.arange(depth + 1)
        values = np.maximum(lam, (successes + 1) / (s + f + depth + 2)) / (1 - discount)
        for d in range(depth - 1, -1, -1):
            successes = s + np.arange(d + 1)
            p = (successes + 1) / (s + f + d + 2)
            cont = p * (1 + discount * values[1:]) + (1 - p) * discount * values[:-1]
            values = np.maximum(cont, lam / (1 - discount))
        low, high = (lam, high) if cont[0] > lam / (1 - discount) else (low, lam)
    return lam


def test_greedy_on_a_sure_arm_loses_at_most_the_first_pull():
    # Arm 0 always pays, arm 1 never: a first pull of arm 1 (a coin flip) fails and Greedy switches for good.
    returns = play_fixed_arms(GreedyPolicy(), [1.0, 0.0])
    assert set(np.unique(returns)) == {9.0, 10.0}
    assert returns.mean() == pytest.approx(9.5, abs=0.05)


def test_random_and_full_exploration_earn_the_mean_arm():
    for policy in (RandomPolicy(), EpsilonGreedyPolicy(epsilon=1.0)):
        returns = play_fixed_arms(policy, [0.9, 0.1, 0.5])
        assert returns.mean() == pytest.approx(5.0, abs=4 * returns.std() / np.sqrt(len(returns)))


def test_ucb1_without_bonus_is_greedy_and_bonus_spreads_pulls():
    greedy = play_fixed_arms(GreedyPolicy(), [0.6, 0.5, 0.4])
    ucb_zero = play_fixed_arms(UCB1Policy(c=0.0), [0.6, 0.5, 0.4])
    np.testing.assert_array_equal(greedy, ucb_zero)  # same choices, same random tie-breaks
    explorer = UCB1Policy(c=1.0)
    play_fixed_arms(explorer, [0.6, 0.5, 0.4])
    assert (explorer.pulls.min(axis=1) >= 2).mean() > 0.9  # every arm tried more than once


def test_optimistic_thompson_never_draws_below_the_mean():
    policy = OptimisticThompsonSamplingPolicy(scale=0.0)  # scale 0: every draw is the mean, so OTS acts greedily
    policy.reset(500, 3, 10, np.random.default_rng(0))
    policy.successes[:] = [4, 1, 0]
    policy.failures[:] = [1, 0, 0]  # means 5/7, 2/3, 1/2
    assert (policy.act() == 0).all()
    thompson, optimistic = ThompsonSamplingPolicy(), OptimisticThompsonSamplingPolicy()
    for policy in (thompson, optimistic):
        policy.reset(4000, 2, 10, np.random.default_rng(1))
        policy.successes[:], policy.failures[:] = [2, 0], [1, 0]  # arm 0: mean 0.6 from 3 pulls; arm 1 untried
    # Arm 1's draw (Beta(1, 1)) beats arm 0's more often when arm 0's draw cannot fall below its mean.
    assert (optimistic.act() == 1).mean() < (thompson.act() == 1).mean() - 0.05


@pytest.mark.parametrize(("s", "f", "discount"), [(0, 0, 0.9), (1, 0, 0.9), (0, 1, 0.9), (3, 5, 0.95), (0, 0, 0.5)])
def test_gittins_indices_match_bisection(s, f, discount):
    assert gittins_indices(discount, 10)[s, f] == pytest.approx(reference_gittins_index(s, f, discount), abs=2e-4)


def test_gittins_index_of_the_uniform_prior_is_the_published_one():
    # Gittins' tables: a Beta(1, 1) Bernoulli arm has index 0.7029 at discount 0.9.
    assert gittins_indices(0.9, 5)[0, 0] == pytest.approx(0.7029, abs=1e-4)
    indices = gittins_indices(0.9, 20)
    means = (np.arange(21)[:, None] + 1) / (np.arange(21)[:, None] + np.arange(21)[None, :] + 2)
    reachable = ~np.isnan(indices)
    assert (indices[reachable] >= means[reachable] - 1e-9).all()  # the index is never below the posterior mean


@pytest.mark.slow
def test_bayes_optimal_policy_earns_the_dp_value_through_the_env():
    for config, value in [
        ({"num_arms": 3, "trial_length": 6}, KArmedBayesOptimal(3, 6).value),
        ({"num_arms": 2, "trial_length": 20}, bayes_optimal_return(20, dependent=False)),
    ]:
        returns = play_baseline(BayesOptimalPolicy(), "k_armed", config, num_trials=4000)["return"]
        assert returns.mean() == pytest.approx(value, abs=4 * returns.std() / np.sqrt(len(returns)))
    dependent = play_baseline(
        BayesOptimalPolicy(dependent=True, p1_choices=(0.1, 0.9)), "dependent_easy", {"trial_length": 20}, 4000
    )["return"]
    expected = bayes_optimal_return(20, dependent=True, p1_choices=(0.1, 0.9))
    assert dependent.mean() == pytest.approx(expected, abs=4 * dependent.std() / np.sqrt(len(dependent)))


def test_baselines_face_the_agents_held_out_tasks():
    trials = play_baseline(RandomPolicy(), "k_armed", {"num_arms": 4, "trial_length": 3}, num_trials=5, seed=9)
    assert list(trials.columns[:3]) == ["trial", "return", "length"] and len(trials) == 5
    # Optimal-action rates in the rows come from tasks drawn from the shared held-out seeds.
    for seed, regret_seen in zip(trial_seeds(5, 9), trials["regret"], strict=True):
        env = BernoulliBandit(num_arms=4, trial_length=3)
        env.reset(seed=int(seed))
        assert regret_seen <= 3 * (env.expected_rewards.max() - env.expected_rewards.min()) + 1e-12
    again = play_baseline(RandomPolicy(), "k_armed", {"num_arms": 4, "trial_length": 3}, num_trials=5, seed=9)
    pd.testing.assert_frame_equal(trials, again)  # the same seed gives the same trials


def test_a_policy_cannot_play_the_other_family():
    with pytest.raises(ValueError, match="GreedyPolicy cannot play tabular_mdp"):
        play_baseline(GreedyPolicy(), "tabular_mdp", {}, num_trials=2)
    with pytest.raises(ValueError, match="PSRLPolicy cannot play k_armed"):
        play_baseline(PSRLPolicy(), "k_armed", {}, num_trials=2)


def test_tuning_picks_the_best_grid_value_on_tuning_trials():
    baseline = Baseline("eps-Greedy", EpsilonGreedyPolicy, "epsilon", (1.0, 0.0))
    best, scores = tune(baseline, "k_armed", {"num_arms": 2, "trial_length": 20}, tuning_trials=300)
    assert best == {"epsilon": 0.0}  # greedy beats uniformly random play
    assert scores.loc[scores["epsilon"] == 1.0, "mean_return"].item() == pytest.approx(10.0, abs=1.0)
    best, scores = tune(BANDIT_BASELINES["TS"], "k_armed", {}, tuning_trials=10)
    assert best == {} and scores.empty  # nothing to tune


def test_bad_baseline_parameters():
    with pytest.raises(ValueError, match=r"epsilon must be in \[0, 1\], got 1.5"):
        EpsilonGreedyPolicy(1.5)
    with pytest.raises(ValueError, match=r"discount must be in \(0, 0.995\], got 1.0"):
        GittinsPolicy(1.0)
    with pytest.raises(ValueError, match="num_samples must be a positive integer, got 0"):
        OPSRLPolicy(0)
    with pytest.raises(ValueError, match="beta must be >= 0, got -1"):
        BEBPolicy(-1)


# -- MDP baselines ------------------------------------------------------------------------------------------------
def test_optimistic_expectation_within_the_l1_ball():
    empirical = np.full((1, 1, 1, 4), 0.25)
    values = np.array([[0.0, 3.0, 1.0, 2.0]])
    plain = _optimistic_expectation(empirical, np.zeros((1, 1, 1)), values)
    assert plain[0, 0, 0] == pytest.approx(1.5)  # radius 0: the empirical expectation
    # radius 0.5: 0.25 more on the best state (3), taken from the worst (0): 0.5 * 3 + 0.25 * (1 + 2).
    assert _optimistic_expectation(empirical, np.full((1, 1, 1), 0.5), values)[0, 0, 0] == pytest.approx(2.25)
    assert _optimistic_expectation(empirical, np.full((1, 1, 1), 2.0), values)[0, 0, 0] == pytest.approx(3.0)


def test_beb_plans_greedily_plus_its_bonus():
    rng = np.random.default_rng(0)
    greedy, beb, beb_zero = GreedyMDPPolicy(), BEBPolicy(beta=2.0), BEBPolicy(beta=0.0)
    for policy in (greedy, beb, beb_zero):
        policy.reset(4, 3, 2, 2, np.random.default_rng(0))
    for _ in range(30):
        states, actions = rng.integers(3, size=4), rng.integers(2, size=4)
        rewards, next_states = rng.normal(size=4), rng.integers(3, size=4)
        for policy in (greedy, beb, beb_zero):
            policy.update(states, actions, rewards, next_states, episode_done=False)
    np.testing.assert_allclose(beb_zero.plan(), greedy.plan())
    # At the last step of an episode Q is the immediate reward: the bonus beta / (1 + n) is all that differs.
    np.testing.assert_allclose(beb.plan()[:, -1] - greedy.plan()[:, -1], 2.0 / (1 + greedy.visits))


@pytest.mark.parametrize(
    "policy",
    [GreedyMDPPolicy(), EpsilonGreedyMDPPolicy(0.1), PSRLPolicy(), OPSRLPolicy(3), UCRL2Policy(0.1), BEBPolicy(1.0)],
    ids=lambda p: p.name,
)
def test_mdp_baselines_learn_within_a_trial(policy):
    config = {"num_episodes": 10}
    random = play_baseline(RandomMDPPolicy(), "tabular_mdp", config, num_trials=300)
    learner = play_baseline(policy, "tabular_mdp", config, num_trials=300)
    # Random earns 1 per step; every learner ends up well above (the papers' figures: 133 to 150 of 100 steps).
    assert random["return"].mean() == pytest.approx(100.0, abs=4 * random["return"].std() / np.sqrt(300))
    assert learner["return"].mean() > 125.0
    assert (learner["normalized_return"] < 1.2).all() and learner["oracle_return"].mean() > 180.0
