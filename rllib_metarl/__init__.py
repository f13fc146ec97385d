"""rllib-metarl: meta-reinforcement-learning tasks, wrappers and experiments for Ray RLlib."""

from rllib_metarl.registry import TASKS, get_task, make_agent_env, register_gym_envs, register_rllib_envs
from rllib_metarl.wrappers import ActionRewardTimestepWrapper

__version__ = "0.1.0"

register_gym_envs()

__all__ = [
    "TASKS",
    "ActionRewardTimestepWrapper",
    "get_task",
    "make_agent_env",
    "register_gym_envs",
    "register_rllib_envs",
]
