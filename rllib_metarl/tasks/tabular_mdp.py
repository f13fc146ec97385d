"""Random tabular MDPs of RL^2 (Duan et al. 2016, sec. 4.2, Table 2).

One trial = one MDP drawn from the prior, then ``num_episodes`` inner episodes of ``episode_length`` steps in it, each
starting in state 0. The agent keeps its memory across the inner episodes of a trial; the wrapper's done flag tells it
where they end. Every random number of a trial is drawn at reset (the MDP, then every step's reward noise and
transition uniform), so that :class:`VectorTabularMDP` (below) can step many copies at once with
exactly the numbers each single copy draws.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from rllib_metarl.tasks.task import Task, TrialSizes
from rllib_metarl.tasks.vector import MetaVectorEnv, vector_info
from rllib_metarl.utils.validation import validate_action, validate_integer, validate_task_mode
from rllib_metarl.utils.value_iteration import optimal_q_values


class TabularMDP(gym.Env):
    """Random finite MDP, re-drawn every trial (RL^2, sec. 4.2).

    - Action space: ``Discrete(num_actions)`` (default 5).
    - Observation: the one-hot current state, ``Box(0, 1, (num_states,))`` (default 10 states); wrap with
      ``ActionRewardTimestepWrapper(include_done=True)`` for the agent's input.
    - Rewards: ``N(mu(s, a), 1)`` for the action taken in the state it was taken in.
    - Starting state: a task is ``P(.|s, a) ~ Dirichlet(1, ..., 1)`` for every (s, a) and ``mu(s, a) ~ N(1, 1)``
      (re-drawn every reset in meta mode, drawn once in fixed mode); every inner episode starts in state 0.
    - Episode end: terminated after ``num_episodes x episode_length`` steps. ``info["inner_episode_done"]`` is True on
      the last step of every inner episode, after which the state is 0 again.

    Random play earns 1 per step in expectation (``mu`` has mean 1 whatever the state). At the end of a trial,
    ``info["episode_metrics"]`` holds ``oracle_return``, the expected return of value iteration on the true MDP (the
    normalizer of the papers' normalized scores), and ``normalized_return``, the trial's return divided by it.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(
        self,
        num_episodes: int = 10,
        num_states: int = 10,
        num_actions: int = 5,
        episode_length: int = 10,
        meta: bool = True,
        task_seed: int | None = None,
    ):
        self.num_states = validate_integer("num_states", num_states, minimum=2)
        self.num_actions = validate_integer("num_actions", num_actions, minimum=2)
        self.num_episodes = validate_integer("num_episodes", num_episodes)
        self.episode_length = validate_integer("episode_length", episode_length)
        self.meta, self.task_seed = validate_task_mode(meta, task_seed, "MDP")
        self.trial_length = self.num_episodes * self.episode_length
        self.action_space = gym.spaces.Discrete(self.num_actions)
        self.observation_space = gym.spaces.Box(0.0, 1.0, shape=(self.num_states,), dtype=np.float32)
        self.transitions: np.ndarray | None = None  # (S, A, S)
        self.mean_rewards: np.ndarray | None = None  # (S, A)

    def draw_task(self, rng: np.random.Generator) -> None:
        shape = (self.num_states, self.num_actions)
        self.transitions = rng.dirichlet(np.ones(self.num_states), size=shape)
        self.mean_rewards = rng.normal(1.0, 1.0, size=shape)
        self._cumulative = np.cumsum(self.transitions, axis=-1)
        q_values = optimal_q_values(self.transitions, self.mean_rewards, self.episode_length)
        self.oracle_return = float(self.num_episodes * q_values[0, 0].max())

    def draw_noise(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """A trial's N(0, 1) reward noise and transition uniforms, one of each per step, drawn in the order the steps
        use them (a reward's, then a transition's): the same numbers as drawing them step by step."""
        draws = np.array([(rng.standard_normal(), rng.random()) for _ in range(self.trial_length)])
        return draws[:, 0], draws[:, 1]

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if self.meta or self.transitions is None or (seed is not None and self.task_seed is None):
            self.draw_task(self.np_random if self.task_seed is None else np.random.default_rng(self.task_seed))
        self.reward_noise, self.transition_uniforms = self.draw_noise(self.np_random)
        self.state = 0
        self._t = 0
        self._return = 0.0
        return self._observation(), {}

    def step(self, action):
        if self.transitions is None or self._t >= self.trial_length:
            raise RuntimeError("step() called before reset() or after the trial ended")
        a = validate_action(action, self.num_actions)
        reward = float(self.mean_rewards[self.state, a] + self.reward_noise[self._t])
        uniform = self.transition_uniforms[self._t]
        next_state = int(np.searchsorted(self._cumulative[self.state, a], uniform, side="right"))
        self._t += 1
        self._return += reward
        inner_episode_done = self._t % self.episode_length == 0
        self.state = 0 if inner_episode_done else min(next_state, self.num_states - 1)
        terminated = self._t == self.trial_length
        info: dict[str, Any] = {"inner_episode_done": inner_episode_done}
        if terminated:
            info["episode_metrics"] = {
                "oracle_return": self.oracle_return,
                "normalized_return": self._return / self.oracle_return,
            }
        return self._observation(), reward, terminated, False, info

    def _observation(self) -> np.ndarray:
        observation = np.zeros(self.num_states, dtype=np.float32)
        observation[self.state] = 1.0
        return observation


class VectorTabularMDP(MetaVectorEnv):
    """:class:`TabularMDP` as a vector env: the copies' MDPs stacked in (N, S, A, S) arrays."""

    def __init__(self, env: TabularMDP, num_envs: int, seed_salt: int = 0):
        super().__init__(env, num_envs, seed_salt)
        n, s, a = self.num_envs, env.num_states, env.num_actions
        self.cumulative_transitions = np.zeros((n, s, a, s))
        self.mean_rewards = np.zeros((n, s, a))
        self.oracle_return = np.zeros(n)
        self.reward_noise = np.zeros((n, self.trial_length))
        self.transition_uniforms = np.zeros((n, self.trial_length))
        self.state = np.zeros(n, dtype=np.int64)
        self.returns = np.zeros(n)

    def _draw_task(self, copy: int, rng: np.random.Generator) -> None:
        env = self.single_env
        env.draw_task(rng)
        self.cumulative_transitions[copy] = env._cumulative
        self.mean_rewards[copy] = env.mean_rewards
        self.oracle_return[copy] = env.oracle_return

    def _draw_noise(self, copy: int, rng: np.random.Generator) -> None:
        self.reward_noise[copy], self.transition_uniforms[copy] = self.single_env.draw_noise(rng)

    def _start_trial(self, copies: np.ndarray) -> dict[str, Any]:
        self.state[copies] = 0
        self.returns[copies] = 0.0
        return {}

    def _step_copies(self, copies: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        env, t, states = self.single_env, self._t[copies], self.state[copies]
        rewards = self.mean_rewards[copies, states, actions] + self.reward_noise[copies, t]
        # searchsorted(cumulative, u, side="right") of the single env: how many cumulative values are <= u.
        cumulative = self.cumulative_transitions[copies, states, actions]
        next_states = (cumulative <= self.transition_uniforms[copies, t][:, None]).sum(axis=1)
        self.returns[copies] += rewards
        inner_done = (t + 1) % env.episode_length == 0
        self.state[copies] = np.where(inner_done, 0, np.minimum(next_states, env.num_states - 1))
        mask = self._mask(copies)
        return rewards, vector_info(mask, inner_episode_done=self._column(copies, inner_done, bool))

    def _trial_metrics(self, copies: np.ndarray) -> dict[str, Any]:
        oracle = self.oracle_return[copies]
        return {
            "oracle_return": self._column(copies, oracle, np.float64),
            "normalized_return": self._column(copies, self.returns[copies] / oracle, np.float64),
        }

    def _observations(self) -> np.ndarray:
        observations = np.zeros((self.num_envs, self.single_env.num_states), dtype=np.float32)
        observations[np.arange(self.num_envs), self.state] = 1.0
        return observations


def _mdp_random(kwargs: dict[str, Any]) -> float:
    return float(kwargs["num_episodes"] * kwargs["episode_length"])  # mu(s, a) has mean 1 in every state


def _mdp_sizes(kwargs: dict[str, Any]) -> TrialSizes:
    states, actions = int(kwargs["num_states"]), int(kwargs["num_actions"])
    length = int(kwargs["num_episodes"]) * int(kwargs["episode_length"])
    # the drawn MDP (transitions and mean rewards) and every step's noise and transition uniform
    return TrialSizes(length, states + actions + 3, floats_per_copy=states * actions * (states + 1) + 2 * length)


TASKS = (
    Task(
        "tabular_mdp",
        TabularMDP,
        "TabularMDP",
        "10 states, 5 actions, Dirichlet transitions, N(1, 1) mean rewards, n episodes of 10 steps (RL^2 Table 2)",
        {"num_episodes": 10, "episode_length": 10, "num_states": 10, "num_actions": 5, "meta": True},
        random_return=_mdp_random,
        trial_size_parameter="num_episodes",
        trial_size_unit="inner episodes",
        include_done=True,
        vector_class=VectorTabularMDP,
        sizes=_mdp_sizes,
        # A trial's model of the MDP (50 state-action pairs) needs more memory than a bandit: the attention core,
        # reading each step with the one before and no tokenizer in front. With PPO, its memory is first pretrained on
        # random play (reward prediction), then PPO trains a policy that reads the reward head at a small learning
        # rate, which keeps what the pretraining gave. No clip of the value loss, as for k_armed.
        preset={
            "lr": 1e-3,
            "gamma": 0.9,
            "vf_clip_param": 1e4,
            "core": "attention",
            "lstm_cell_size": 128,
            "tokenizer_hiddens": (128,),
            "by_core": {"attention": {"attention_window": 2, "tokenizer_hiddens": ()}},
            "by_algo": {
                "ppo": {
                    "reward_prediction_coeff": 1.0,
                    "pretrain_memory_s": 300.0,
                    "reward_logits_weight": 10.0,
                    "lr": 3e-5,
                }
            },
            "envs_per_worker": 32,
            "trials_per_rollout": 1,
            "minibatches": 4,
            "stop_time_s": 1200.0,
            "grace_period_s": 180.0,
        },
    ),
)
