"""Property-based tests: for any valid parameters and seed, every env and the wrapper keep their contracts.

Observations lie in the observation space, rewards in the task's support, a trial lasts exactly ``trial_length``
steps, and the same seed gives the same trial.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rllib_metarl import ActionRewardTimestepWrapper
from rllib_metarl.tasks.bandits import DEPENDENT_DIFFICULTIES, BernoulliBandit, DependentBandit, ElevenArmedBandit

seeds = st.integers(0, 2**31 - 1)
trial_lengths = st.integers(1, 40)
probabilities = st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=4)


@st.composite
def envs(draw):
    """Any env of ours with valid parameters, wrapped or bare."""
    trial_length = draw(trial_lengths)
    meta = draw(st.booleans())
    kind = draw(st.sampled_from(["bernoulli", "dependent", "dependent_custom", "eleven"]))
    if kind == "bernoulli":
        env = BernoulliBandit(num_arms=draw(st.integers(2, 12)), trial_length=trial_length, meta=meta)
    elif kind == "dependent":
        env = DependentBandit(draw(st.sampled_from(sorted(DEPENDENT_DIFFICULTIES))), trial_length, meta)
    elif kind == "dependent_custom":
        env = DependentBandit(trial_length=trial_length, meta=meta, p1_choices=draw(probabilities))
    else:
        env = ElevenArmedBandit(trial_length=trial_length, meta=meta)
    if draw(st.booleans()):
        encoding = draw(st.sampled_from(["scalar", "one_hot"]))
        env = ActionRewardTimestepWrapper(env, reward_encoding=encoding)
    return env


def rollout(env, seed, actions_seed):
    """(observations, rewards) of one trial with random actions."""
    rng = np.random.default_rng(actions_seed)
    observation, _ = env.reset(seed=seed)
    observations, rewards = [observation], []
    terminated = False
    while not terminated:
        observation, reward, terminated, truncated, _ = env.step(int(rng.integers(env.action_space.n)))
        assert not truncated
        observations.append(observation)
        rewards.append(reward)
    return observations, rewards


@settings(max_examples=150, deadline=None)
@given(envs(), seeds, seeds)
def test_observations_rewards_and_length(env, seed, actions_seed):
    observations, rewards = rollout(env, seed, actions_seed)
    assert len(rewards) == env.unwrapped.trial_length
    assert all(env.observation_space.contains(observation) for observation in observations)
    support = env.unwrapped.reward_values
    assert all(np.isclose(support, reward).any() for reward in rewards)


@settings(max_examples=100, deadline=None)
@given(envs(), seeds, seeds)
def test_same_seed_same_trial(env, seed, actions_seed):
    (first_observations, first_rewards) = rollout(env, seed, actions_seed)
    (second_observations, second_rewards) = rollout(env, seed, actions_seed)
    assert first_rewards == second_rewards
    np.testing.assert_array_equal(np.stack(first_observations), np.stack(second_observations))


@settings(max_examples=100, deadline=None)
@given(envs(), seeds)
def test_expected_rewards_lie_in_the_support(env, seed):
    env.reset(seed=seed)
    expected = env.unwrapped.expected_rewards
    assert len(expected) == env.action_space.n
    support = env.unwrapped.reward_values
    assert np.all(expected >= min(support)) and np.all(expected <= max(support))
