"""The trial-statistics wrapper: its values on hand-made trajectories, its vector twin, and the agent env with it."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rllib_metarl.tasks import make_agent_env, make_agent_vector_env
from rllib_metarl.tasks.bandits import BernoulliBandit
from rllib_metarl.tasks.tabular_mdp import TabularMDP
from rllib_metarl.wrappers import TrialStatistics, TrialStatisticsWrapper


class ChainMDP(gym.Env):
    """Two states, two actions, deterministic: action 1 in state 0 pays 1 and moves to state 1, everything else pays 0
    and stays. Two inner episodes of two steps, each starting in state 0. A user's env: one-hot states, no task draw."""

    num_states, episode_length, trial_length = 2, 2, 4

    def __init__(self):
        self.action_space = gym.spaces.Discrete(2)
        self.observation_space = gym.spaces.Box(0.0, 1.0, (2,), dtype=np.float32)

    def _observation(self):
        return np.eye(2, dtype=np.float32)[self.state]

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.state, self.t = 0, 0
        return self._observation(), {}

    def step(self, action):
        reward = float(self.state == 0 and action == 1)
        self.state = 1 if reward else self.state
        self.t += 1
        episode_done = self.t % self.episode_length == 0
        if episode_done:
            self.state = 0
        return self._observation(), reward, self.t == self.trial_length, False, {"inner_episode_done": episode_done}


def split(observation: np.ndarray, num_states: int = 2, num_actions: int = 2) -> dict[str, np.ndarray]:
    """The parts of a wrapped ChainMDP observation."""
    parts = np.split(observation[num_states:], np.cumsum([num_actions, num_actions, num_actions * num_states]))
    return dict(zip(("visits", "means", "transitions", "values"), parts, strict=True))


def test_bandit_counts_and_mean_rewards_per_arm():
    env = TrialStatisticsWrapper(BernoulliBandit(num_arms=3, trial_length=4))
    observation, _ = env.reset(seed=3)
    np.testing.assert_array_equal(observation, np.zeros(6))  # visits / T and mean rewards of 3 arms, no states
    rewards = {0: [], 1: [], 2: []}
    for arm in (0, 2, 0, 2):
        observation, reward, *_ = env.step(arm)
        rewards[arm].append(reward)
        visits = [len(rewards[a]) / 4 for a in range(3)]
        means = [np.mean(rewards[a]) if rewards[a] else 0.0 for a in range(3)]
        np.testing.assert_allclose(observation, visits + means, rtol=0, atol=1e-7)
    np.testing.assert_array_equal(env.reset()[0], np.zeros(6))  # a new trial starts with none


def test_mdp_transitions_and_values_by_hand():
    env = TrialStatisticsWrapper(ChainMDP())
    assert (env.num_states, env.value_horizon, env.trial_length) == (2, 2, 4)
    observation, _ = env.reset()
    first = split(observation)
    np.testing.assert_array_equal(first["transitions"], [0.5] * 4)  # the uniform prior's mean
    np.testing.assert_array_equal(first["values"], [0.0, 0.0])
    observation, *_ = env.step(1)  # state 0, action 1: reward 1, to state 1
    np.testing.assert_array_equal(observation[:2], [0, 1])
    at_state_1 = split(observation)
    np.testing.assert_array_equal(at_state_1["visits"], [0, 0])  # nothing done in state 1 yet
    np.testing.assert_array_equal(at_state_1["transitions"], [0.5] * 4)
    # Value iteration over H = 2 on the estimate: Q_2 = R; V_2 = (1, 0); Q_1(s1, a) = 0 + (1/2, 1/2) . V_2 = 1/2.
    np.testing.assert_allclose(at_state_1["values"], [0.25, 0.25])  # per step of H
    observation, _, _, _, info = env.step(0)  # the inner episode ends: back in state 0, no transition counted
    assert info["inner_episode_done"]
    at_state_0 = split(observation)
    np.testing.assert_array_equal(at_state_0["visits"], [0, 0.25])
    np.testing.assert_array_equal(at_state_0["means"], [0, 1])
    # P(. | s0, a1) = (0 + 1, 1 + 1) / (1 + 2); P(. | s0, a0) is still the prior's.
    np.testing.assert_allclose(at_state_0["transitions"], [0.5, 0.5, 1 / 3, 2 / 3])
    # Q_1(s0, a0) = 0 + (1/2, 1/2) . (1, 0); Q_1(s0, a1) = 1 + (1/3, 2/3) . (1, 0); over H = 2.
    np.testing.assert_allclose(at_state_0["values"], [0.25, 2 / 3])
    assert env.statistics.transitions[0].sum() == 1  # the step into the next inner episode is not a transition
    observation, *_ = env.step(1)  # back in state 1, where action 0 was taken once, at an episode's end
    again = split(observation)
    np.testing.assert_array_equal(again["visits"], [0.25, 0])
    np.testing.assert_allclose(again["transitions"], [0.5, 0.5, 0.5, 0.5])  # still the prior's: no transition seen


def test_sizes_spaces_and_the_gymnasium_checker():
    env = TrialStatisticsWrapper(TabularMDP(num_episodes=2, num_states=4, num_actions=3))
    assert env.num_states == 4 and env.value_horizon == 10
    assert env.observation_space.shape == (4 + TrialStatistics.size(4, 3),) == (4 + 3 * (3 + 4),)
    check_env(env, skip_render_check=True)
    observation, _ = env.reset(seed=0)
    for _ in range(env.trial_length):
        observation, *_ = env.step(env.action_space.sample())
        assert env.observation_space.contains(observation)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="num_states=3 needs states_of"):
        TrialStatisticsWrapper(ChainMDP(), num_states=3)
    with pytest.raises(ValueError, match="Discrete action space"):
        TrialStatisticsWrapper(gym.make("Pendulum-v1"))
    with pytest.raises(ValueError, match=r"states_of gave \[2\]; states lie in \[0, 1\]"):
        TrialStatisticsWrapper(ChainMDP(), num_states=2, states_of=lambda observations: np.array([2])).reset()
    with pytest.raises(ValueError, match="trial_statistics must be True or False, got 'yes'"):
        make_agent_env("eleven_arm", {"trial_statistics": "yes"})


def test_custom_states_of():
    env = TrialStatisticsWrapper(ChainMDP(), num_states=2, states_of=lambda observations: observations[:, 1] > 0)
    env.reset()
    observation, *_ = env.step(1)
    np.testing.assert_allclose(split(observation)["values"], [0.25, 0.25])


def test_agent_env_and_its_vector_twin_carry_the_statistics():
    config = {"num_episodes": 2, "trial_statistics": True}
    single = make_agent_env("tabular_mdp", config)
    plain = make_agent_env("tabular_mdp", {"num_episodes": 2})
    assert single.observation_space.shape[0] == plain.observation_space.shape[0] + TrialStatistics.size(10, 5)
    vector = make_agent_vector_env("tabular_mdp", 3, config)
    assert vector.single_observation_space == single.observation_space
    observations, _ = vector.reset(seed=0)
    single_observation, _ = single.reset(seed=0)
    np.testing.assert_array_equal(observations[0], single_observation)


def test_statistics_layout_of_agent_envs():
    from rllib_metarl.wrappers import statistics_layout

    assert statistics_layout(make_agent_env("tabular_mdp", {"trial_statistics": True})) == (10, 5, 10, False)
    assert statistics_layout(make_agent_env("k_armed", {"trial_statistics": True})) == (0, 5, 1, False)
    uncertain = {"trial_statistics": True, "statistics_uncertainty": True}
    assert statistics_layout(make_agent_env("k_armed", uncertain)) == (0, 5, 1, True)
    assert statistics_layout(make_agent_env("k_armed")) is None


def test_uncertainty_is_one_over_the_root_of_one_plus_the_visits_per_action():
    env = TrialStatisticsWrapper(BernoulliBandit(num_arms=3, trial_length=4), uncertainty=True)
    observation, _ = env.reset(seed=3)
    np.testing.assert_array_equal(observation[6:], [1.0, 1.0, 1.0])  # after visits and means: all arms untried
    for arm in (0, 2, 0):
        observation, *_ = env.step(arm)
    np.testing.assert_allclose(observation[:3], [0.5, 0, 0.25])
    np.testing.assert_allclose(observation[6:], [1 / np.sqrt(3), 1.0, 1 / np.sqrt(2)], rtol=0, atol=1e-7)
    assert env.observation_space.contains(observation) and env.observation_space.low[6:].tolist() == [0.0] * 3


def test_uncertainty_in_a_task_with_states_is_the_last_block_and_the_vector_twin_agrees():
    env = TrialStatisticsWrapper(ChainMDP(), uncertainty=True)
    env.reset()
    observation, *_ = env.step(1)  # state 0, action 1 -> state 1
    assert observation.shape == (2 + TrialStatistics.size(2, 2, uncertainty=True),) == (2 + 2 * 6,)
    np.testing.assert_allclose(observation[-2:], [1.0, 1.0])  # in state 1 nothing is tried yet
    observation, *_ = env.step(0)  # state 1, action 0: the inner episode ends, back in state 0
    np.testing.assert_allclose(observation[-2:], [1.0, 1 / np.sqrt(2)], rtol=0, atol=1e-7)
    config = {"num_episodes": 2, "trial_statistics": True, "statistics_uncertainty": True}
    single, vector = make_agent_env("tabular_mdp", config), make_agent_vector_env("tabular_mdp", 2, config)
    single_observation, _ = single.reset(seed=0)
    observations, _ = vector.reset(seed=0)
    for _ in range(19):  # through the first inner episode's end, to the trial's last step
        action = int(np.argmax(single_observation[-5:]))  # the least tried action: every count changes
        single_observation, *_ = single.step(action)
        observations, *_ = vector.step(np.array([action, 0]))
        np.testing.assert_allclose(observations[0], single_observation, rtol=0, atol=1e-6)


def test_uncertainty_needs_the_statistics():
    with pytest.raises(ValueError, match="statistics_uncertainty=True adds to the trial statistics"):
        make_agent_env("k_armed", {"statistics_uncertainty": True})
    with pytest.raises(ValueError, match="statistics_uncertainty must be True or False, got 1"):
        make_agent_env("k_armed", {"trial_statistics": True, "statistics_uncertainty": 1})
