"""Actions are what they claim to be: every env and vector env refuses a non-integer action instead of truncating it,
and the wrapper encodes a Discrete space whose first action is not 0."""

import gymnasium as gym
import numpy as np
import pytest

from rllib_metarl import ActionRewardTimestepWrapper
from rllib_metarl.tasks import TASKS, make_agent_env, make_agent_vector_env

NOT_ACTIONS = [3.9, 1.0, np.float32(1.0), True, "1", None, np.array([1, 0])]


@pytest.mark.parametrize("task", list(TASKS))
@pytest.mark.parametrize("action", NOT_ACTIONS, ids=repr)
def test_every_env_and_its_agent_env_refuse_a_non_integer_action(task, action):
    for env in (TASKS[task].make(), make_agent_env(task)):
        env.reset(seed=0)
        with pytest.raises(ValueError, match="action must be an integer"):
            env.step(action)


@pytest.mark.parametrize("task", list(TASKS))
def test_every_vector_env_refuses_float_actions_and_takes_integer_ones(task):
    envs = make_agent_vector_env(task, 2)
    envs.reset(seed=0)
    with pytest.raises(ValueError, match="must be an integer|must be integers"):
        envs.step(np.array([1.9, 0.0]))
    envs.step(np.array([1, 0]))  # integers pass


class ShiftedActions(gym.Env):
    """Actions -1, 0 and 1 (Discrete(3, start=-1)); the reward is the action."""

    observation_space = gym.spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)
    action_space = gym.spaces.Discrete(3, start=-1)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action):
        return np.zeros(1, dtype=np.float32), float(action), False, False, {}


def test_the_wrapper_encodes_a_discrete_space_that_starts_below_zero():
    env = ActionRewardTimestepWrapper(ShiftedActions(), trial_length=4)
    first, _ = env.reset(seed=0)
    np.testing.assert_array_equal(first[1:4], [0, 0, 0])  # no previous action yet
    observation, reward, *_ = env.step(-1)
    np.testing.assert_array_equal(observation[1:4], [1, 0, 0])  # action -1 is the first slot
    assert reward == -1.0 and observation[4] == -1.0
    observation, *_ = env.step(1)
    np.testing.assert_array_equal(observation[1:4], [0, 0, 1])
    with pytest.raises(ValueError, match=r"action must be in \[-1, 1\], got 2"):
        env.step(2)
