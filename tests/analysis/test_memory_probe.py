import numpy as np

from rllib_metarl.analysis import memory_probe
from rllib_metarl.analysis.bandit_behaviour import tally_before_each_step


def random_play(trials: int, length: int, arms: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    actions = rng.integers(arms, size=(trials, length))
    rewards = rng.random((trials, length)) < rng.random((trials, 1, arms))[np.arange(trials)[:, None], 0, actions]
    return actions, rewards.astype(float)


def test_a_memory_that_holds_the_tally_reads_out_whole_and_noise_reads_out_nothing():
    actions, rewards = random_play(trials=300, length=12, arms=3)
    tried, win_rate = tally_before_each_step(actions, rewards, 3)
    exact = memory_probe.probe(np.concatenate([tried, win_rate], axis=-1), actions, rewards, 3)
    assert exact["state_size"] == 6 and exact["tried_accuracy"] == 1.0
    assert exact["win_rate_r2"] > 0.999 and exact["best_arm_read"] == 1.0
    noise = memory_probe.probe(np.random.default_rng(1).normal(size=(300, 12, 6)), actions, rewards, 3)
    assert noise["tried_accuracy"] < noise["tried_majority"] + 0.02 and noise["win_rate_r2"] < 0.02
    assert noise["best_arm_read"] < 0.8
