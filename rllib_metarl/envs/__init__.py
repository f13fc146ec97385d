"""Meta-task environments, one module per task family."""

from rllib_metarl.envs.bandits import (
    DEPENDENT_DIFFICULTIES,
    BernoulliBandit,
    DependentBandit,
    ElevenArmedBandit,
    MetaBanditEnv,
)

__all__ = [
    "DEPENDENT_DIFFICULTIES",
    "BernoulliBandit",
    "DependentBandit",
    "ElevenArmedBandit",
    "MetaBanditEnv",
]
