"""Every task in one table: its Gymnasium id, its RLlib env name, its defaults and its known figures.

``register_gym_envs()`` runs on ``import rllib_metarl``, so ``gymnasium.make("rllib_metarl/ElevenArmedBandit-v0")``
works after that import; ``register_rllib_envs()`` (called by the training and evaluation code) lets RLlib env runners,
remote ones included, find every task by its RLlib env name ``rllib_metarl/<task>``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from rllib_metarl.baselines import bayes_optimal_return
from rllib_metarl.envs import (
    BernoulliBandit,
    DependentBandit,
    ElevenArmedBandit,
    HarlowTask,
    RestlessBandit,
    TabularMDP,
    TwoStepTask,
)
from rllib_metarl.envs.vector import MetaVectorEnv, VectorMetaBandit, VectorTabularMDP, salted_seed
from rllib_metarl.validation import validate_integer
from rllib_metarl.wrappers import ActionRewardTimestepWrapper, VectorActionRewardTimestepWrapper

GYM_NAMESPACE = "rllib_metarl"
# Keys of an RLlib env_config that configure the wrapper rather than the env.
WRAPPER_KEYS = ("reward_encoding",)


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
    # The native vector env (rllib_metarl.envs.vector), where there is one; else copies run in a SyncVectorEnv.
    vector_class: type[MetaVectorEnv] | None = None

    @property
    def gym_id(self) -> str:
        return f"{GYM_NAMESPACE}/{self.gym_name}-v0"

    @property
    def rllib_env(self) -> str:
        return f"{GYM_NAMESPACE}/{self.name}"

    def env_kwargs(self, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """The defaults updated by ``overrides`` (wrapper keys skipped), checked against the env's constructor."""
        overrides = {k: v for k, v in (overrides or {}).items() if k not in WRAPPER_KEYS}
        allowed = [p for p in inspect.signature(self.env_class.__init__).parameters if p != "self"]
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


def _bernoulli_random(kwargs: dict[str, Any]) -> float:
    return kwargs["trial_length"] / 2


# The optimum is that of the task distribution: a fixed task (meta=False) has another one, known only with the task.
def _eleven_optimal(kwargs: dict[str, Any]) -> float:
    return ElevenArmedBandit.optimal_return(kwargs["trial_length"]) if kwargs["meta"] else float("nan")


def _independent_optimal(kwargs: dict[str, Any]) -> float:
    if not kwargs["meta"]:
        return float("nan")
    return bayes_optimal_return(kwargs["trial_length"], dependent=False, num_arms=kwargs["num_arms"])


def _dependent_optimal(kwargs: dict[str, Any]) -> float:
    if not kwargs["meta"]:
        return float("nan")
    env = DependentBandit(**kwargs)  # the env resolves difficulty vs p1_choices, validated
    return bayes_optimal_return(env.trial_length, dependent=True, p1_choices=env.p1_choices)


def _eleven_random(kwargs: dict[str, Any]) -> float:
    per_pull = (ElevenArmedBandit.TARGET_REWARD + 9 * ElevenArmedBandit.NON_TARGET_REWARD + 0.55) / 11
    return kwargs["trial_length"] * per_pull


def _two_step_random(kwargs: dict[str, Any]) -> float:
    return kwargs["num_trials"] * float(np.mean(kwargs.get("reward_probs", (0.9, 0.1))))


def _harlow_optimal(kwargs: dict[str, Any]) -> float:
    env = HarlowTask(**kwargs)  # trial 1 is a coin flip, every later trial is won
    return (env.correct_reward + env.incorrect_reward) / 2 + (env.num_trials - 1) * env.correct_reward


def _harlow_random(kwargs: dict[str, Any]) -> float:
    env = HarlowTask(**kwargs)
    return env.num_trials * (env.correct_reward + env.incorrect_reward) / 2


def _mdp_random(kwargs: dict[str, Any]) -> float:
    return float(kwargs["num_episodes"] * kwargs["episode_length"])  # mu(s, a) has mean 1 in every state


TASKS: dict[str, Task] = {
    task.name: task
    for task in [
        Task(
            "eleven_arm",
            ElevenArmedBandit,
            "ElevenArmedBandit",
            "11 arms, one pays 5, arm 11 reveals which (Wang et al. 2016 exp. 3); optimum 20.55",
            {"trial_length": 5, "meta": True},
            _eleven_optimal,
            _eleven_random,
            reward_encoding="one_hot",
            vector_class=VectorMetaBandit,
        ),
        Task(
            "two_armed_independent",
            BernoulliBandit,
            "TwoArmedIndependentBandit",
            "2 Bernoulli arms, p_1, p_2 ~ U[0,1] independent (Wang et al. 2016 exp. 1)",
            {"num_arms": 2, "trial_length": 100, "meta": True},
            _independent_optimal,
            _bernoulli_random,
            vector_class=VectorMetaBandit,
        ),
        *[
            Task(
                f"dependent_{difficulty}",
                DependentBandit,
                f"TwoArmedDependent{difficulty.capitalize()}Bandit",
                f"2 Bernoulli arms, p_2 = 1 - p_1, p_1 ~ {choices or 'U[0,1]'} (Wang et al. 2016 exp. 1)",
                {"difficulty": difficulty, "trial_length": 100, "meta": True},
                _dependent_optimal,
                _bernoulli_random,
                vector_class=VectorMetaBandit,
            )
            for difficulty, choices in [
                ("uniform", None),
                ("easy", "{0.1, 0.9}"),
                ("medium", "{0.25, 0.75}"),
                ("hard", "{0.4, 0.6}"),
            ]
        ],
        Task(
            "k_armed",
            BernoulliBandit,
            "KArmedBandit",
            "k Bernoulli arms, p_i ~ U[0,1] iid, n pulls (RL^2 Table 1)",
            {"num_arms": 5, "trial_length": 10, "meta": True},
            _independent_optimal,
            _bernoulli_random,
            vector_class=VectorMetaBandit,
        ),
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
        ),
        Task(
            "restless",
            RestlessBandit,
            "RestlessBandit",
            "2 arms paying p and 1 - p that swap at a per-pull hazard, stable or volatile (Wang et al. 2016 exp. 4)",
            {"trial_length": 100, "regime": "mixed", "meta": True},
            random_return=_bernoulli_random,
            vector_class=VectorMetaBandit,
        ),
        Task(
            "two_step",
            TwoStepTask,
            "TwoStepTask",
            "Daw et al.'s two-step task, 100 trials per episode (Wang et al. 2018; 2016 variant via parameters)",
            {"num_trials": 100, "input_form": "two_steps_in_one", "meta": True},
            random_return=_two_step_random,
            trial_size_parameter="num_trials",
            trial_size_unit="trials",
        ),
        Task(
            "harlow",
            HarlowTask,
            "HarlowTask",
            "two novel objects per episode, one rewarded, positions shuffled, 6 trials (Harlow 1949; Wang et al. 2018)",
            {"num_trials": 6, "object_pool": "train", "meta": True},
            _harlow_optimal,
            _harlow_random,
            trial_size_parameter="num_trials",
            trial_size_unit="trials",
            held_out_overrides={"object_pool": "test"},
        ),
    ]
}


def get_task(name: str) -> Task:
    """The task called ``name``; a ValueError lists the known names otherwise."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)}")
    return TASKS[name]


def make_agent_env(task_name: str, env_config: dict[str, Any] | None = None, seed_salt: int = 0) -> gym.Env:
    """The env the agent trains on: the task wrapped with the action-reward-timestep wrapper.

    ``env_config`` holds env constructor overrides plus ``reward_encoding`` for the wrapper. ``seed_salt``
    (the RLlib env runner's index) is hashed into every reset seed: RLlib seeds runner w with ``seed + w`` and a
    vector env seeds its copy i with ``seed + i``, so without it copies on different runners draw the same tasks.
    """
    task = get_task(task_name)
    config = dict(env_config or {})
    reward_encoding = config.pop("reward_encoding", task.reward_encoding)
    env = ActionRewardTimestepWrapper(
        task.make(**config), reward_encoding=reward_encoding, include_done=task.include_done
    )
    return SaltedSeed(env, seed_salt) if seed_salt else env


def make_sync_vector_env(
    task_name: str, num_envs: int, env_config: dict[str, Any] | None = None, seed_salt: int = 0
) -> gym.vector.SyncVectorEnv:
    """``num_envs`` single agent envs (:func:`make_agent_env`) in a ``SyncVectorEnv``, autoreset ``NEXT_STEP``: what
    the tasks without a native vector env use, and the reference the native ones are tested and timed against."""
    num_envs = validate_integer("num_envs", num_envs)
    config = dict(env_config or {})
    return gym.vector.SyncVectorEnv(
        [lambda: make_agent_env(task_name, config, seed_salt) for _ in range(num_envs)],
        autoreset_mode=gym.vector.AutoresetMode.NEXT_STEP,
    )


def make_agent_vector_env(
    task_name: str, num_envs: int, env_config: dict[str, Any] | None = None, seed_salt: int = 0
) -> gym.vector.VectorEnv:
    """``num_envs`` copies of :func:`make_agent_env`'s env as one vector env (autoreset ``NEXT_STEP``).

    Bandit and MDP tasks get their native vector env (all copies stepped in one numpy operation); the others a
    ``SyncVectorEnv``. Either way copy i reset with seed s behaves as ``make_agent_env(...).reset(seed=s + i)``.
    """
    task = get_task(task_name)
    if task.vector_class is None:
        return make_sync_vector_env(task_name, num_envs, env_config, seed_salt)
    config = dict(env_config or {})  # num_envs: MetaVectorEnv checks it
    reward_encoding = config.pop("reward_encoding", task.reward_encoding)
    return VectorActionRewardTimestepWrapper(
        task.vector_class(task.make(**config), num_envs, seed_salt=seed_salt),
        reward_encoding=reward_encoding,
        include_done=task.include_done,
    )


def task_of_rllib_env(rllib_env: str) -> Task:
    """The task registered under the RLlib env name ``rllib_env`` (``rllib_metarl/<task>``)."""
    prefix = f"{GYM_NAMESPACE}/"
    if not isinstance(rllib_env, str) or not rllib_env.startswith(prefix):
        known = [task.rllib_env for task in TASKS.values()]
        raise ValueError(f"{rllib_env!r} is not an rllib_metarl env name; known: {known}")
    return get_task(rllib_env[len(prefix) :])


class SaltedSeed(gym.Wrapper):
    """Maps every reset seed s to a seed derived from (s, salt), so that differently salted copies never collide."""

    def __init__(self, env: gym.Env, salt: int):
        super().__init__(env)
        self.salt = int(salt)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            seed = salted_seed(seed, self.salt)
        return self.env.reset(seed=seed, options=options)


def _rllib_creator(task_name: str) -> Callable[[Any], gym.Env]:
    def create(env_context: Any) -> gym.Env:
        config = {k: v for k, v in dict(env_context).items() if k != "num_envs"}
        # Remote runners have worker_index >= 1; the salt keeps their task streams apart (see make_agent_env).
        salt = getattr(env_context, "worker_index", 0) or 0
        return make_agent_env(task_name, config, seed_salt=salt)

    return create


def register_gym_envs() -> None:
    """Register every task's bare env with Gymnasium (done on ``import rllib_metarl``). Idempotent."""
    for task in TASKS.values():
        if task.gym_id not in gym.registry:
            gym.register(
                task.gym_id,
                entry_point=f"{task.env_class.__module__}:{task.env_class.__name__}",
                kwargs=dict(task.defaults),
            )


def register_rllib_envs() -> None:
    """Register every task's agent env under its RLlib env name; remote env runners see it too. Idempotent."""
    # Imported here: Ray is heavy and the bare envs need none of it.
    from ray.tune.registry import register_env

    for task in TASKS.values():
        register_env(task.rllib_env, _rllib_creator(task.name))
