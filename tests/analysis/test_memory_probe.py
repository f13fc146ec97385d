import numpy as np

from rllib_metarl.analysis import memory_probe


def test_the_tally_before_each_step_counts_the_earlier_pulls_only():
    # Pulls 0 0 1 1 paying 1 0 0 1: before step 2 arm 0 has 1 win in 2 pulls, arm 1 none.
    tried, win_rate = memory_probe.tally_before_each_step(np.array([[0, 0, 1, 1]]), np.array([[1, 0, 0, 1]]), 2)
    assert tried[0].tolist() == [[False, False], [True, False], [True, False], [True, True]]
    np.testing.assert_allclose(win_rate[0], [[0.5, 0.5], [2 / 3, 0.5], [0.5, 0.5], [0.5, 1 / 3]])


def random_play(trials: int, length: int, arms: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    actions = rng.integers(arms, size=(trials, length))
    rewards = rng.random((trials, length)) < rng.random((trials, 1, arms))[np.arange(trials)[:, None], 0, actions]
    return actions, rewards.astype(float)


def test_a_memory_that_holds_the_tally_reads_out_whole_and_noise_reads_out_nothing():
    actions, rewards = random_play(trials=300, length=12, arms=3)
    tried, win_rate = memory_probe.tally_before_each_step(actions, rewards, 3)
    exact = memory_probe.probe(np.concatenate([tried, win_rate], axis=-1), actions, rewards, 3)
    assert exact["state_size"] == 6 and exact["tried_accuracy"] == 1.0
    assert exact["win_rate_r2"] > 0.999 and exact["best_arm_read"] == 1.0
    noise = memory_probe.probe(np.random.default_rng(1).normal(size=(300, 12, 6)), actions, rewards, 3)
    assert noise["tried_accuracy"] < noise["tried_majority"] + 0.02 and noise["win_rate_r2"] < 0.02
    assert noise["best_arm_read"] < 0.8


def test_a_player_that_always_pulls_the_best_arm_so_far_scores_one():
    # A greedy player on the posterior means: every pull after the first is the best tried arm.
    rng = np.random.default_rng(2)
    trials, length, arms = 50, 10, 3
    chances = rng.random((trials, arms))
    actions, rewards = np.zeros((trials, length), dtype=int), np.zeros((trials, length))
    for step in range(length):
        tried, win_rate = memory_probe.tally_before_each_step(actions[:, : step + 1], rewards[:, : step + 1], arms)
        actions[:, step] = np.where(tried[:, step], win_rate[:, step], -1).argmax(axis=1) if step else 0
        rewards[:, step] = rng.random(trials) < chances[np.arange(trials), actions[:, step]]
    memory = rng.normal(size=(trials, length, 4))
    assert memory_probe.probe(memory, actions, rewards, arms)["best_arm_pulled"] == 1.0
