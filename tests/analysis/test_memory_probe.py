import numpy as np

from rllib_metarl.analysis import memory_probe
from rllib_metarl.analysis.bandit_behaviour import counts_before_each_step, tried_and_win_rate
from rllib_metarl.baselines.bandits import BanditPolicy
from rllib_metarl.baselines.play import baseline_steps
from rllib_metarl.evaluation import play_module
from rllib_metarl.training.config import build_rl_module
from rllib_metarl.training.presets import get_preset


def random_play(trials: int, length: int, arms: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    actions = rng.integers(arms, size=(trials, length))
    rewards = rng.random((trials, length)) < rng.random((trials, 1, arms))[np.arange(trials)[:, None], 0, actions]
    return actions, rewards.astype(float)


def test_a_memory_that_holds_the_tally_reads_out_whole_and_noise_reads_out_nothing():
    actions, rewards = random_play(trials=300, length=12, arms=3)
    tried, win_rate = tried_and_win_rate(*counts_before_each_step(actions, rewards, 3))
    exact = memory_probe.probe(np.concatenate([tried, win_rate], axis=-1), actions, rewards, 3)
    assert exact["state_size"] == 6 and exact["tried_accuracy"] == 1.0
    assert exact["win_rate_r2"] > 0.999 and exact["best_arm_read"] == 1.0
    noise = memory_probe.probe(np.random.default_rng(1).normal(size=(300, 12, 6)), actions, rewards, 3)
    assert noise["tried_accuracy"] < noise["tried_majority"] + 0.02 and noise["win_rate_r2"] < 0.02
    assert noise["best_arm_read"] < 0.8


def test_a_head_fitted_on_the_counts_chooses_as_gittins_and_one_on_noise_does_not():
    # Gittins' choice is a function of each arm's pulls and wins: a head reading them picks one of its arms on most
    # pulls of the trials it was not fitted on, as does the head fitted on the exact tally; from noise, about as
    # often as a random pick (0.39 on these trials).
    actions, rewards = random_play(trials=300, length=12, arms=3)
    counts = np.concatenate(counts_before_each_step(actions, rewards, 3), axis=-1)
    exact = memory_probe.gittins_heads(counts, actions, rewards, 3, gittins_discount=0.9)
    assert exact["gittins_head"] > 0.85 and exact["gittins_head_tally"] > 0.85
    noise = memory_probe.gittins_heads(np.random.default_rng(1).normal(size=counts.shape), actions, rewards, 3, 0.9)
    assert noise["gittins_head"] < 0.5 and noise["gittins_head_tally"] == exact["gittins_head_tally"]


class SecondArm(BanditPolicy):
    """Always pulls arm 1."""

    name = "second arm"

    def act(self) -> np.ndarray:
        return np.ones(len(self.successes), dtype=int)


def test_a_driver_chooses_the_pulls_while_the_agents_core_reads_them():
    env_config = {"num_arms": 3, "trial_length": 6, "meta": True}
    module = build_rl_module("k_armed", get_preset("k_armed", envs_per_worker=4), env_config).eval()
    driver = SecondArm()
    _, steps = play_module(module, "k_armed", env_config, num_trials=8, seed=2, driver=driver, record_memory=True)
    _, baseline = baseline_steps(SecondArm(), "k_armed", env_config, num_trials=8, seed=2)
    steps, baseline = (frame.sort_values(["trial", "step"]) for frame in (steps, baseline))
    assert (steps["action"] == 1).all()
    np.testing.assert_array_equal(steps["reward"], baseline["reward"])  # the same trials, pulled the same way
    assert driver.successes[:, 1].sum() == steps["reward"].sum()  # the driver was told what each pull paid
    memory = np.stack(steps["memory"].to_numpy())
    assert not np.allclose(memory[0], memory[5])  # the core read the driven trial
