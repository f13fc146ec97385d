"""Meta-task environments, one module per task family."""

from rllib_metarl.envs.bandits import (
    DEPENDENT_DIFFICULTIES,
    BernoulliBandit,
    DependentBandit,
    ElevenArmedBandit,
    MetaBanditEnv,
)
from rllib_metarl.envs.tabular_mdp import TabularMDP, optimal_q_values

__all__ = [
    "DEPENDENT_DIFFICULTIES",
    "BernoulliBandit",
    "DependentBandit",
    "ElevenArmedBandit",
    "MetaBanditEnv",
    "TabularMDP",
    "optimal_q_values",
]
