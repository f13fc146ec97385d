"""The base of the native vector envs (each task family's own is beside its env): every copy stepped in one numpy
operation.

A ``gymnasium.vector.SyncVectorEnv`` of N single envs makes N Python calls per step; these classes hold the N copies'
state in arrays instead. Per copy they behave exactly like the single env (tested trajectory by trajectory against
``SyncVectorEnv``):

- Seeding as ``SyncVectorEnv``: ``reset(seed=s)`` seeds copy i with ``s + i`` (a list seeds each copy), through the
  same ``seed_salt`` mapping as :class:`rllib_metarl.tasks.registry.SaltedSeed`; each copy keeps its own generator.
- Draws as the single env: at a copy's reset the single env's own ``_draw_task``/``draw_task`` and noise methods
  run on that copy's generator, so the per-trial draws (a Python loop, once per trial) are shared code; the steps
  that follow are pure numpy.
- Autoreset ``NEXT_STEP``, which RLlib's env runners expect: the ``step`` after a copy's last step resets that copy
  (its action is ignored, reward 0, not done) and returns its first observation.
- Infos in the vector form (``{key: values, "_key": mask}``), the same keys and values as the single env's.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector.utils import batch_space

from rllib_metarl.utils.validation import validate_actions, validate_integer


def salted_seed(seed: int, salt: int) -> int:
    """The seed a copy salted with ``salt`` resets with (``SaltedSeed``'s mapping; ``salt`` 0 leaves it)."""
    return int(np.random.SeedSequence([seed, salt]).generate_state(1)[0]) if salt else int(seed)


def vector_info(mask: np.ndarray, **columns: Any) -> dict[str, Any]:
    """Vector-form infos: each column is an array over all copies, valid where ``mask`` is True; a dict of columns
    nests; a ``(values, own_mask)`` pair is a column valid only where ``own_mask`` is True."""
    infos: dict[str, Any] = {}
    for key, values in columns.items():
        column_mask = mask
        if isinstance(values, dict):
            values = vector_info(mask, **values)
        elif isinstance(values, tuple):
            values, column_mask = values
        infos[key], infos[f"_{key}"] = values, column_mask
    return infos


def copy_info(infos: dict[str, Any], copy: int) -> dict[str, Any]:
    """Copy ``copy``'s info dict from vector-form infos (what the single env would have returned)."""
    return {
        key: copy_info(values, copy) if isinstance(values, dict) else values[copy]
        for key, values in infos.items()
        if not key.startswith("_") and infos[f"_{key}"][copy]
    }


def scalar_info(info: dict[str, Any]) -> dict[str, Any]:
    """The entries of one step's info that are scalars (a bandit's ``optimal_action`` and ``regret``, the two-step
    task's ``common``...): what a per-step record of play keeps."""
    return {key: value for key, value in info.items() if isinstance(value, (bool, int, float, np.number, np.bool_))}


def merge_infos(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Vector-form infos of two disjoint sets of copies (e.g. the ones stepped and the ones reset) as one."""
    merged = dict(first)
    for key, value in second.items():
        if key.startswith("_"):
            continue
        mask = second[f"_{key}"]
        if key not in merged:
            merged[key] = value
        elif isinstance(value, dict):
            merged[key] = merge_infos(merged[key], value)
        else:
            merged[key] = np.where(mask, value, merged[key])
        merged[f"_{key}"] = merged.get(f"_{key}", np.zeros_like(mask)) | mask
    return merged


class MetaVectorEnv(gym.vector.VectorEnv):
    """N copies of one meta-task. Subclasses hold the task state in arrays and implement the per-copy hooks.

    Args:
        env: a single env of the task, already validated; its parameters are every copy's, and its draw methods
            draw every copy's tasks.
        num_envs: the number of copies.
        seed_salt: mixed into every reset seed, as by :class:`rllib_metarl.tasks.registry.SaltedSeed` (0: none).
    """

    metadata: dict[str, Any] = {"autoreset_mode": gym.vector.AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, env: gym.Env, num_envs: int, seed_salt: int = 0):
        self.single_env = env
        self.num_envs = validate_integer("num_envs", num_envs)
        self.seed_salt = int(seed_salt)
        self.trial_length = int(env.trial_length)
        self.single_observation_space = env.observation_space
        self.single_action_space = env.action_space
        self.observation_space = batch_space(env.observation_space, self.num_envs)
        self.action_space = batch_space(env.action_space, self.num_envs)
        self._generators: list[np.random.Generator | None] = [None] * self.num_envs
        self._has_task = np.zeros(self.num_envs, dtype=bool)
        self._t = np.zeros(self.num_envs, dtype=np.int64)
        self._autoreset = np.zeros(self.num_envs, dtype=bool)

    # -- per task, in the subclasses ---------------------------------------------------------------------------------
    def _draw_task(self, copy: int, rng: np.random.Generator) -> None:
        """Draw copy ``copy``'s task with ``rng`` (with the single env's method) into the arrays."""
        raise NotImplementedError

    def _draw_noise(self, copy: int, rng: np.random.Generator) -> None:
        """Draw copy ``copy``'s noise for its next trial with ``rng`` (the single env's method), after the task."""
        raise NotImplementedError

    def _start_trial(self, copies: np.ndarray) -> dict[str, Any]:
        """Start a trial in ``copies`` (task and noise drawn); return the reset infos in vector form."""
        raise NotImplementedError

    def _step_copies(self, copies: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        """Step ``copies`` (not yet at their trial's end) with ``actions``; return rewards and the info columns."""
        raise NotImplementedError

    def _trial_metrics(self, copies: np.ndarray) -> dict[str, Any]:
        """``info["episode_metrics"]`` columns of ``copies``, which just ended their trial."""
        raise NotImplementedError

    def _observations(self) -> np.ndarray:
        raise NotImplementedError

    # -- Gymnasium vector API ------------------------------------------------------------------------------------------
    def reset(self, *, seed: int | list[int | None] | None = None, options: dict | None = None):
        if seed is None or isinstance(seed, (int, np.integer)):
            seeds = [None if seed is None else int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"reset got {len(seeds)} seeds for {self.num_envs} copies")
        reseeded = np.array([s is not None for s in seeds])
        for copy, copy_seed in enumerate(seeds):
            if copy_seed is not None or self._generators[copy] is None:
                salted = None if copy_seed is None else salted_seed(copy_seed, self.seed_salt)
                self._generators[copy] = gym.utils.seeding.np_random(salted)[0]
        copies = np.arange(self.num_envs)
        infos = self._reset_copies(copies, reseeded)
        self._autoreset[:] = False
        return self._observations(), infos

    def step(self, actions: Any):
        actions = validate_actions(actions, self.num_envs, int(self.single_action_space.n))
        resetting = np.flatnonzero(self._autoreset)
        stepping = np.flatnonzero(~self._autoreset)
        rewards = np.zeros(self.num_envs)
        terminated = np.zeros(self.num_envs, dtype=bool)
        infos: dict[str, Any] = {}
        if len(stepping):
            rewards[stepping], infos = self._step_copies(stepping, actions[stepping])
            self._t[stepping] += 1
            terminated[stepping] = self._t[stepping] == self.trial_length
            ended = stepping[terminated[stepping]]
            if len(ended):
                metrics = vector_info(self._mask(ended), episode_metrics=self._trial_metrics(ended))
                infos = merge_infos(infos, metrics)
        if len(resetting):
            infos = merge_infos(infos, self._reset_copies(resetting, np.zeros(self.num_envs, dtype=bool)))
        self._autoreset = terminated.copy()
        return self._observations(), rewards, terminated, np.zeros(self.num_envs, dtype=bool), infos

    def _reset_copies(self, copies: np.ndarray, reseeded: np.ndarray) -> dict[str, Any]:
        env = self.single_env
        for copy in copies:
            rng = self._generators[copy]
            if env.meta or not self._has_task[copy] or (reseeded[copy] and env.task_seed is None):
                self._draw_task(copy, rng if env.task_seed is None else np.random.default_rng(env.task_seed))
                self._has_task[copy] = True
            self._draw_noise(copy, rng)
        self._t[copies] = 0
        return self._start_trial(copies)

    def _mask(self, copies: np.ndarray) -> np.ndarray:
        mask = np.zeros(self.num_envs, dtype=bool)
        mask[copies] = True
        return mask

    def _column(self, copies: np.ndarray, values: np.ndarray, dtype: Any) -> np.ndarray:
        column = np.zeros(self.num_envs, dtype=dtype)
        column[copies] = values
        return column
