"""rllib-metarl: meta-reinforcement-learning tasks, wrappers and experiments for Ray RLlib.

Importing the package registers every task with Gymnasium (``gymnasium.make("rllib_metarl/<Env>-v0")``), the tasks
that installed packages offer included. Nothing here imports Ray: the runner sets Ray's environment first.
"""

from rllib_metarl.tasks import (
    TASKS,
    Task,
    get_task,
    load_entry_point_tasks,
    make_agent_env,
    make_agent_vector_env,
    register_gym_envs,
    register_rllib_envs,
    register_task,
)
from rllib_metarl.training.config import algorithm_config
from rllib_metarl.training.presets import Preset, get_preset
from rllib_metarl.wrappers import ActionRewardTimestepWrapper

__version__ = "0.1.0"

register_gym_envs()
load_entry_point_tasks()

__all__ = [
    "TASKS",
    "ActionRewardTimestepWrapper",
    "Preset",
    "Task",
    "algorithm_config",
    "get_preset",
    "get_task",
    "make_agent_env",
    "make_agent_vector_env",
    "register_gym_envs",
    "register_rllib_envs",
    "register_task",
]
