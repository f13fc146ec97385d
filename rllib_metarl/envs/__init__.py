"""Meta-task environments, one module per task family."""

from rllib_metarl.envs.bandits import (
    DEPENDENT_DIFFICULTIES,
    BernoulliBandit,
    DependentBandit,
    ElevenArmedBandit,
    MetaBanditEnv,
    RestlessBandit,
)
from rllib_metarl.envs.harlow import HarlowTask
from rllib_metarl.envs.tabular_mdp import TabularMDP, optimal_q_values
from rllib_metarl.envs.two_step import TWO_STEP_VARIANTS, TwoStepTask

__all__ = [
    "DEPENDENT_DIFFICULTIES",
    "BernoulliBandit",
    "DependentBandit",
    "ElevenArmedBandit",
    "HarlowTask",
    "MetaBanditEnv",
    "RestlessBandit",
    "TWO_STEP_VARIANTS",
    "TabularMDP",
    "TwoStepTask",
    "optimal_q_values",
]
