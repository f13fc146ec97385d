"""Observation wrappers that turn a task into what the agent sees: its previous action, reward and time
(:mod:`.action_reward_timestep`, every agent), and optionally the trial's running statistics
(:mod:`.trial_statistics`, not RL^2). Each wrapper has its vector twin beside it."""

from rllib_metarl.wrappers.action_reward_timestep import (
    REWARD_ENCODINGS,
    ActionRewardTimestepWrapper,
    VectorActionRewardTimestepWrapper,
    action_layout,
)
from rllib_metarl.wrappers.trial_statistics import (
    TrialStatistics,
    TrialStatisticsWrapper,
    VectorTrialStatisticsWrapper,
    statistics_layout,
)

__all__ = [
    "REWARD_ENCODINGS",
    "ActionRewardTimestepWrapper",
    "TrialStatistics",
    "TrialStatisticsWrapper",
    "VectorActionRewardTimestepWrapper",
    "VectorTrialStatisticsWrapper",
    "action_layout",
    "statistics_layout",
]
