"""The Bayes-optimal player of the restless bandit (Wang et al. 2016, exp. 4): an exact belief filter, then greedy.

The player's belief is the posterior over the trial's regime (stable or volatile, drawn once per trial) and over
which arm is the better one now. After each pull it weighs the reward by its likelihood under each hypothesis, then
lets the arms swap with each regime's hazard, exactly as the env does after a pull
(:class:`rllib_metarl.tasks.bandits.RestlessBandit`).

Why greedy on that belief is optimal, not an approximation: the arms pay ``p`` and ``1 - p``, so a reward from either
arm tells as much about which arm is better, and what the player will know next does not depend on which arm it
pulls. No pull is worth making for its information, and the pull that maximises the expected reward now, the arm
more likely to be better, also maximises the trial's expected return. ``tests/baselines/test_restless_bayes.py``
checks it against exhaustive dynamic programming over the beliefs of short trials.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rllib_metarl.baselines.bandits import BanditPolicy
from rllib_metarl.tasks.bandits import RestlessBandit
from rllib_metarl.tasks.registry import get_task

REGIMES = ("stable", "volatile")


class RestlessBayesPolicy(BanditPolicy):
    """Exact posterior over (regime, better arm) for a batch of trials; pulls the arm more likely to be better."""

    name = "Bayes-optimal"

    def __init__(
        self,
        p_high: float = 0.75,
        stable_hazard: float = 0.0,
        volatile_hazard: float = 0.05,
        volatile_prior: float = 0.5,
    ):
        self.p_high = float(p_high)
        self.hazards = np.array([stable_hazard, volatile_hazard], dtype=float)
        self.volatile_prior = float(volatile_prior)

    @classmethod
    def for_task(cls, env_config: dict[str, Any] | None = None) -> RestlessBayesPolicy:
        """The player of the restless task under ``env_config``: its probabilities, hazards and regime prior."""
        env = get_task("restless").make(**(env_config or {}))
        if not isinstance(env, RestlessBandit):
            raise ValueError(f"the restless Bayes player plays RestlessBandit, got {type(env).__name__}")
        prior = {"stable": 0.0, "volatile": 1.0, "mixed": 0.5}[env.regime]
        return cls(env.p_high, env.hazards["stable"], env.hazards["volatile"], prior)

    def reset(self, num_trials: int, num_arms: int, trial_length: int, rng: np.random.Generator) -> None:
        super().reset(num_trials, num_arms, trial_length, rng)
        regime_prior = np.array([1.0 - self.volatile_prior, self.volatile_prior])
        # belief[trial, regime, arm]: P(this regime and this arm is the better one now | the trial so far)
        self.belief = np.repeat((regime_prior[:, None] * np.full(2, 0.5))[None], num_trials, axis=0)

    @property
    def better_arm_probability(self) -> np.ndarray:
        """P(arm is the better one now), (trials, 2)."""
        return self.belief.sum(axis=1)

    @property
    def volatile_probability(self) -> np.ndarray:
        """P(the trial is volatile), (trials,)."""
        return self.belief[:, 1].sum(axis=1)

    def act(self) -> np.ndarray:
        return self.argmax(np.round(self.better_arm_probability, 12))  # ties (the start) broken at random

    def update(self, arms: np.ndarray, rewards: np.ndarray) -> None:
        super().update(arms, rewards)
        rows = np.arange(len(arms))
        # Likelihood of the reward if arm 0 / arm 1 is the better one: p when the pulled arm is the better, else 1 - p.
        pulled_is_better = np.zeros((len(arms), 2), dtype=bool)
        pulled_is_better[rows, arms] = True
        p_reward = np.where(pulled_is_better, self.p_high, 1.0 - self.p_high)
        likelihood = np.where(rewards[:, None] > 0, p_reward, 1.0 - p_reward)
        belief = self.belief * likelihood[:, None, :]
        belief /= belief.sum(axis=(1, 2), keepdims=True)
        hazard = self.hazards[None, :, None]
        self.belief = (1.0 - hazard) * belief + hazard * belief[:, :, ::-1]  # the arms swap after the pull
