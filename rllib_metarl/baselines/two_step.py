"""Reference learners for the two-step task: the model-free and model-based agents of Daw et al. 2011.

Both keep value estimates, choose the first-stage action by a softmax with inverse temperature ``beta`` and learn at
rate ``alpha`` from the outcome of each trial, as reported in ``info`` (the second-stage state reached and the reward,
the same facts the learned agent's observation carries). They differ only in how they value the first-stage actions:

- ``ModelFreeAgent`` (TD(1)): credits the reward to the first-stage action taken, whatever the transition, so it
  repeats a rewarded choice even after a rare transition.
- ``ModelBasedAgent``: learns the value of each second-stage state and plans through the known transition
  probabilities, so after a reward reached through a rare transition it switches to the other first-stage action.

``play_two_step`` runs either through :class:`rllib_metarl.tasks.two_step.TwoStepTask` and returns the same per-trial
rows as the trained agent's rollouts, so the stay-probability analysis treats all three alike.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pandas as pd

from rllib_metarl.tasks.registry import get_task
from rllib_metarl.tasks.two_step import S1
from rllib_metarl.utils.seeding import HELD_OUT_STREAM, trial_seeds


class TwoStepAgent:
    """Softmax choice over first-stage values; subclasses define the values and the learning rule."""

    name = "agent"

    def __init__(self, alpha: float = 0.5, beta: float = 5.0):
        if not 0.0 < alpha <= 1.0:
            raise ValueError(f"alpha must be in (0, 1], got {alpha!r}")
        if beta < 0:
            raise ValueError(f"beta must be >= 0, got {beta!r}")
        self.alpha, self.beta = float(alpha), float(beta)

    def reset(self, common_prob: float) -> None:
        self.common_prob = common_prob
        self.values = np.full(2, 0.5)  # per first-stage action (model-free) or per second-stage state (model-based)

    def first_stage_values(self) -> np.ndarray:
        raise NotImplementedError

    def act(self, rng: np.random.Generator) -> int:
        preferences = self.beta * self.first_stage_values()
        probabilities = np.exp(preferences - preferences.max())
        return int(rng.random() >= probabilities[0] / probabilities.sum())

    def update(self, action: int, state: int, reward: float) -> None:
        raise NotImplementedError


class ModelFreeAgent(TwoStepAgent):
    """TD(1) on the first-stage actions: ``Q(a) += alpha (r - Q(a))``."""

    name = "model-free"

    # A fast learner (near win-stay, lose-shift) by default: at slow rates, a model-free learner's stay probabilities
    # pick up a spurious transition x reward interaction in tasks with reward probabilities as extreme as 0.9 / 0.1,
    # because after an uncommon transition its choice was usually the good one (Akam et al. 2015, PLoS Comput Biol).
    def __init__(self, alpha: float = 0.9, beta: float = 5.0):
        super().__init__(alpha, beta)

    def first_stage_values(self) -> np.ndarray:
        return self.values

    def update(self, action: int, state: int, reward: float) -> None:
        self.values[action] += self.alpha * (reward - self.values[action])


class ModelBasedAgent(TwoStepAgent):
    """Learns ``V(S1), V(S2)``; values action a as ``P(common) V(its common state) + P(rare) V(the other)``."""

    name = "model-based"

    def first_stage_values(self) -> np.ndarray:
        v1, v2 = self.values
        p = self.common_prob
        return np.array([p * v1 + (1 - p) * v2, p * v2 + (1 - p) * v1])  # action 0 commonly reaches S1

    def update(self, action: int, state: int, reward: float) -> None:
        index = state - S1
        self.values[index] += self.alpha * (reward - self.values[index])


def play_two_step(
    agent: TwoStepAgent,
    env_config: dict[str, Any] | None = None,
    num_episodes: int = 300,
    seed: int = 0,
    stream: int = HELD_OUT_STREAM,
) -> pd.DataFrame:
    """One row per trial of every episode: ``episode`` plus the env's trial-end ``info``
    (``trial_index``, ``first_stage_action``, ``second_stage_state``, ``common``, ``rewarded``, ``good_state``).
    Episode i starts from the same seed as the trained agent's evaluation episode i.
    """
    env = get_task("two_step").make(**(env_config or {}))
    rng = np.random.default_rng([seed, stream, zlib.crc32(agent.name.encode())])  # the agent's own choices
    rows = []
    for episode, episode_seed in enumerate(trial_seeds(num_episodes, seed, stream)):
        env.reset(seed=int(episode_seed))
        agent.reset(env.common_prob)
        terminated = False
        while not terminated:
            _, _, terminated, _, info = env.step(agent.act(rng))
            if env.input_form == "full":  # the second-stage choice does not matter
                _, _, terminated, _, info = env.step(0)
            agent.update(info["first_stage_action"], info["second_stage_state"], float(info["rewarded"]))
            rows.append({"episode": episode, **{k: v for k, v in info.items() if k != "episode_metrics"}})
    return pd.DataFrame(rows)
