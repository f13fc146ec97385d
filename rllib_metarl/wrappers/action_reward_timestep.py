"""The action-reward-timestep observation wrapper (Wang et al. 2016; Duan et al. 2016).

A meta-RL agent can only learn within a trial if it sees the consequences of its own choices, so at step t its
observation is::

    [inner observation, one_hot(a_{t-1}), r_{t-1} (scalar or one-hot), done_{t-1} (optional), t / T]

with zeros for a_{-1} and r_{-1} at the start of a trial. Nothing here reveals the task; ``info`` passes through.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import gymnasium as gym
import numpy as np

from rllib_metarl.utils.validation import validate_action, validate_trial_length

W = TypeVar("W", bound=gym.Wrapper)  # the wrapper class find_wrapper looks for

REWARD_ENCODINGS = ("scalar", "one_hot")


class ActionRewardTimestepWrapper(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """Appends the previous action (one-hot), previous reward and normalized timestep to the observation.

    Args:
        env: any env with a ``Discrete`` action space and a ``Box`` (or empty) observation space.
        trial_length: T in ``t / T``. Defaults to the env's ``trial_length`` attribute, then to its spec's
            ``max_episode_steps``.
        reward_encoding: ``"scalar"`` (r_{t-1} as one number) or ``"one_hot"`` (one slot per value in
            ``reward_values``; the original eleven-arm code did this).
        reward_values: the rewards the env can pay: the slots of ``"one_hot"``, the bounds of ``"scalar"``.
            Defaults to the env's ``reward_values`` attribute, if it has one.
        include_done: add the flag ``done_{t-1}`` that marks an inner-episode boundary in multi-episode trials,
            read from ``info["inner_episode_done"]``.
    """

    def __init__(
        self,
        env: gym.Env,
        trial_length: int | None = None,
        reward_encoding: str = "scalar",
        reward_values: Sequence[float] | None = None,
        include_done: bool = False,
    ):
        gym.utils.RecordConstructorArgs.__init__(
            self,
            trial_length=trial_length,
            reward_encoding=reward_encoding,
            reward_values=reward_values,
            include_done=include_done,
        )
        gym.ObservationWrapper.__init__(self, env)
        if not isinstance(env.action_space, gym.spaces.Discrete):
            raise ValueError(f"ActionRewardTimestepWrapper needs a Discrete action space, got {env.action_space}")
        if not isinstance(env.observation_space, gym.spaces.Box):
            raise ValueError(f"ActionRewardTimestepWrapper needs a Box observation space, got {env.observation_space}")
        if reward_encoding not in REWARD_ENCODINGS:
            raise ValueError(f"reward_encoding must be one of {REWARD_ENCODINGS}, got {reward_encoding!r}")
        self.trial_length = resolve_trial_length(env, trial_length)
        self.num_actions = int(env.action_space.n)
        self.action_start = int(env.action_space.start)  # one-hot slot i is action start + i
        self.reward_encoding = reward_encoding
        self.include_done = include_done
        values = reward_values if reward_values is not None else getattr(env.unwrapped, "reward_values", None)
        if reward_encoding == "one_hot" and not values:
            raise ValueError("reward_encoding='one_hot' needs reward_values (the env declares none)")
        self.reward_values = np.asarray(values, dtype=np.float64) if reward_encoding == "one_hot" else None

        inner = env.observation_space
        self._inner_size = int(np.prod(inner.shape))
        reward_size = 1 if self.reward_values is None else len(self.reward_values)
        extra = self.num_actions + reward_size + int(include_done) + 1
        low = np.concatenate([inner.low.reshape(-1), np.zeros(extra)]).astype(np.float32)
        high = np.concatenate([inner.high.reshape(-1), np.ones(extra)]).astype(np.float32)
        if self.reward_values is None:  # a scalar reward: bounded by the declared values (and 0 at t=0), if any
            reward_slot = self._inner_size + self.num_actions
            low[reward_slot] = min(0.0, *values) if values else -np.inf
            high[reward_slot] = max(0.0, *values) if values else np.inf
        self.observation_space = gym.spaces.Box(low, high, dtype=np.float32)
        self._clear()

    def _clear(self) -> None:
        self._prev_action: int | None = None
        self._prev_reward = 0.0
        self._prev_done = False
        self._t = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        self._clear()
        return super().reset(seed=seed, options=options)

    def step(self, action):
        # Record before `super().step`, which calls `observation()` for the next observation.
        self._prev_action = validate_action(action, self.num_actions, self.action_start) - self.action_start
        observation, reward, terminated, truncated, info = self.env.step(action)
        self._prev_reward = float(reward)
        self._prev_done = bool(info.get("inner_episode_done", False))
        self._t += 1
        return self.observation(observation), reward, terminated, truncated, info

    def observation(self, observation: Any) -> np.ndarray:
        return self.encode(
            np.asarray(observation, dtype=np.float32).reshape(1, -1),
            prev_actions=np.array([-1 if self._prev_action is None else self._prev_action]),
            prev_rewards=np.array([self._prev_reward]),
            prev_dones=np.array([self._prev_done]),
            timesteps=np.array([self._t]),
        )[0]

    def encode(
        self,
        observations: np.ndarray,
        prev_actions: np.ndarray,
        prev_rewards: np.ndarray,
        prev_dones: np.ndarray,
        timesteps: np.ndarray,
    ) -> np.ndarray:
        """The agent's observations of N copies at once (rows); ``prev_actions`` -1 marks a trial's first step.

        The single wrapper and :class:`VectorActionRewardTimestepWrapper` both encode with this method.
        """
        started = prev_actions >= 0
        rows = np.arange(len(prev_actions))
        actions = np.zeros((len(prev_actions), self.num_actions), dtype=np.float32)
        actions[rows[started], prev_actions[started]] = 1.0
        parts = [observations.reshape(len(prev_actions), -1).astype(np.float32), actions,
                 self._encode_rewards(prev_rewards, started)]  # fmt: skip
        if self.include_done:
            parts.append(prev_dones.astype(np.float32)[:, None])
        parts.append((timesteps / self.trial_length).astype(np.float32)[:, None])
        return np.concatenate(parts, axis=1)

    def _encode_rewards(self, rewards: np.ndarray, started: np.ndarray) -> np.ndarray:
        if self.reward_values is None:
            return rewards.astype(np.float32)[:, None]
        matches = np.isclose(rewards[:, None], self.reward_values[None, :]) & started[:, None]
        unknown = started & ~matches.any(axis=1)
        if unknown.any():
            raise ValueError(
                f"reward {float(rewards[unknown][0])!r} is not one of reward_values {self.reward_values.tolist()}"
            )
        encoded = np.zeros(matches.shape, dtype=np.float32)
        encoded[np.flatnonzero(started), matches[started].argmax(axis=1)] = 1.0  # the first matching slot
        return encoded


class VectorActionRewardTimestepWrapper(gym.vector.VectorWrapper):
    """:class:`ActionRewardTimestepWrapper` for a native vector env (:mod:`rllib_metarl.tasks.vector`), all copies
    encoded at once. A copy that the env autoresets on this step starts its trial afresh (zeros, ``t = 0``).

    Args:
        env: a :class:`rllib_metarl.tasks.vector.MetaVectorEnv`.
        reward_encoding, include_done: as for :class:`ActionRewardTimestepWrapper`.
    """

    def __init__(self, env: gym.vector.VectorEnv, reward_encoding: str = "scalar", include_done: bool = False):
        super().__init__(env)
        # The single wrapper validates the arguments, defines the observation space and encodes.
        self.encoder = ActionRewardTimestepWrapper(
            env.single_env, reward_encoding=reward_encoding, include_done=include_done
        )
        self.single_observation_space = self.encoder.observation_space
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space, env.num_envs)
        self.trial_length = env.trial_length
        self._prev_actions = np.full(env.num_envs, -1)
        self._prev_rewards = np.zeros(env.num_envs)
        self._prev_dones = np.zeros(env.num_envs, dtype=bool)
        self._timesteps = np.zeros(env.num_envs, dtype=np.int64)
        self._autoreset = np.zeros(env.num_envs, dtype=bool)

    def reset(self, *, seed: Any = None, options: dict | None = None):
        observations, infos = self.env.reset(seed=seed, options=options)
        self._start(np.ones(self.num_envs, dtype=bool))
        self._autoreset[:] = False
        return self._encode(observations), infos

    def step(self, actions: Any):
        observations, rewards, terminated, truncated, infos = self.env.step(actions)
        stepped = ~self._autoreset
        indices = np.asarray(actions).reshape(self.num_envs) - self.encoder.action_start  # the env checked them
        self._prev_actions[stepped] = indices[stepped]
        self._prev_rewards[stepped] = rewards[stepped]
        if "inner_episode_done" in infos:
            self._prev_dones[stepped] = infos["inner_episode_done"][stepped]
        self._timesteps[stepped] += 1
        self._start(self._autoreset)
        self._autoreset = terminated | truncated
        return self._encode(observations), rewards, terminated, truncated, infos

    def _start(self, copies: np.ndarray) -> None:
        self._prev_actions[copies] = -1
        self._prev_rewards[copies] = 0.0
        self._prev_dones[copies] = False
        self._timesteps[copies] = 0

    def _encode(self, observations: np.ndarray) -> np.ndarray:
        return self.encoder.encode(
            observations, self._prev_actions, self._prev_rewards, self._prev_dones, self._timesteps
        )


def resolve_trial_length(env: gym.Env, trial_length: int | None = None) -> int:
    """``trial_length`` if given, else the env's ``trial_length`` attribute, else its spec's ``max_episode_steps``."""
    if trial_length is None:
        trial_length = getattr(env.unwrapped, "trial_length", None)
    if trial_length is None and env.spec is not None:
        trial_length = env.spec.max_episode_steps
    if trial_length is None:
        raise ValueError("trial_length is needed: the env has no trial_length and no max_episode_steps")
    return validate_trial_length(trial_length)


def declared_states(env: gym.Env) -> int:
    """How many states ``env``'s observation shows as a one-hot: the task's ``num_states`` when its observation is a
    vector of exactly that size, else 1 (a task without states, such as a bandit, or one whose observation is more
    than its state)."""
    declared = getattr(env.unwrapped, "num_states", None)
    return declared if declared == gym.spaces.flatdim(env.observation_space) else 1


def find_wrapper(env: gym.Env, wrapper_class: type[W]) -> W | None:
    """The outermost wrapper of ``wrapper_class`` around ``env``'s task, or None."""
    while isinstance(env, gym.Wrapper):
        if isinstance(env, wrapper_class):
            return env
        env = env.env
    return None


def action_layout(env: gym.Env) -> tuple[int, int, int]:
    """Where an agent env's observation holds the previous action's one-hot, and how many one-hot states come before
    it: (offset, actions, states). It follows the task's own observation, which the action-reward-timestep wrapper
    keeps first; the states are :func:`declared_states` of that observation (1: none)."""
    wrapper = find_wrapper(env, ActionRewardTimestepWrapper)
    if wrapper is None:
        raise ValueError(f"{env} has no action-reward-timestep wrapper: no previous action in its observation")
    return wrapper._inner_size, wrapper.num_actions, declared_states(wrapper.env)
