"""The table of every task (each family declares its own in its module), and the envs built from it.

``register_gym_envs()`` runs on ``import rllib_metarl``, so ``gymnasium.make("rllib_metarl/ElevenArmedBandit-v0")``
works after that import; ``register_rllib_envs()`` (called by the training and evaluation code) lets RLlib env runners,
remote ones included, find every task by its RLlib env name ``rllib_metarl/<task>``.
"""

from __future__ import annotations

import functools
import importlib.metadata
import warnings
from collections.abc import Callable
from typing import Any

import gymnasium as gym

from rllib_metarl.tasks import bandits, harlow, tabular_mdp, two_step
from rllib_metarl.tasks.task import Task
from rllib_metarl.tasks.vector import salted_seed
from rllib_metarl.utils.validation import validate_flag, validate_integer
from rllib_metarl.wrappers import (
    ActionRewardTimestepWrapper,
    TrialStatisticsWrapper,
    VectorActionRewardTimestepWrapper,
    VectorTrialStatisticsWrapper,
)

TASKS: dict[str, Task] = {
    task.name: task for family in (bandits, tabular_mdp, two_step, harlow) for task in family.TASKS
}
# An installed package offers tasks under this entry-point group: each entry names a function that registers them.
ENTRY_POINT_GROUP = "rllib_metarl.tasks"


def register_task(
    name: str,
    env_class: type[gym.Env],
    *,
    trial_length: int | None = None,
    description: str = "",
    defaults: dict[str, Any] | None = None,
    optimal_return: float | Callable[[dict[str, Any]], float] | None = None,
    random_return: float | Callable[[dict[str, Any]], float] | None = None,
    preset: dict[str, Any] | None = None,
) -> Task:
    """Make a Gymnasium env of your own a meta-task: train it with the runner, evaluate it, list it.

    Args:
        name: the task's name (letters, digits, ``_``), also its RLlib env name ``rllib_metarl/<name>`` and, with
            ``-v0``, its Gymnasium id ``rllib_metarl/<name>-v0``.
        env_class: the env. One episode is one trial of the meta-task: it draws a task at ``reset`` from its own
            generator and lasts exactly the trial length. It needs a ``Discrete`` action space and a ``Box``
            observation space (the agent sees it with its previous action, reward and the time).
        trial_length: env steps per trial; leave it out if the env has a ``trial_length`` attribute.
        description: one line for ``rllib-metarl list``.
        defaults: constructor arguments of the task as registered.
        optimal_return, random_return: the expected return per trial of the best policy that does not know the
            task and of random play, shown beside the agent's; a number, or a function of the constructor arguments.
        preset: training settings that differ from the default preset (fields of
            :class:`rllib_metarl.training.presets.Preset`, e.g. ``{"lr": 3e-3, "stop_time_s": 120}``).

    Returns the Task; a name that is taken, or an env that is not a class, is a ValueError.
    """
    if not name.isidentifier():
        raise ValueError(f"task name {name!r}: use letters, digits and _ only")
    if name in TASKS:
        raise ValueError(f"task {name!r} is registered already; registered: {', '.join(TASKS)}")
    if not isinstance(env_class, type) or not issubclass(env_class, gym.Env):
        raise ValueError(f"task {name!r}: env_class must be a gymnasium.Env subclass, got {env_class!r}")
    if trial_length is not None:
        validate_integer("trial_length", trial_length)
    task = Task(
        name,
        env_class,
        name,
        description or (env_class.__doc__ or env_class.__name__).strip().splitlines()[0],
        dict(defaults or {}),
        optimal_return=_as_function(optimal_return),
        random_return=_as_function(random_return),
        preset=dict(preset or {}),
        trial_length=trial_length,
    )
    TASKS[name] = task
    _register_gym_env(task)
    return task


def _as_function(value: float | Callable[[dict[str, Any]], float] | None) -> Callable[[dict[str, Any]], float] | None:
    if value is None or callable(value):
        return value
    return functools.partial(_constant, float(value))


def _constant(value: float, kwargs: dict[str, Any]) -> float:
    return value


def load_entry_point_tasks() -> None:
    """Register the tasks that installed packages offer: each entry point of the group ``rllib_metarl.tasks`` names a
    function that calls :func:`register_task` (done on ``import rllib_metarl``; a failing one is skipped, warned)."""
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            entry_point.load()()
        except Exception as error:  # a broken plugin must not break the built-in tasks
            warnings.warn(f"tasks of entry point {entry_point.value!r} not loaded: {error}", stacklevel=2)


def get_task(name: str | Task) -> Task:
    """The task called ``name`` (a Task is returned as it is); a ValueError lists the known names otherwise."""
    if isinstance(name, Task):
        return name
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(TASKS)}")
    return TASKS[name]


def make_agent_env(task_name: str | Task, env_config: dict[str, Any] | None = None, seed_salt: int = 0) -> gym.Env:
    """The env the agent trains on: the task wrapped with the action-reward-timestep wrapper.

    ``env_config`` holds env constructor overrides plus the wrapper keys: ``reward_encoding``, and
    ``trial_statistics`` (True adds the trial's running statistics under that wrapper: inputs that make the agent
    more than RL^2, :mod:`rllib_metarl.wrappers.trial_statistics`) with ``statistics_uncertainty`` (True adds each
    action's ``1 / sqrt(1 + visits)`` to them). ``seed_salt`` (the RLlib env runner's index) is
    hashed into every reset seed: RLlib seeds runner w with ``seed + w`` and a vector env seeds its copy i with
    ``seed + i``, so without it copies on different runners draw the same tasks.
    """
    task = get_task(task_name)
    config = dict(env_config or {})
    reward_encoding, statistics = wrapper_options(task, config)
    env = task.make(**config)
    if statistics is not None:
        env = TrialStatisticsWrapper(env, trial_length=task.trial_length, **statistics)
    env = ActionRewardTimestepWrapper(
        env, trial_length=task.trial_length, reward_encoding=reward_encoding, include_done=task.include_done
    )
    return SaltedSeed(env, seed_salt) if seed_salt else env


def wrapper_options(task: Task, config: dict[str, Any]) -> tuple[str, dict[str, bool] | None]:
    """Take the wrapper keys out of ``config``: the reward encoding (default: the task's) and the trial-statistics
    wrapper's arguments (None, the default: no trial statistics)."""
    reward_encoding = config.pop("reward_encoding", task.reward_encoding)
    trial_statistics = validate_flag("trial_statistics", config.pop("trial_statistics", False))
    uncertainty = validate_flag("statistics_uncertainty", config.pop("statistics_uncertainty", False))
    if uncertainty and not trial_statistics:
        raise ValueError("statistics_uncertainty=True adds to the trial statistics: give trial_statistics=True too")
    return reward_encoding, {"uncertainty": uncertainty} if trial_statistics else None


def make_sync_vector_env(
    task_name: str | Task, num_envs: int, env_config: dict[str, Any] | None = None, seed_salt: int = 0
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
    task_name: str | Task, num_envs: int, env_config: dict[str, Any] | None = None, seed_salt: int = 0
) -> gym.vector.VectorEnv:
    """``num_envs`` copies of :func:`make_agent_env`'s env as one vector env (autoreset ``NEXT_STEP``).

    Bandit and MDP tasks get their native vector env (all copies stepped in one numpy operation); the others a
    ``SyncVectorEnv``. Either way copy i reset with seed s behaves as ``make_agent_env(...).reset(seed=s + i)``.
    """
    task = get_task(task_name)
    if task.vector_class is None:
        return make_sync_vector_env(task_name, num_envs, env_config, seed_salt)
    config = dict(env_config or {})  # num_envs: MetaVectorEnv checks it
    reward_encoding, statistics = wrapper_options(task, config)
    env = task.vector_class(task.make(**config), num_envs, seed_salt=seed_salt)
    if statistics is not None:
        env = VectorTrialStatisticsWrapper(env, **statistics)
    return VectorActionRewardTimestepWrapper(env, reward_encoding=reward_encoding, include_done=task.include_done)


class SaltedSeed(gym.Wrapper):
    """Maps every reset seed s to a seed derived from (s, salt), so that differently salted copies never collide."""

    def __init__(self, env: gym.Env, salt: int):
        super().__init__(env)
        self.salt = int(salt)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            seed = salted_seed(seed, self.salt)
        return self.env.reset(seed=seed, options=options)


class AgentEnvCreator:
    """RLlib's env creator of one task. It carries the Task, so every process builds the task from it, remote env
    runners included, where a task registered in the driver alone (``register_task``) is not in ``TASKS``."""

    def __init__(self, task: Task):
        self.task = task

    def __call__(self, env_context: Any) -> gym.Env:
        config = {k: v for k, v in dict(env_context).items() if k != "num_envs"}
        # Remote runners have worker_index >= 1; the salt keeps their task streams apart (see make_agent_env).
        salt = getattr(env_context, "worker_index", 0) or 0
        return make_agent_env(self.task, config, seed_salt=salt)


def task_of_env_creator(rllib_env: str) -> Task:
    """The task whose creator RLlib knows as ``rllib_env`` (``rllib_metarl/<task>``), in any Ray process."""
    from ray.tune.registry import ENV_CREATOR, _global_registry  # RLlib's own env lookup

    creator = (
        _global_registry.get(ENV_CREATOR, rllib_env) if _global_registry.contains(ENV_CREATOR, rllib_env) else None
    )
    if not isinstance(creator, AgentEnvCreator):
        raise ValueError(
            f"{rllib_env!r} is not an rllib_metarl env name; known: {[t.rllib_env for t in TASKS.values()]}"
        )
    return creator.task


def _register_gym_env(task: Task) -> None:
    if task.gym_id not in gym.registry:
        gym.register(task.gym_id, entry_point=task.env_class, kwargs=dict(task.defaults))


def register_gym_envs() -> None:
    """Register every task's bare env with Gymnasium (done on ``import rllib_metarl``). Idempotent."""
    for task in TASKS.values():
        _register_gym_env(task)


def register_rllib_envs() -> None:
    """Register every task's agent env under its RLlib env name; remote env runners see it too. Idempotent."""
    # Imported here: Ray is heavy and the bare envs need none of it.
    from ray.tune.registry import register_env

    for task in TASKS.values():
        register_env(task.rllib_env, AgentEnvCreator(task))
