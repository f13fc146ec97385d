"""The trial-statistics observation wrapper: what the trial so far has shown, summarised as extra inputs (RL^3).

A recurrent core trained by RL alone must learn to keep these statistics in its memory, which over long trials (500
pulls, 100 inner episodes) it barely does. RL^3 (Bhatia, Nashed and Zilberstein, RLC 2025) hands them to the agent
instead. An agent trained with this wrapper is therefore **not RL^2**: its inputs summarise the trial. Results
label it so.

At every step the observation gains, for the current state ``s`` (the only one in a task without states, e.g. a
bandit; a task's state is read from a one-hot observation), one entry per action ``a``:

- ``visits(s, a) / T``: how often ``a`` was taken in ``s`` this trial, over the trial length ``T``;
- ``mean_reward(s, a)``: the mean reward it paid (0 while untried);

and, in a task with states,

- ``P(s' | s, a)`` for every ``s'``: the estimated transition probabilities, the mean of a uniform Dirichlet prior
  updated by the observed transitions (uniform while untried; the step that ends an inner episode is no transition);
- ``Q(s, a) / H``: the action values of value iteration over ``H`` steps on the trial's estimated MDP (those
  transitions, the mean rewards), per step of ``H`` (``H``: the env's ``episode_length``, else the trial length);

and, with ``uncertainty=True``,

- ``1 / sqrt(1 + visits(s, a))``: how uncertain the action's mean still is, on the scale of a standard error (1 while
  untried, 0.71 after one visit). The visit share above tells an untried action from one tried once by only 1/T;
  a policy that should explore by uncertainty, as UCB does, has to amplify that difference first.

:class:`TrialStatisticsWrapper` wraps a single env and :class:`VectorTrialStatisticsWrapper` a native vector env;
both keep their counts in one :class:`TrialStatistics`, so their numbers are the same. The agent env puts the
action-reward-timestep wrapper on top (``rllib_metarl.tasks.make_agent_env`` with ``trial_statistics=True``; on the
command line ``--env-arg trial_statistics=True``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from rllib_metarl.utils.validation import validate_action, validate_flag, validate_integer
from rllib_metarl.utils.value_iteration import optimal_q_values
from rllib_metarl.wrappers.action_reward_timestep import declared_states, find_wrapper, resolve_trial_length

StatesOf = Callable[[np.ndarray], np.ndarray]  # observations [N, ...] -> state indices [N]


class TrialStatistics:
    """Running statistics of N copies' current trials, held in arrays.

    Args:
        num_copies: N.
        num_states, num_actions: S (1: a task without states) and A.
        trial_length: T, the scale of the visit counts.
        value_horizon: H, the steps value iteration plans over (tasks with states).
        uncertainty: add ``1 / sqrt(1 + visits)`` per action.
    """

    def __init__(self, num_copies: int, num_states: int, num_actions: int, trial_length: int, value_horizon: int,
                 uncertainty: bool = False):  # fmt: skip
        self.num_states, self.num_actions, self.uncertainty = num_states, num_actions, uncertainty
        self.trial_length, self.value_horizon = trial_length, value_horizon
        self.visits = np.zeros((num_copies, num_states, num_actions))
        self.reward_sums = np.zeros((num_copies, num_states, num_actions))
        self.transitions = np.zeros((num_copies, num_states, num_actions, num_states)) if num_states > 1 else None

    @staticmethod
    def size(num_states: int, num_actions: int, uncertainty: bool = False) -> int:
        """Numbers the statistics add to each observation."""
        return num_actions * ((2 if num_states == 1 else 3 + num_states) + int(uncertainty))

    def clear(self, copies: np.ndarray) -> None:
        """Start a new trial in ``copies``."""
        self.visits[copies] = 0.0
        self.reward_sums[copies] = 0.0
        if self.transitions is not None:
            self.transitions[copies] = 0.0

    def record(self, copies: np.ndarray, states: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
               next_states: np.ndarray, episode_ends: np.ndarray) -> None:  # fmt: skip
        """One step of ``copies`` (each at most once): action ``actions`` in ``states`` paid ``rewards`` and led to
        ``next_states``, no transition where ``episode_ends`` (the step ended an inner episode)."""
        self.visits[copies, states, actions] += 1.0
        self.reward_sums[copies, states, actions] += rewards
        if self.transitions is not None:
            moved = ~episode_ends
            self.transitions[copies[moved], states[moved], actions[moved], next_states[moved]] += 1.0

    def features(self, states: np.ndarray) -> np.ndarray:
        """The statistics of every copy at its current state ``states`` [N]: rows of :meth:`size` numbers."""
        rows = np.arange(len(states))
        mean_rewards = np.divide(self.reward_sums, self.visits, out=np.zeros_like(self.visits), where=self.visits > 0)
        parts = [self.visits[rows, states] / self.trial_length, mean_rewards[rows, states]]
        if self.transitions is not None:
            moves = self.transitions.sum(axis=-1, keepdims=True)  # visits minus the steps that ended an episode
            estimated = (self.transitions + 1.0) / (moves + self.num_states)
            q_values = optimal_q_values(estimated, mean_rewards, self.value_horizon)[:, 0]
            parts += [estimated[rows, states].reshape(len(states), -1), q_values[rows, states] / self.value_horizon]
        if self.uncertainty:
            parts.append(1.0 / np.sqrt(1.0 + self.visits[rows, states]))
        return np.concatenate(parts, axis=1).astype(np.float32)


def one_hot_states(observations: np.ndarray) -> np.ndarray:
    """The state indices of one-hot state observations [N, S]."""
    return observations.reshape(len(observations), -1).argmax(axis=1)


def single_state(observations: np.ndarray) -> np.ndarray:
    """State 0 for every copy: a task without states."""
    return np.zeros(len(observations), dtype=np.int64)


class TrialStatisticsWrapper(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """Appends the trial's running statistics (module docstring) to the flattened observation.

    Args:
        env: an env with a ``Discrete`` action space and a ``Box`` observation space whose episodes are trials.
        num_states: S. Default: the env's ``num_states`` attribute when its observation is a one-hot vector of that
            size (a tabular MDP), else 1 (per-action statistics only).
        states_of: maps observations [N, ...] to state indices [N] in ``[0, num_states)``. Default: the one-hot
            position when ``num_states`` > 1.
        value_horizon: H of the action values. Default: the env's ``episode_length`` attribute, else the trial length.
        trial_length: T. Default: the env's ``trial_length`` attribute, then its spec's ``max_episode_steps``.
        uncertainty: also add ``1 / sqrt(1 + visits)`` per action (module docstring).
    """

    def __init__(
        self,
        env: gym.Env,
        num_states: int | None = None,
        states_of: StatesOf | None = None,
        value_horizon: int | None = None,
        trial_length: int | None = None,
        uncertainty: bool = False,
    ):
        gym.utils.RecordConstructorArgs.__init__(self, num_states=num_states, value_horizon=value_horizon,
                                                 trial_length=trial_length, uncertainty=uncertainty)  # fmt: skip
        gym.ObservationWrapper.__init__(self, env)
        if not isinstance(env.action_space, gym.spaces.Discrete):
            raise ValueError(f"TrialStatisticsWrapper needs a Discrete action space, got {env.action_space}")
        if not isinstance(env.observation_space, gym.spaces.Box):
            raise ValueError(f"TrialStatisticsWrapper needs a Box observation space, got {env.observation_space}")
        self.num_actions = int(env.action_space.n)
        self.action_start = int(env.action_space.start)
        self.trial_length = resolve_trial_length(env, trial_length)
        self.num_states, self.states_of = _states(env, num_states, states_of)
        horizon = value_horizon if value_horizon is not None else getattr(env.unwrapped, "episode_length", None)
        self.value_horizon = validate_integer("value_horizon", horizon if horizon is not None else self.trial_length)
        self.uncertainty = validate_flag("uncertainty", uncertainty)
        self.statistics = TrialStatistics(1, self.num_states, self.num_actions, self.trial_length, self.value_horizon,
                                          self.uncertainty)  # fmt: skip

        inner = env.observation_space
        added = TrialStatistics.size(self.num_states, self.num_actions, self.uncertainty)
        low, high = np.full(added, -np.inf), np.full(added, np.inf)
        low[: self.num_actions], high[: self.num_actions] = 0.0, 1.0  # visits / T
        if self.num_states > 1:  # transition probabilities
            probabilities = slice(2 * self.num_actions, (2 + self.num_states) * self.num_actions)
            low[probabilities], high[probabilities] = 0.0, 1.0
        if self.uncertainty:  # 1 / sqrt(1 + visits), the last block
            low[added - self.num_actions :], high[added - self.num_actions :] = 0.0, 1.0
        self.observation_space = gym.spaces.Box(
            np.concatenate([inner.low.reshape(-1), low]).astype(np.float32),
            np.concatenate([inner.high.reshape(-1), high]).astype(np.float32),
            dtype=np.float32,
        )
        self._state = 0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        observation, info = self.env.reset(seed=seed, options=options)
        self.statistics.clear(np.array([0]))
        self._state = int(self.state_indices(np.asarray(observation)[None])[0])
        return self.observation(observation), info

    def step(self, action):
        index = validate_action(action, self.num_actions, self.action_start) - self.action_start
        observation, reward, terminated, truncated, info = self.env.step(action)
        next_state = int(self.state_indices(np.asarray(observation)[None])[0])
        episode_end = bool(info.get("inner_episode_done", False))
        step = (np.array([self._state]), np.array([index]), np.array([float(reward)]), np.array([next_state]))
        self.statistics.record(np.array([0]), *step, np.array([episode_end]))
        self._state = next_state
        return self.observation(observation), reward, terminated, truncated, info

    def state_indices(self, observations: np.ndarray) -> np.ndarray:
        """The states of observations [N, ...] as integers; a ValueError names one out of ``[0, num_states)``."""
        states = np.asarray(self.states_of(observations)).astype(np.int64).reshape(len(observations))
        if ((states < 0) | (states >= self.num_states)).any():
            raise ValueError(f"states_of gave {states.tolist()}; states lie in [0, {self.num_states - 1}]")
        return states

    def observation(self, observation: Any) -> np.ndarray:
        features = self.statistics.features(np.array([self._state]))[0]
        return np.concatenate([np.asarray(observation, dtype=np.float32).reshape(-1), features])


class VectorTrialStatisticsWrapper(gym.vector.VectorWrapper):
    """:class:`TrialStatisticsWrapper` for a native vector env (:mod:`rllib_metarl.tasks.vector`), all copies at once.
    A copy that the env autoresets on this step starts a trial with no statistics.

    Args:
        env: a :class:`rllib_metarl.tasks.vector.MetaVectorEnv`.
        value_horizon, uncertainty: as for :class:`TrialStatisticsWrapper`.
    """

    def __init__(self, env: gym.vector.VectorEnv, value_horizon: int | None = None, uncertainty: bool = False):
        super().__init__(env)
        # The single wrapper checks the env, resolves S, H and T and defines the observation space.
        self.single_env = TrialStatisticsWrapper(env.single_env, value_horizon=value_horizon,
                                                 trial_length=env.trial_length, uncertainty=uncertainty)  # fmt: skip
        self.trial_length = env.trial_length
        self.single_observation_space = self.single_env.observation_space
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space, env.num_envs)
        single = self.single_env
        self.statistics = TrialStatistics(env.num_envs, single.num_states, single.num_actions, single.trial_length,
                                          single.value_horizon, single.uncertainty)  # fmt: skip
        self._states = np.zeros(env.num_envs, dtype=np.int64)
        self._autoreset = np.zeros(env.num_envs, dtype=bool)

    def reset(self, *, seed: Any = None, options: dict | None = None):
        observations, infos = self.env.reset(seed=seed, options=options)
        self.statistics.clear(np.arange(self.num_envs))
        self._states = self.single_env.state_indices(observations)
        self._autoreset[:] = False
        return self._augment(observations), infos

    def step(self, actions: Any):
        observations, rewards, terminated, truncated, infos = self.env.step(actions)
        stepped = np.flatnonzero(~self._autoreset)
        indices = np.asarray(actions).reshape(self.num_envs).astype(np.int64) - self.single_env.action_start
        next_states = self.single_env.state_indices(observations)
        episode_ends = np.asarray(infos.get("inner_episode_done", np.zeros(self.num_envs, dtype=bool)), dtype=bool)
        self.statistics.record(stepped, self._states[stepped], indices[stepped], rewards[stepped],
                               next_states[stepped], episode_ends[stepped])  # fmt: skip
        self.statistics.clear(np.flatnonzero(self._autoreset))
        self._states = next_states
        self._autoreset = terminated | truncated
        return self._augment(observations), rewards, terminated, truncated, infos

    def _augment(self, observations: np.ndarray) -> np.ndarray:
        flat = np.asarray(observations, dtype=np.float32).reshape(self.num_envs, -1)
        return np.concatenate([flat, self.statistics.features(self._states)], axis=1)


def _states(env: gym.Env, num_states: int | None, states_of: StatesOf | None) -> tuple[int, StatesOf]:
    observation_size = gym.spaces.flatdim(env.observation_space)
    if num_states is None:
        num_states = declared_states(env) if states_of is None else 1
    num_states = validate_integer("num_states", num_states)
    if num_states == 1:
        return 1, single_state
    if states_of is None:
        if observation_size != num_states:
            raise ValueError(f"num_states={num_states} needs states_of, or a one-hot observation of that size "
                             f"(the observation has {observation_size} numbers)")  # fmt: skip
        states_of = one_hot_states
    return num_states, states_of


def statistics_layout(env: gym.Env) -> tuple[int, int, int, bool] | None:
    """Where an agent env's observation holds the trial statistics: (offset, actions, states, uncertainty), or None
    without them. They follow the task's own observation, which the action-reward-timestep wrapper keeps first."""
    wrapper = find_wrapper(env, TrialStatisticsWrapper)
    if wrapper is None:
        return None
    offset = gym.spaces.flatdim(wrapper.env.observation_space)
    return offset, wrapper.num_actions, wrapper.num_states, wrapper.uncertainty
