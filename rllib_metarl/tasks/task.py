"""What a meta-task is to the plugin: its env, its names, its defaults and its known figures."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

GYM_NAMESPACE = "rllib_metarl"


@dataclass(frozen=True)
class TrialSizes:
    """How big one trial of a task is, from its parameters alone (no env built): what memory a run needs."""

    trial_length: int  # env steps per trial
    observation_size: int  # numbers the agent sees per step, wrapper included
    floats_per_copy: int  # the task state one env copy holds (an MDP's transition table, ...)
    shared_floats: int = 0  # held once per process (Harlow's object pools)


# Keys of an RLlib env_config that configure the wrapper rather than the env.
WRAPPER_KEYS = ("reward_encoding", "trial_statistics", "statistics_uncertainty")


def wrapper_settings(env_config: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``env_config`` that configure the wrapper: what an agent trained with it must be played with."""
    return {key: env_config[key] for key in WRAPPER_KEYS if key in env_config}


@dataclass(frozen=True)
class Task:
    """One registered meta-task."""

    name: str
    env_class: type[gym.Env]
    gym_name: str
    description: str
    defaults: dict[str, Any] = field(default_factory=dict)
    # Expected return per trial of the best policy that does not know the task (the Bayes-optimal one), where known:
    # closed form for eleven-arm, exact dynamic programming for the two-armed bandits and for short k-armed trials.
    optimal_return: Callable[[dict[str, Any]], float] | None = None
    random_return: Callable[[dict[str, Any]], float] | None = None
    reward_encoding: str = "scalar"
    # The parameter the papers call n, set by the runner's -n, and what it counts per trial.
    trial_size_parameter: str = "trial_length"
    trial_size_unit: str = "pulls"
    include_done: bool = False  # multi-episode trials: the agent sees the inner-episode boundaries
    # What held-out evaluation changes (Harlow: objects from the pool never trained on); applied by held_out_config.
    held_out_overrides: dict[str, Any] = field(default_factory=dict)
    # The native vector env (rllib_metarl.tasks.vector), where there is one; else copies run in a SyncVectorEnv.
    vector_class: type[gym.vector.VectorEnv] | None = None
    # The task's training preset: the fields of rllib_metarl.training.presets.Preset that differ from its defaults.
    preset: dict[str, Any] = field(default_factory=dict)
    # Env steps per trial, for an env without a ``trial_length`` attribute of its own (a user's task).
    trial_length: int | None = None
    # The sizes of a trial under the constructor arguments, where the family declares them (the memory check).
    sizes: Callable[[dict[str, Any]], TrialSizes] | None = None

    @property
    def gym_id(self) -> str:
        return f"{GYM_NAMESPACE}/{self.gym_name}-v0"

    @property
    def rllib_env(self) -> str:
        return f"{GYM_NAMESPACE}/{self.name}"

    def env_kwargs(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """The defaults updated by ``overrides`` (wrapper keys skipped), checked against the env's constructor."""
        overrides = {k: v for k, v in (overrides or {}).items() if k not in WRAPPER_KEYS}
        allowed = [p for p in inspect.signature(self.env_class.__init__).parameters if p not in ("self", "kwargs")]
        unknown = sorted(set(overrides) - set(allowed))
        if unknown:
            raise ValueError(f"task {self.name!r} has no parameter {unknown[0]!r}; allowed: {allowed}")
        return {**self.defaults, **overrides}

    def held_out_config(self, env_config: dict[str, Any] | None = None) -> dict[str, Any]:
        """The env_config of held-out evaluation: ``env_config`` with the task's held-out overrides."""
        return {**(env_config or {}), **self.held_out_overrides}

    def make(self, **overrides: Any) -> gym.Env:
        """The bare env, parameters validated by its constructor."""
        return self.env_class(**self.env_kwargs(overrides))

    def trial_sizes(self, overrides: dict[str, Any] | None = None) -> TrialSizes | None:
        """The sizes of a trial under ``overrides``, without building the env (None: the family declares none)."""
        if self.sizes is None:
            return None
        signature = inspect.signature(self.env_class.__init__).parameters.values()
        arguments = {p.name: p.default for p in signature if p.default is not inspect.Parameter.empty}
        return self.sizes({**arguments, **self.env_kwargs(overrides)})

    def measured_sizes(self, env: gym.Env) -> TrialSizes:
        """The sizes of a trial read from a built env, for a task that declares none (a user's): the trial length, and
        the observation with what the wrapper adds (previous action one-hot, reward, time, end of episode)."""
        trial_length = (
            self.trial_length if self.trial_length is not None else getattr(env.unwrapped, "trial_length", None)
        )
        if trial_length is None:
            raise ValueError(f"task {self.name!r} has no trial length: give register_task trial_length=, or give the "
                             "env a trial_length attribute")  # fmt: skip
        added = int(env.action_space.n) + 3
        return TrialSizes(int(trial_length), gym.spaces.flatdim(env.observation_space) + added, floats_per_copy=0)

    def accepts(self, parameter: str) -> bool:
        """Whether the env's constructor takes ``parameter`` (e.g. ``meta``: every built-in task has a fixed mode)."""
        return parameter in inspect.signature(self.env_class.__init__).parameters

    def trial_length_of(self, env_config: dict[str, Any] | None = None) -> int:
        """Env steps per trial under ``env_config``: the task's own figure, else the env's ``trial_length``."""
        if self.trial_length is not None:
            return self.trial_length
        return int(self.make(**(env_config or {})).trial_length)
