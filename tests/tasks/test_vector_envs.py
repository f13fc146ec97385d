"""Native vector envs against a SyncVectorEnv of single envs, trajectory by trajectory; the trial env runner."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.wrappers.vector import DictInfoToList

from rllib_metarl.tasks.bandits import VectorMetaBandit
from rllib_metarl.tasks.registry import (
    TASKS,
    make_agent_vector_env,
    make_sync_vector_env,
    register_rllib_envs,
    task_of_env_creator,
)
from rllib_metarl.tasks.tabular_mdp import VectorTabularMDP

NATIVE = [
    ("eleven_arm", {}),
    ("two_armed_independent", {}),
    ("dependent_uniform", {}),
    ("dependent_hard", {}),
    ("k_armed", {"num_arms": 10, "trial_length": 7}),
    ("restless", {"regime": "volatile", "volatile_hazard": 0.3, "trial_length": 20}),
    ("restless", {}),
    ("tabular_mdp", {"num_episodes": 3}),
    ("tabular_mdp", {"num_episodes": 2, "meta": False, "task_seed": 4}),
    ("two_armed_independent", {"meta": False}),
    ("eleven_arm", {"reward_encoding": "scalar"}),
    ("tabular_mdp", {"num_episodes": 3, "trial_statistics": True}),
    ("k_armed", {"num_arms": 10, "trial_length": 7, "trial_statistics": True}),
]


def assert_same(left, right, where: str) -> None:
    if isinstance(left, dict):
        assert set(left) == set(right), where
        for key in left:
            assert_same(left[key], right[key], f"{where}/{key}")
    elif isinstance(left, (list, tuple)):
        assert len(left) == len(right), where
        for i, (a, b) in enumerate(zip(left, right, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    else:
        assert np.array_equal(np.asarray(left), np.asarray(right)), f"{where}: {left!r} != {right!r}"


@pytest.mark.parametrize(("task", "config"), NATIVE)
@pytest.mark.parametrize("salt", [0, 3])
def test_native_vector_env_matches_single_envs_step_by_step(task, config, salt):
    num_envs = 6
    reference = DictInfoToList(make_sync_vector_env(task, num_envs, config, seed_salt=salt))
    native = DictInfoToList(make_agent_vector_env(task, num_envs, config, seed_salt=salt))
    assert native.single_observation_space == reference.single_observation_space
    assert_same(native.reset(seed=11), reference.reset(seed=11), "reset")
    trial_length = native.env.trial_length
    rng = np.random.default_rng(0)
    # Three trials and the autoreset steps between them, then a re-seeded reset in the middle of a trial.
    for step in range(3 * (trial_length + 1) + 2):
        actions = rng.integers(native.single_action_space.n, size=num_envs)
        assert_same(native.step(actions), reference.step(actions), f"step {step}")
    assert_same(native.reset(seed=[5, None, 7, None, 9, None]), reference.reset(seed=[5, None, 7, None, 9, None]), "")
    for step in range(trial_length + 2):
        actions = rng.integers(native.single_action_space.n, size=num_envs)
        assert_same(native.step(actions), reference.step(actions), f"after re-seed, step {step}")


def test_every_bandit_and_mdp_task_has_a_native_vector_env():
    native = {name for name, task in TASKS.items() if task.vector_class is not None}
    assert native == set(TASKS) - {"two_step", "harlow"}
    assert TASKS["tabular_mdp"].vector_class is VectorTabularMDP
    assert TASKS["restless"].vector_class is VectorMetaBandit
    # The others still come as a vector env: RLlib's runners take one.
    env = make_agent_vector_env("two_step", 3)
    assert isinstance(env, gym.vector.SyncVectorEnv) and env.num_envs == 3


def test_autoreset_step_ignores_the_action_and_restarts_the_trial():
    env = make_agent_vector_env("eleven_arm", 4)
    observations, _ = env.reset(seed=0)
    first = observations.copy()
    for _ in range(5):
        observations, rewards, terminated, _, infos = env.step(np.full(4, 10))
    assert terminated.all() and set(infos["episode_metrics"]["informative_first"]) == {1.0}
    observations, rewards, terminated, truncated, infos = env.step(np.full(4, 10))
    assert not terminated.any() and not truncated.any() and (rewards == 0).all()
    assert np.array_equal(observations, first)  # zeros and t = 0: a fresh trial
    assert infos["_optimal_action"].all() and "regret" not in infos


def test_vector_env_rejects_bad_actions_and_sizes():
    env = make_agent_vector_env("k_armed", 2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"action must be in \[0, 4\], got 7"):
        env.step(np.array([0, 7]))
    for task in ("k_armed", "harlow"):  # native and SyncVectorEnv alike
        with pytest.raises(ValueError, match="num_envs must be a positive integer, got 0"):
            make_agent_vector_env(task, 0)
    with pytest.raises(ValueError, match="3 seeds for 2 copies"):
        env.reset(seed=[1, 2, 3])


def test_same_seed_same_trials_and_copies_differ():
    a = make_agent_vector_env("dependent_uniform", 5)
    b = make_agent_vector_env("dependent_uniform", 5)
    a.reset(seed=3)
    b.reset(seed=3)
    assert np.array_equal(a.unwrapped.expected_rewards, b.unwrapped.expected_rewards)
    assert len({tuple(row) for row in a.unwrapped.expected_rewards}) == 5


def test_runner_env_names_map_to_tasks_and_others_are_refused():
    register_rllib_envs()
    assert task_of_env_creator("rllib_metarl/tabular_mdp").name == "tabular_mdp"
    with pytest.raises(ValueError, match=r"'CartPole-v1' is not an rllib_metarl env name; known: \['rllib_metarl/"):
        task_of_env_creator("CartPole-v1")
    with pytest.raises(ValueError, match="'rllib_metarl/nope' is not an rllib_metarl env name"):
        task_of_env_creator("rllib_metarl/nope")
