"""Registration: every Gymnasium id passes the env checker, kwargs are forwarded, names are checked."""

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from rllib_metarl import TASKS, get_task, make_agent_env


@pytest.mark.parametrize("task", TASKS.values(), ids=list(TASKS))
def test_every_registered_id_passes_the_env_checker(task):
    env = gym.make(task.gym_id)
    check_env(env.unwrapped, skip_render_check=True)
    assert isinstance(env.unwrapped, task.env_class)


@pytest.mark.filterwarnings("ignore:.*different from the unwrapped version")
@pytest.mark.parametrize("name", list(TASKS))
def test_every_agent_env_passes_the_env_checker(name):
    env = make_agent_env(name)
    check_env(env, skip_render_check=True)
    observation, _ = env.reset(seed=0)
    assert env.observation_space.contains(observation)


def test_gymnasium_kwargs_are_forwarded():
    env = gym.make("rllib_metarl/KArmedBandit-v0", num_arms=10, trial_length=7)
    assert env.action_space.n == 10
    env.reset(seed=0)
    assert [env.step(0)[2] for _ in range(7)] == [False] * 6 + [True]


def test_rllib_env_names_and_defaults():
    task = get_task("dependent_hard")
    assert task.rllib_env == "rllib_metarl/dependent_hard"
    assert task.make().p1_choices == (0.4, 0.6)
    assert get_task("eleven_arm").make().trial_length == 5


def test_unknown_task_and_parameter_are_named():
    with pytest.raises(ValueError, match="unknown task 'twelve_arm'; known tasks: eleven_arm, "):
        get_task("twelve_arm")
    with pytest.raises(ValueError, match="has no parameter 'arms'; allowed: "):
        make_agent_env("k_armed", {"arms": 3})


def test_seed_salt_keeps_env_copies_apart():
    def first_tasks(salt, seed):
        env = make_agent_env("k_armed", seed_salt=salt)
        env.reset(seed=seed)
        return tuple(env.unwrapped.expected_rewards)

    # RLlib seeds runner w's copy i with seed + w + i: (w=0, i=1) and (w=1, i=0) both get seed + 1.
    assert first_tasks(salt=0, seed=1) != first_tasks(salt=1, seed=1)
    assert first_tasks(salt=1, seed=1) == first_tasks(salt=1, seed=1)


def test_list_command_prints_every_task():
    out = subprocess.run(
        [sys.executable, "-m", "rllib_metarl", "list"], capture_output=True, text=True, check=True
    ).stdout
    for task in TASKS.values():
        assert task.name in out and task.gym_id in out
    assert "trial_length=5" in out


@pytest.mark.parametrize("name", list(TASKS))
def test_agent_observations_are_bounded(name):
    env = make_agent_env(name)
    space = env.observation_space
    unbounded = ~(np.isfinite(space.low) & np.isfinite(space.high))
    if name == "tabular_mdp":  # Gaussian rewards: only the previous-reward slot is unbounded
        reward_slot = env.unwrapped.num_states + env.unwrapped.num_actions
        assert np.flatnonzero(unbounded).tolist() == [reward_slot]
    else:
        assert not unbounded.any()


def test_optimal_returns_are_the_bayes_optimal_ones_under_the_task_prior():
    from rllib_metarl.baselines import DependentBayesOptimal, IndependentBayesOptimal

    def optimum(name, **overrides):
        task = get_task(name)
        return task.optimal_return(task.env_kwargs(overrides))

    assert optimum("eleven_arm") == pytest.approx(20.55)
    assert optimum("dependent_easy", trial_length=20) == pytest.approx(DependentBayesOptimal(20, (0.1, 0.9)).value)
    assert optimum("dependent_uniform", trial_length=20) == pytest.approx(DependentBayesOptimal(20).value)
    assert optimum("two_armed_independent", trial_length=20) == pytest.approx(IndependentBayesOptimal(20).value)
    # A fixed task is not the distribution: its optimum is unknown without the task.
    assert np.isnan(optimum("dependent_hard", meta=False, task_seed=1))
    assert np.isnan(optimum("eleven_arm", meta=False))
