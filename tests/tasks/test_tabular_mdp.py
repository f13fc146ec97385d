"""The RL^2 tabular-MDP task: its task sampler, dynamics, inner episodes, oracle, and the agent's observation."""

import itertools

import numpy as np
import pytest

from rllib_metarl.tasks.registry import get_task, make_agent_env
from rllib_metarl.tasks.tabular_mdp import TabularMDP
from rllib_metarl.utils.value_iteration import optimal_q_values


def test_task_sampler_distributions():
    env = TabularMDP()
    transitions, rewards = [], []
    for seed in range(400):
        env.reset(seed=seed)
        transitions.append(env.transitions)
        rewards.append(env.mean_rewards)
    transitions, rewards = np.array(transitions), np.array(rewards)
    assert transitions.shape == (400, 10, 5, 10)
    np.testing.assert_allclose(transitions.sum(-1), 1.0)
    # Dirichlet(1, ..., 1) over 10 states: every entry has mean 1/10 and variance 9 / (100 * 11).
    assert transitions.mean() == pytest.approx(0.1, abs=1e-3)
    assert transitions.var() == pytest.approx(9 / 1100, rel=0.05)
    # mu(s, a) ~ N(1, 1).
    assert rewards.mean() == pytest.approx(1.0, abs=0.03)
    assert rewards.std() == pytest.approx(1.0, abs=0.03)


def test_steps_follow_the_mdp():
    env = TabularMDP(num_episodes=2000, episode_length=2)
    env.reset(seed=3)
    next_states, rewards = [], []
    for _ in range(2000):  # from state 0, action 2, then one more step so the episode ends
        observation, reward, *_ = env.step(2)
        next_states.append(observation.argmax())
        rewards.append(reward)
        env.step(0)
    frequencies = np.bincount(next_states, minlength=10) / len(next_states)
    np.testing.assert_allclose(frequencies, env.transitions[0, 2], atol=0.035)
    assert np.mean(rewards) == pytest.approx(env.mean_rewards[0, 2], abs=0.1)
    assert np.std(rewards) == pytest.approx(1.0, abs=0.06)


def test_inner_episodes_restart_in_state_zero_and_the_trial_ends():
    env = TabularMDP(num_episodes=3, episode_length=4)
    observation, _ = env.reset(seed=0)
    assert observation.tolist() == [1.0] + [0.0] * 9
    done_flags, terminated = [], False
    for t in range(12):
        observation, _, terminated, truncated, info = env.step(t % 5)
        done_flags.append(info["inner_episode_done"])
        assert observation.sum() == 1.0 and not truncated
        if info["inner_episode_done"]:
            assert observation.argmax() == 0
    assert done_flags == [False, False, False, True] * 3
    assert terminated and env.trial_length == 12
    assert set(info["episode_metrics"]) == {"oracle_return", "normalized_return"}
    with pytest.raises(RuntimeError, match="after the trial ended"):
        env.step(0)


def test_value_iteration_matches_enumerating_every_policy():
    rng = np.random.default_rng(0)
    transitions = rng.dirichlet(np.ones(2), size=(2, 2))
    rewards = rng.normal(1, 1, size=(2, 2))
    horizon = 3
    best = -np.inf
    # Every non-stationary deterministic policy: an action per (step, state).
    for choice in itertools.product(range(2), repeat=2 * horizon):
        policy = np.array(choice).reshape(horizon, 2)
        distribution, total = np.array([1.0, 0.0]), 0.0
        for h in range(horizon):
            total += sum(distribution[s] * rewards[s, policy[h, s]] for s in range(2))
            distribution = sum(distribution[s] * transitions[s, policy[h, s]] for s in range(2))
        best = max(best, total)
    assert optimal_q_values(transitions, rewards, horizon)[0, 0].max() == pytest.approx(best)


def test_oracle_return_is_n_times_the_optimal_episode_value():
    env = TabularMDP(num_episodes=7)
    env.reset(seed=5)
    q_values = optimal_q_values(env.transitions, env.mean_rewards, 10)
    assert env.oracle_return == pytest.approx(7 * q_values[0, 0].max())


def test_random_play_earns_one_per_step():
    env = TabularMDP(num_episodes=5)
    rng = np.random.default_rng(1)
    totals = []
    for seed in range(600):
        env.reset(seed=seed)
        totals.append(sum(env.step(rng.integers(5))[1] for _ in range(50)))
    assert np.mean(totals) == pytest.approx(50.0, abs=4 * np.std(totals) / np.sqrt(600))


def test_fixed_mode_keeps_one_mdp_and_task_seed_shares_it():
    env = TabularMDP(meta=False, task_seed=11)
    other = TabularMDP(meta=False, task_seed=11)
    env.reset(seed=0)
    first = env.transitions.copy()
    env.reset(seed=1)
    other.reset(seed=99)
    np.testing.assert_array_equal(env.transitions, first)
    np.testing.assert_array_equal(other.transitions, first)
    meta = TabularMDP()
    meta.reset(seed=0)
    drawn = meta.transitions.copy()
    meta.reset()
    assert not np.array_equal(meta.transitions, drawn)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_episodes": 0}, "num_episodes must be a positive integer, got 0"),
        ({"num_episodes": -3}, "num_episodes must be a positive integer, got -3"),
        ({"num_states": 1}, "num_states must be an integer >= 2, got 1"),
        ({"num_actions": 2.5}, "num_actions must be an integer >= 2, got 2.5"),
        ({"episode_length": 0}, "episode_length must be a positive integer, got 0"),
        ({"task_seed": 3}, "task_seed fixes one MDP: it needs meta=False"),
    ],
)
def test_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TabularMDP(**kwargs)


def test_agent_observation_carries_state_action_reward_and_boundary():
    env = make_agent_env("tabular_mdp", {"num_episodes": 2, "episode_length": 3})
    observation, _ = env.reset(seed=0)
    assert observation.shape == (10 + 5 + 1 + 1 + 1,)
    assert observation[:10].tolist() == [1.0] + [0.0] * 9 and not observation[10:].any()
    for t in range(1, 7):
        observation, reward, *_ = env.step(4)
        state, action, last_reward, done, clock = (
            observation[:10], observation[10:15], observation[15], observation[16], observation[17],
        )  # fmt: skip
        assert state.sum() == 1 and action.tolist() == [0, 0, 0, 0, 1]
        assert last_reward == pytest.approx(reward, abs=1e-6)
        assert done == float(t % 3 == 0)
        assert clock == pytest.approx(t / 6)


def test_registered_with_its_random_figure():
    task = get_task("tabular_mdp")
    assert task.random_return(task.env_kwargs({"num_episodes": 25})) == 250.0
    assert task.make(num_episodes=25).trial_length == 250
