"""The tasks of Wang et al.: restless bandit, two-step task and Harlow task, their dynamics under fixed seeds."""

import math

import gymnasium as gym
import numpy as np
import pytest

import rllib_metarl  # noqa: F401  (registers the gymnasium ids)
from rllib_metarl.tasks.bandits import RestlessBandit
from rllib_metarl.tasks.harlow import HarlowTask, object_codes
from rllib_metarl.tasks.registry import get_task, make_agent_env
from rllib_metarl.tasks.two_step import TWO_STEP_VARIANTS, TwoStepTask


def within(observed: float, expected: float, count: int, sigmas: float = 4.0) -> bool:
    """A frequency over ``count`` draws within ``sigmas`` binomial standard errors of ``expected``."""
    return abs(observed - expected) <= sigmas * math.sqrt(expected * (1 - expected) / count) + 1e-12


def two_step_trials(env: TwoStepTask, episodes: int, policy=lambda rng: int(rng.integers(2))) -> list[dict]:
    rng = np.random.default_rng(1)
    rows = []
    for episode in range(episodes):
        env.reset(seed=episode)
        terminated = False
        while not terminated:
            _, reward, terminated, _, info = env.step(policy(rng))
            if info["trial_end"]:
                rows.append({**info, "reward": reward, "episode": episode})
    return rows


# -- two-step ---------------------------------------------------------------------------------------------------------
def test_two_step_transition_and_reward_frequencies():
    rows = two_step_trials(TwoStepTask(), episodes=60)
    assert len(rows) == 6000
    common = np.array([r["common"] for r in rows])
    assert within(common.mean(), 0.8, len(rows))
    # Action 0 commonly leads to S1 (1), action 1 to S2 (2); the info's "common" says which happened.
    for r in rows:
        assert (r["second_stage_state"] == r["first_stage_action"] + 1) == r["common"]
        assert r["reward"] == float(r["rewarded"])
    good = np.array([r["rewarded"] for r in rows if r["second_stage_state"] == r["good_state"]])
    bad = np.array([r["rewarded"] for r in rows if r["second_stage_state"] != r["good_state"]])
    assert within(good.mean(), 0.9, len(good)) and within(bad.mean(), 0.1, len(bad))


def test_two_step_good_state_swaps_at_the_set_rate():
    rows = two_step_trials(TwoStepTask(num_trials=100), episodes=100)
    pairs = zip(rows[:-1], rows[1:], strict=True)
    swaps = [a["good_state"] != b["good_state"] for a, b in pairs if a["episode"] == b["episode"]]
    assert within(np.mean(swaps), 0.025, len(swaps))
    no_swap = two_step_trials(TwoStepTask(swap_prob=0.0, num_trials=30), episodes=20)
    assert all(len({r["good_state"] for r in no_swap if r["episode"] == e}) == 1 for e in range(20))


def test_two_step_in_one_observation_is_the_reached_state_and_hides_the_good_state():
    env = TwoStepTask()
    observation, _ = env.reset(seed=3)
    assert observation.tolist() == [0.0, 0.0]
    for _ in range(50):
        observation, _, _, _, info = env.step(1)
        assert observation.tolist() == ([1.0, 0.0] if info["second_stage_state"] == 1 else [0.0, 1.0])


def test_two_step_full_form_takes_two_steps_per_trial():
    env = TwoStepTask(num_trials=5, input_form="full")
    assert env.trial_length == 10 and env.observation_space.shape == (3,)
    observation, _ = env.reset(seed=0)
    assert observation.tolist() == [1.0, 0.0, 0.0]  # stage 1
    observation, reward, terminated, _, info = env.step(0)
    assert not info["trial_end"] and reward == 0.0 and not terminated
    assert observation[0] == 0.0 and observation[1:].sum() == 1.0  # a second-stage state
    observation, reward, terminated, _, info = env.step(1)
    assert info["trial_end"] and info["first_stage_action"] == 0 and observation.tolist() == [1.0, 0.0, 0.0]
    steps = 2
    while not terminated:
        *_, terminated, _, info = env.step(0)
        steps += 1
    assert steps == 10 and "episode_metrics" in info


def test_two_step_2016_variant_redraws_the_good_state_each_episode():
    env = TwoStepTask(**TWO_STEP_VARIANTS["2016"], meta=False)
    firsts = []
    for episode in range(200):
        env.reset(seed=None if episode else 0)
        *_, info = env.step(0)
        firsts.append(info["good_state"])
    assert 60 < firsts.count(1) < 140  # re-drawn even though meta=False
    rows = two_step_trials(TwoStepTask(**TWO_STEP_VARIANTS["2016"]), episodes=200)
    assert within(np.mean([r["common"] for r in rows]), 0.75, len(rows))
    assert {len([r for r in rows if r["episode"] == e]) for e in range(200)} == {20}


def test_two_step_same_seed_same_episode():
    first, second = two_step_trials(TwoStepTask(), 3), two_step_trials(TwoStepTask(), 3)
    assert first == second


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"common_prob": 1.5}, "common_prob must be in \\[0, 1\\], got 1.5"),
        ({"reward_probs": (0.9, -0.1)}, "reward_probs must lie in \\[0, 1\\], got -0.1"),
        ({"reward_probs": (0.9,)}, "reward_probs needs two probabilities"),
        ({"input_form": "three"}, "input_form must be one of .* got 'three'"),
        ({"num_trials": -3}, "num_trials must be a positive integer, got -3"),
        ({"swap_prob": 2}, "swap_prob must be in \\[0, 1\\], got 2"),
    ],
)
def test_two_step_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TwoStepTask(**kwargs)


# -- Harlow -----------------------------------------------------------------------------------------------------------
def test_harlow_pools_are_disjoint_and_fixed_by_their_seed():
    pools = object_codes(8, 300, 50, pool_seed=4)
    train = {tuple(code) for code in pools["train"]}
    assert len(train) == 300 and not train & {tuple(code) for code in pools["test"]}
    again = object_codes(8, 300, 50, pool_seed=4)
    assert np.array_equal(pools["test"], again["test"])
    assert not np.array_equal(pools["test"], object_codes(8, 300, 50, pool_seed=5)["test"])


def test_harlow_shows_the_two_episode_objects_and_rewards_one_of_them():
    env = HarlowTask(object_pool="test")
    pool = env.pools["test"]
    positions = []
    for episode in range(200):
        observation, info = env.reset(seed=episode)
        left_right = [tuple(observation[:8]), tuple(observation[8:])]
        objects = set(left_right)
        assert len(objects) == 2 and objects <= {tuple(code) for code in pool}
        rewarded = left_right[info["rewarded_position"]]
        for _ in range(6):
            action = int(np.random.default_rng(episode).integers(2))
            shown = [tuple(observation[:8]), tuple(observation[8:])]
            assert set(shown) == objects  # the same two objects the whole episode
            positions.append(shown.index(rewarded))
            observation, reward, terminated, _, info = env.step(action)
            assert reward == (1.0 if shown[action] == rewarded else -1.0) and info["correct"] == (reward == 1.0)
        assert terminated and set(info["episode_metrics"]) >= {"correct_trial_1", "correct_trial_6"}
    assert within(np.mean(positions), 0.5, len(positions))  # the rewarded object's side is shuffled every trial


def test_harlow_held_out_evaluation_uses_the_test_pool():
    task = get_task("harlow")
    assert task.held_out_config({"num_trials": 6})["object_pool"] == "test"
    train_codes = {tuple(code) for code in HarlowTask().pools["train"]}
    env = task.make(**task.held_out_config())
    observation, _ = env.reset(seed=0)
    assert tuple(observation[: env.code_size]) not in train_codes


def test_harlow_optimum_and_chance():
    task = get_task("harlow")
    assert task.optimal_return(task.env_kwargs()) == 5.0 and task.random_return(task.env_kwargs()) == 0.0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"object_pool": "validation"}, "object_pool must be one of .* got 'validation'"),
        ({"train_pool_size": 1}, "train_pool_size must be an integer >= 2, got 1"),
        ({"correct_reward": -1, "incorrect_reward": 1}, "correct_reward must exceed incorrect_reward"),
        ({"meta": True, "task_seed": 3}, "task_seed fixes one task: it needs meta=False"),
    ],
)
def test_harlow_rejects_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        HarlowTask(**kwargs)


# -- restless bandit --------------------------------------------------------------------------------------------------
def restless_trials(regime: str, trials: int, **kwargs) -> list[dict]:
    env = RestlessBandit(regime=regime, **kwargs)
    rows = []
    for trial in range(trials):
        env.reset(seed=trial)
        rewards, paid = [], []
        terminated = False
        while not terminated:
            p = env.expected_rewards[0]
            _, reward, terminated, _, info = env.step(0)
            rewards.append(reward)
            paid.append(p)
        rows.append({**info["episode_metrics"], "rewards": rewards, "p": paid})
    return rows


def test_restless_stable_trials_never_switch_and_volatile_ones_switch_at_the_hazard():
    stable = restless_trials("stable", 50)
    assert all(row["switches"] == 0 and row["volatile"] == 0.0 for row in stable)
    volatile = restless_trials("volatile", 100, volatile_hazard=0.1)
    switches = sum(row["switches"] for row in volatile)
    assert within(switches / 10_000, 0.1, 10_000)  # one draw per pull
    rewards = np.concatenate([row["rewards"] for row in volatile])
    paid = np.concatenate([row["p"] for row in volatile])
    assert set(np.round(paid, 2)) == {0.25, 0.75}
    assert within(rewards[paid > 0.5].mean(), 0.75, int((paid > 0.5).sum()))


def test_restless_mixed_trials_are_volatile_half_the_time():
    volatile = [row["volatile"] for row in restless_trials("mixed", 400, trial_length=2)]
    assert within(np.mean(volatile), 0.5, 400)


def test_restless_rejects_bad_parameters():
    with pytest.raises(ValueError, match="regime must be one of .* got 'calm'"):
        RestlessBandit(regime="calm")
    with pytest.raises(ValueError, match="volatile_hazard must lie in \\[0, 1\\], got 1.5"):
        RestlessBandit(volatile_hazard=1.5)


# -- registration -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["restless", "two_step", "harlow"])
def test_new_tasks_are_registered_and_wrapped(name):
    task = get_task(name)
    bare = gym.make(task.gym_id)
    assert isinstance(bare.unwrapped, task.env_class)
    env = make_agent_env(name)
    observation, _ = env.reset(seed=0)
    inner = int(np.prod(task.make().observation_space.shape))
    assert observation.shape == (inner + 2 + 1 + 1,)  # + one-hot action, reward, t / T
    assert env.observation_space.contains(observation)
