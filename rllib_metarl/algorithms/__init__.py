"""The algorithms the plugin trains with: RLlib's PPO, IMPALA and APPO, and the synchronous A2C it adds."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ray.rllib.algorithms.algorithm import Algorithm

# ppo: RLlib's PPO. a2c: synchronous advantage actor-critic (rllib_metarl.algorithms.a2c). impala, appo: RLlib's
# asynchronous actor-critic family that replaced A3C, learner in the trial's own process (a remote learner hangs on
# 2 cores).
ALGORITHMS = ("ppo", "appo", "impala", "a2c")
# How the learner builds its train batch from the sampled trials: "trial", array operations over whole trials
# (rllib_metarl.algorithms.trial_batch); "rllib", RLlib's default learner connector pipeline, for comparison.
BATCH_PATHS = ("trial", "rllib")


def algorithm_class(algo: str) -> type[Algorithm]:
    """The RLlib Algorithm class behind ``algo`` (imported here: Ray reads its settings when first imported, and the
    runner makes them before that)."""
    if algo == "ppo":
        from ray.rllib.algorithms.ppo import PPO

        return PPO
    if algo == "a2c":
        from rllib_metarl.algorithms.a2c import A2C

        return A2C
    if algo == "impala":
        from ray.rllib.algorithms.impala import IMPALA

        return IMPALA
    if algo == "appo":
        from ray.rllib.algorithms.appo import APPO

        return APPO
    raise ValueError(f"unknown algorithm {algo!r}; allowed: {', '.join(ALGORITHMS)}")
