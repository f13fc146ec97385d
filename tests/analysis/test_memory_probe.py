import numpy as np

from rllib_metarl.analysis import memory_probe
from rllib_metarl.analysis.bandit_behaviour import counts_before_each_step, tally_before_each_step


def random_play(trials: int, length: int, arms: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    actions = rng.integers(arms, size=(trials, length))
    rewards = rng.random((trials, length)) < rng.random((trials, 1, arms))[np.arange(trials)[:, None], 0, actions]
    return actions, rewards.astype(float)


def test_a_memory_that_holds_the_tally_reads_out_whole_and_noise_reads_out_nothing():
    actions, rewards = random_play(trials=300, length=12, arms=3)
    tried, win_rate = tally_before_each_step(actions, rewards, 3)
    exact = memory_probe.probe(np.concatenate([tried, win_rate], axis=-1), actions, rewards, 3, gittins_discount=0.9)
    assert exact["state_size"] == 6 and exact["tried_accuracy"] == 1.0
    assert exact["win_rate_r2"] > 0.999 and exact["best_arm_read"] == 1.0
    noise = memory_probe.probe(np.random.default_rng(1).normal(size=(300, 12, 6)), actions, rewards, 3, 0.9)
    assert noise["tried_accuracy"] < noise["tried_majority"] + 0.02 and noise["win_rate_r2"] < 0.02
    assert noise["best_arm_read"] < 0.8


def test_a_head_fitted_on_the_counts_chooses_as_gittins_and_one_on_noise_does_not():
    # Gittins' choice is a function of each arm's pulls and wins: a head reading them picks one of its arms on most
    # pulls of the trials it was not fitted on; from noise, about as often as a random pick (0.39 on these trials).
    actions, rewards = random_play(trials=300, length=12, arms=3)
    counts = np.concatenate(counts_before_each_step(actions, rewards, 3), axis=-1)
    assert memory_probe.probe(counts, actions, rewards, 3, gittins_discount=0.9)["gittins_head"] > 0.85
    noise = np.random.default_rng(1).normal(size=counts.shape)
    assert memory_probe.probe(noise, actions, rewards, 3, gittins_discount=0.9)["gittins_head"] < 0.5
