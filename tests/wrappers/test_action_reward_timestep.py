"""The action-reward-timestep wrapper: its encoding at t = 0 and after steps, on our envs and a plain Gymnasium env."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rllib_metarl import ActionRewardTimestepWrapper
from rllib_metarl.tasks.bandits import BernoulliBandit, DependentBandit, ElevenArmedBandit


def test_scalar_encoding_at_start_and_after_steps():
    env = ActionRewardTimestepWrapper(DependentBandit("easy", trial_length=4))
    observation, _ = env.reset(seed=0)
    # [one_hot(a) x 2, r, t/T]
    np.testing.assert_array_equal(observation, [0, 0, 0, 0])
    observation, reward, *_ = env.step(1)
    np.testing.assert_array_equal(observation, [0, 1, reward, 0.25])
    observation, reward, *_ = env.step(0)
    np.testing.assert_array_equal(observation, [1, 0, reward, 0.5])
    env.step(0)
    observation, _, terminated, _, _ = env.step(1)
    assert terminated and observation[-1] == 1.0
    # A new trial starts from zeros again.
    np.testing.assert_array_equal(env.reset()[0], [0, 0, 0, 0])


def test_one_hot_reward_encoding_of_eleven_arm():
    env = ActionRewardTimestepWrapper(ElevenArmedBandit(), reward_encoding="one_hot")
    values = ElevenArmedBandit.reward_values
    assert env.observation_space.shape == (11 + len(values) + 1,)
    observation, _ = env.reset(seed=4)
    np.testing.assert_array_equal(observation, np.zeros(24))
    target = env.unwrapped.target
    observation, reward, *_ = env.step(10)
    assert reward == pytest.approx(0.1 * (target + 1))
    assert observation[10] == 1 and observation[:11].sum() == 1
    reward_slots = observation[11:23]
    assert reward_slots.sum() == 1 and values[int(np.argmax(reward_slots))] == pytest.approx(reward)
    assert observation[-1] == pytest.approx(0.2)
    observation, reward, *_ = env.step(target)
    assert reward == 5.0 and observation[11 + values.index(5.0)] == 1


def test_observation_at_t0_is_the_same_for_every_task():
    env = ActionRewardTimestepWrapper(ElevenArmedBandit(), reward_encoding="one_hot")
    first = env.reset(seed=0)[0]
    for seed in range(1, 30):
        np.testing.assert_array_equal(env.reset(seed=seed)[0], first)


def test_done_flag_reads_inner_episode_boundaries():
    class TwoEpisodeTrial(gym.Env):
        observation_space = gym.spaces.Box(0, 1, (2,), np.float32)
        action_space = gym.spaces.Discrete(3)
        trial_length = 4

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            self.t = 0
            return np.array([1, 0], np.float32), {}

        def step(self, action):
            self.t += 1
            info = {"inner_episode_done": self.t == 2}
            return np.array([0, 1], np.float32), 2.0, self.t == 4, False, info

    env = ActionRewardTimestepWrapper(TwoEpisodeTrial(), include_done=True)
    observation, _ = env.reset(seed=0)
    np.testing.assert_array_equal(observation, [1, 0, 0, 0, 0, 0, 0, 0])
    # [inner obs x 2, one_hot(a) x 3, r, done, t/T]
    np.testing.assert_array_equal(env.step(2)[0], [0, 1, 0, 0, 1, 2, 0, 0.25])
    np.testing.assert_array_equal(env.step(0)[0], [0, 1, 1, 0, 0, 2, 1, 0.5])
    np.testing.assert_array_equal(env.step(1)[0], [0, 1, 0, 1, 0, 2, 0, 0.75])


def test_plain_gymnasium_env():
    env = ActionRewardTimestepWrapper(gym.make("CartPole-v1"))
    assert env.trial_length == 500  # from the spec's max_episode_steps
    observation, _ = env.reset(seed=0)
    assert observation.shape == (4 + 2 + 1 + 1,)
    np.testing.assert_array_equal(observation[4:], [0, 0, 0, 0])
    observation, *_ = env.step(1)
    np.testing.assert_allclose(observation[4:], [0, 1, 1.0, 1 / 500], rtol=1e-6)
    assert env.observation_space.contains(observation)
    check_env(ActionRewardTimestepWrapper(gym.make("CartPole-v1").unwrapped, trial_length=500), skip_render_check=True)


def test_scalar_reward_slot_is_bounded_by_the_declared_rewards():
    space = ActionRewardTimestepWrapper(BernoulliBandit(num_arms=2)).observation_space
    assert (space.low[2], space.high[2]) == (0.0, 1.0)
    space = ActionRewardTimestepWrapper(gym.make("CartPole-v1")).observation_space
    assert (space.low[6], space.high[6]) == (-np.inf, np.inf)


def test_wrapped_observations_lie_in_the_space():
    env = ActionRewardTimestepWrapper(BernoulliBandit(num_arms=4, trial_length=30))
    observation, _ = env.reset(seed=0)
    rng = np.random.default_rng(0)
    for _ in range(30):
        assert env.observation_space.contains(observation)
        observation, *_ = env.step(int(rng.integers(4)))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ActionRewardTimestepWrapper(gym.make("Pendulum-v1")), "needs a Discrete action space"),
        (lambda: ActionRewardTimestepWrapper(BernoulliBandit(), reward_encoding="binary"), "got 'binary'"),
        (
            lambda: ActionRewardTimestepWrapper(gym.make("CartPole-v1"), reward_encoding="one_hot"),
            "needs reward_values",
        ),
        (lambda: ActionRewardTimestepWrapper(BernoulliBandit(), trial_length=0), "got 0"),
    ],
)
def test_bad_wrapper_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_reward_outside_the_declared_values_is_an_error():
    env = ActionRewardTimestepWrapper(BernoulliBandit(), reward_encoding="one_hot", reward_values=[0.0])
    env.reset(seed=0)
    with pytest.raises(ValueError, match="not one of reward_values"):
        for _ in range(100):
            env.step(0)
