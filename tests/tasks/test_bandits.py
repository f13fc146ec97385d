"""Bandit envs: reward distributions, trial lengths, task draws, meta vs fixed mode, diagnostics, bad input."""

import numpy as np
import pytest

from rllib_metarl.tasks.bandits import BernoulliBandit, DependentBandit, ElevenArmedBandit


def draw_tasks(env, count, seed=0):
    tasks = []
    env.reset(seed=seed)
    tasks.append(env.expected_rewards.copy())
    for _ in range(count - 1):
        env.reset()
        tasks.append(env.expected_rewards.copy())
    return np.array(tasks)


def play(env, actions, seed=None):
    env.reset(seed=seed)
    total, infos = 0.0, []
    for action in actions:
        observation, reward, terminated, truncated, info = env.step(action)
        total += reward
        infos.append(info)
    return total, infos, terminated


def test_bernoulli_arm_probabilities_are_iid_uniform():
    tasks = draw_tasks(BernoulliBandit(num_arms=5), 4000)
    assert tasks.shape == (4000, 5)
    assert abs(tasks.mean() - 0.5) < 0.01
    assert abs(tasks.std() - np.sqrt(1 / 12)) < 0.01
    # Deciles of U[0,1]: each holds ~10% of the draws.
    counts = np.histogram(tasks, bins=10, range=(0, 1))[0] / tasks.size
    assert np.all(np.abs(counts - 0.1) < 0.01)
    # Arms independent: correlation near zero.
    assert abs(np.corrcoef(tasks[:, 0], tasks[:, 1])[0, 1]) < 0.06


def test_bernoulli_rewards_follow_the_arm_probability():
    env = BernoulliBandit(num_arms=2, trial_length=20000, meta=False)
    env.reset(seed=3)
    p = env.expected_rewards[0]
    rewards = [env.step(0)[1] for _ in range(20000)]
    assert set(rewards) <= {0.0, 1.0}
    assert abs(np.mean(rewards) - p) < 5 * np.sqrt(p * (1 - p) / 20000) + 1e-9


@pytest.mark.parametrize("trial_length", [1, 5, 100])
def test_trial_ends_after_exactly_trial_length_pulls(trial_length):
    env = BernoulliBandit(num_arms=3, trial_length=trial_length)
    env.reset(seed=0)
    for t in range(trial_length):
        _, _, terminated, truncated, _ = env.step(0)
        assert terminated == (t == trial_length - 1)
        assert not truncated
    with pytest.raises(RuntimeError, match="after the trial ended"):
        env.step(0)


def test_dependent_uniform_arms_sum_to_one():
    tasks = draw_tasks(DependentBandit("uniform"), 4000)
    np.testing.assert_allclose(tasks.sum(axis=1), 1.0)
    assert abs(tasks[:, 0].mean() - 0.5) < 0.015
    assert abs(tasks[:, 0].std() - np.sqrt(1 / 12)) < 0.01


@pytest.mark.parametrize(
    ("difficulty", "support"), [("easy", {0.1, 0.9}), ("medium", {0.25, 0.75}), ("hard", {0.4, 0.6})]
)
def test_dependent_difficulties_draw_from_their_two_points(difficulty, support):
    tasks = draw_tasks(DependentBandit(difficulty), 2000)
    assert set(np.round(tasks[:, 0], 6)) == support
    np.testing.assert_allclose(tasks.sum(axis=1), 1.0)
    low = min(support)
    assert abs(np.mean(np.isclose(tasks[:, 0], low)) - 0.5) < 0.05


def test_dependent_custom_p1_choices():
    tasks = draw_tasks(DependentBandit(p1_choices=[0.3]), 50)
    np.testing.assert_allclose(tasks, [[0.3, 0.7]] * 50)


def test_eleven_arm_informative_encoding():
    env = ElevenArmedBandit()
    for seed in range(40):
        env.reset(seed=seed)
        target = env.target
        rewards = [play(env, [arm], seed=seed)[0] for arm in range(11)]
        assert rewards[target] == 5.0
        assert all(r == 1.1 for arm, r in enumerate(rewards[:10]) if arm != target)
        assert rewards[10] == pytest.approx(0.1 * (target + 1))


def test_eleven_arm_target_is_uniform_over_the_first_ten():
    env = ElevenArmedBandit()
    env.reset(seed=0)
    targets = [env.target]
    for _ in range(9999):
        env.reset()
        targets.append(env.target)
    counts = np.bincount(targets, minlength=11)
    assert counts[10] == 0
    assert np.all(np.abs(counts[:10] / 10000 - 0.1) < 0.012)


def test_eleven_arm_optimal_policy_earns_20_55_and_random_about_7():
    env = ElevenArmedBandit()
    optimal_returns, random_returns = [], []
    rng = np.random.default_rng(0)
    for seed in range(2000):
        env.reset(seed=seed)
        informative_reward = play(env, [10], seed=seed)[0]
        target = round(informative_reward * 10) - 1
        total, infos, terminated = play(env, [10, target, target, target, target], seed=seed)
        optimal_returns.append(total)
        assert terminated
        assert infos[-1]["episode_metrics"]["informative_first"] == 1.0
        assert infos[-1]["episode_metrics"]["target_after_informative"] == 1.0
        assert infos[-1]["regret"] == pytest.approx(5.0 - informative_reward)
        random_returns.append(play(env, rng.integers(11, size=5), seed=seed)[0])
    assert np.mean(optimal_returns) == pytest.approx(20.55, abs=0.01)
    assert ElevenArmedBandit.optimal_return() == pytest.approx(20.55)
    # Random play: 5 x (5 + 9 x 1.1 + 0.55) / 11 = 7.023; sd of a trial's return is about 4.
    assert abs(np.mean(random_returns) - 7.023) < 0.4


def test_info_diagnostics_and_regret():
    env = DependentBandit("easy", trial_length=10)
    env.reset(seed=1)
    best = env.optimal_action
    worst = 1 - best
    gap = abs(env.expected_rewards[0] - env.expected_rewards[1])
    _, infos, _ = play(env, [best] * 4 + [worst] * 6, seed=1)
    assert all(info["optimal_action"] == best for info in infos)
    assert infos[-1]["regret"] == pytest.approx(6 * gap)
    assert infos[-1]["episode_metrics"] == pytest.approx({"optimal_action_rate": 0.4, "regret": 6 * gap})
    assert "episode_metrics" not in infos[0]


def test_meta_mode_redraws_and_fixed_mode_keeps():
    meta = draw_tasks(BernoulliBandit(), 20)
    assert len({tuple(task) for task in meta}) == 20
    fixed = draw_tasks(BernoulliBandit(meta=False), 20)
    assert len({tuple(task) for task in fixed}) == 1
    # Fixed mode: the same seed gives the same task; another seed another task.
    env = BernoulliBandit(meta=False)
    env.reset(seed=5)
    first = env.expected_rewards.copy()
    env.reset(seed=5)
    np.testing.assert_array_equal(env.expected_rewards, first)
    env.reset(seed=6)
    assert not np.array_equal(env.expected_rewards, first)


def test_task_seed_gives_every_copy_the_same_fixed_task():
    copies = [DependentBandit("uniform", meta=False, task_seed=42) for _ in range(3)]
    for seed, env in enumerate(copies):
        env.reset(seed=seed)
    assert len({tuple(env.expected_rewards) for env in copies}) == 1
    copies[0].reset(seed=99)  # re-seeding keeps the pinned task
    np.testing.assert_array_equal(copies[0].expected_rewards, copies[1].expected_rewards)
    other = DependentBandit("uniform", meta=False, task_seed=43)
    other.reset(seed=0)
    assert not np.array_equal(other.expected_rewards, copies[0].expected_rewards)
    # Rewards still differ between copies: each has its own generator.
    pulls = [[env.step(0)[1] for _ in range(50)] for env in copies]
    assert pulls[0] != pulls[1]


def test_same_seed_gives_the_same_trials():
    def trials(seed):
        env = BernoulliBandit(num_arms=3, trial_length=20)
        env.reset(seed=seed)
        results = []
        for _ in range(5):
            env.reset()
            results.append((tuple(env.expected_rewards), tuple(env.step(i % 3)[1] for i in range(20))))
        return results

    assert trials(11) == trials(11)
    assert trials(11) != trials(12)


def test_observation_reveals_nothing():
    env = ElevenArmedBandit()
    observation, _ = env.reset(seed=0)
    assert observation.shape == (0,)
    assert env.step(0)[0].shape == (0,)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: BernoulliBandit(trial_length=0), "trial_length must be a positive integer, got 0"),
        (lambda: BernoulliBandit(trial_length=-5), "got -5"),
        (lambda: BernoulliBandit(trial_length=2.5), "got 2.5"),
        (lambda: BernoulliBandit(trial_length=True), "got True"),
        (lambda: BernoulliBandit(num_arms=1), "num_arms must be an integer >= 2, got 1"),
        (lambda: DependentBandit("impossible"), "difficulty must be one of .*'impossible'"),
        (lambda: DependentBandit(p1_choices=[0.2, 1.3]), r"p1_choices must lie in \[0, 1\], got 1.3"),
        (lambda: DependentBandit(p1_choices=[-0.1]), "got -0.1"),
        (lambda: ElevenArmedBandit(meta="yes"), "meta must be True .* got 'yes'"),
        (lambda: BernoulliBandit(task_seed=3), "task_seed fixes one task: it needs meta=False"),
    ],
)
def test_bad_parameters_are_rejected_by_name(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_action_is_rejected():
    env = BernoulliBandit(num_arms=2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="got 2"):
        env.step(2)
