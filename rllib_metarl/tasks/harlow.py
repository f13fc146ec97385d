"""The Harlow task (Harlow 1949; Wang et al. 2018) without a game engine.

DeepMind Lab's psychlab ``harlow`` shows two images; here an object is a random code vector, so the task keeps its
structure (two novel objects per episode, one of them rewarded throughout, positions shuffled every trial) and drops
the vision problem. Objects come from a train pool and a disjoint held-out pool, so a test on the held-out pool
measures the learned "learning set", not memorized objects.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from rllib_metarl.tasks.task import Task, TrialSizes
from rllib_metarl.utils.validation import validate_action, validate_integer, validate_number, validate_task_mode

OBJECT_POOLS = ("train", "test")
LEFT, RIGHT = 0, 1


def object_codes(code_size: int, train_pool_size: int, test_pool_size: int, pool_seed: int) -> dict[str, np.ndarray]:
    """The two object pools: rows of one draw from ``pool_seed``, split so that no object is in both."""
    rng = np.random.default_rng(pool_seed)
    codes = rng.uniform(-1.0, 1.0, size=(train_pool_size + test_pool_size, code_size)).astype(np.float32)
    return {"train": codes[:train_pool_size], "test": codes[train_pool_size:]}


class HarlowTask(gym.Env):
    """Two novel objects per episode, one rewarded; ``num_trials`` choices between them (default 6).

    - Action space: ``Discrete(2)``: 0 picks the object on the left, 1 the one on the right.
    - Observation: ``[left object's code, right object's code]``, ``Box(-1, 1, (2 * code_size,))``: the two objects of
      the coming trial in their new positions.
    - Rewards: ``correct_reward`` (+1) for the rewarded object, ``incorrect_reward`` (-1) for the other (the lab
      pays +5 / -5).
    - Starting state: two distinct objects drawn uniformly from ``object_pool`` (``"train"`` or ``"test"``), one of
      them chosen as rewarded with probability 1/2 (in meta mode at every reset; with ``meta=False`` once, from
      ``task_seed``); the left/right positions are drawn anew for every trial.
    - Episode end: terminated after ``num_trials`` trials.

    The pools are fixed by ``pool_seed``: the same seed gives the same objects in every process. Chance is 50%
    correct; an agent with a learning set is at chance on trial 1 and near 100% after it. ``info["correct"]`` marks
    each choice; ``info["episode_metrics"]`` holds ``correct_trial_<i>`` (1-based) and ``accuracy_after_first``.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(
        self,
        num_trials: int = 6,
        code_size: int = 8,
        train_pool_size: int = 1000,
        test_pool_size: int = 200,
        object_pool: str = "train",
        pool_seed: int = 0,
        correct_reward: float = 1.0,
        incorrect_reward: float = -1.0,
        meta: bool = True,
        task_seed: int | None = None,
    ):
        self.num_trials = validate_integer("num_trials", num_trials, minimum=1)
        self.code_size = validate_integer("code_size", code_size)
        train_pool_size = validate_integer("train_pool_size", train_pool_size, minimum=2)
        test_pool_size = validate_integer("test_pool_size", test_pool_size, minimum=2)
        if object_pool not in OBJECT_POOLS:
            raise ValueError(f"object_pool must be one of {OBJECT_POOLS}, got {object_pool!r}")
        self.correct_reward = validate_number("correct_reward", correct_reward)
        self.incorrect_reward = validate_number("incorrect_reward", incorrect_reward)
        if not self.correct_reward > self.incorrect_reward:
            raise ValueError(
                f"correct_reward must exceed incorrect_reward, got {correct_reward!r} <= {incorrect_reward!r}"
            )
        self.meta, self.task_seed = validate_task_mode(meta, task_seed)
        self.object_pool = object_pool
        self.pools = object_codes(
            self.code_size, train_pool_size, test_pool_size, validate_integer("pool_seed", pool_seed, 0)
        )
        self.reward_values = (self.incorrect_reward, self.correct_reward)
        self.trial_length = self.num_trials
        self.action_space = gym.spaces.Discrete(2)
        self.observation_space = gym.spaces.Box(-1.0, 1.0, shape=(2 * self.code_size,), dtype=np.float32)
        self.objects: np.ndarray | None = None  # pool indices; objects[0] is the rewarded one

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if self.meta or self.objects is None or (seed is not None and self.task_seed is None):
            rng = self.np_random if self.task_seed is None else np.random.default_rng(self.task_seed)
            self.objects = rng.choice(len(self.pools[self.object_pool]), size=2, replace=False)
        self._trial = 0
        self._correct = np.zeros(self.num_trials, dtype=bool)
        self._place_objects()
        return self._observation(), {"rewarded_position": self.rewarded_position}

    def _place_objects(self) -> None:
        self.rewarded_position = int(self.np_random.integers(2))

    def _observation(self) -> np.ndarray:
        pool = self.pools[self.object_pool]
        rewarded, other = pool[self.objects[0]], pool[self.objects[1]]
        pair = (rewarded, other) if self.rewarded_position == LEFT else (other, rewarded)
        return np.concatenate(pair)

    def step(self, action):
        if self.objects is None or self._trial >= self.num_trials:
            raise RuntimeError("step() called before reset() or after the episode ended")
        correct = validate_action(action, 2) == self.rewarded_position  # 0: left, 1: right
        self._correct[self._trial] = correct
        info: dict[str, Any] = {"correct": correct, "trial_index": self._trial}
        self._trial += 1
        terminated = self._trial == self.num_trials
        if terminated:
            metrics = {f"correct_trial_{i + 1}": float(c) for i, c in enumerate(self._correct)}
            if self.num_trials > 1:
                metrics["accuracy_after_first"] = float(self._correct[1:].mean())
            info["episode_metrics"] = metrics
        self._place_objects()
        info["rewarded_position"] = self.rewarded_position
        reward = self.correct_reward if correct else self.incorrect_reward
        return self._observation(), reward, terminated, False, info


def _harlow_optimal(kwargs: dict[str, Any]) -> float:
    env = HarlowTask(**kwargs)  # trial 1 is a coin flip, every later trial is won
    return (env.correct_reward + env.incorrect_reward) / 2 + (env.num_trials - 1) * env.correct_reward


def _harlow_random(kwargs: dict[str, Any]) -> float:
    env = HarlowTask(**kwargs)
    return env.num_trials * (env.correct_reward + env.incorrect_reward) / 2


def _harlow_sizes(kwargs: dict[str, Any]) -> TrialSizes:
    code = int(kwargs["code_size"])
    pools = int(kwargs.get("train_pool_size", 1000)) + int(kwargs.get("test_pool_size", 200))
    return TrialSizes(int(kwargs["num_trials"]), 2 * code + 4, floats_per_copy=4 * code, shared_floats=pools * code)


TASKS = (
    Task(
        "harlow",
        HarlowTask,
        "HarlowTask",
        "two novel objects per episode, one rewarded, positions shuffled, 6 trials (Harlow 1949; Wang et al. 2018)",
        {"num_trials": 6, "object_pool": "train", "meta": True},
        optimal_return=_harlow_optimal,
        random_return=_harlow_random,
        trial_size_parameter="num_trials",
        trial_size_unit="trials",
        held_out_overrides={"object_pool": "test"},
        sizes=_harlow_sizes,
        preset={
            "lr": 1e-3,
            "envs_per_worker": 64,
            "trials_per_rollout": 8,
            "lstm_cell_size": 64,
            "stop_time_s": 300.0,
            "grace_period_s": 120.0,
            "evaluation_every": 5,
        },
    ),
)
