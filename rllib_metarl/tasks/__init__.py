"""Meta-tasks, one module per family: the env, its native vector form, and its registered tasks."""

from rllib_metarl.tasks.registry import (
    TASKS,
    get_task,
    load_entry_point_tasks,
    make_agent_env,
    make_agent_vector_env,
    make_sync_vector_env,
    register_gym_envs,
    register_rllib_envs,
    register_task,
    task_of_env_creator,
)
from rllib_metarl.tasks.task import Task

__all__ = [
    "TASKS",
    "Task",
    "get_task",
    "make_agent_env",
    "make_agent_vector_env",
    "make_sync_vector_env",
    "register_gym_envs",
    "register_rllib_envs",
    "task_of_env_creator",
    "register_task",
    "load_entry_point_tasks",
]
