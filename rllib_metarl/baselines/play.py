"""Play a baseline on evaluation trials through the task's own env, exactly as the agent is evaluated.

``play_baseline(policy, "k_armed", {"num_arms": 5, "trial_length": 10}, 1000)`` resets one env per trial with
:func:`rllib_metarl.utils.seeding.trial_seeds`, the seeds :func:`rllib_metarl.evaluation.evaluate_module` uses, so the
baselines and the trained agent face the very same tasks. The result has the agent evaluation's columns.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np
import pandas as pd

from rllib_metarl.baselines.bandits import BanditPolicy
from rllib_metarl.baselines.mdps import MDPPolicy
from rllib_metarl.tasks.bandits import MetaBanditEnv
from rllib_metarl.tasks.registry import get_task
from rllib_metarl.tasks.tabular_mdp import TabularMDP
from rllib_metarl.tasks.vector import scalar_info
from rllib_metarl.utils.progress import progress
from rllib_metarl.utils.seeding import HELD_OUT_STREAM, trial_seeds


def play_baseline(
    policy: BanditPolicy | MDPPolicy,
    task_name: str,
    env_config: dict[str, Any] | None = None,
    num_trials: int = 1000,
    seed: int = 0,
    stream: int = HELD_OUT_STREAM,
    batch_size: int = 1000,
) -> pd.DataFrame:
    """One row per trial: ``trial``, ``return``, ``length`` and the env's per-trial metrics."""
    return pd.DataFrame(_play(policy, task_name, env_config, num_trials, seed, stream, batch_size))


def baseline_steps(
    policy: BanditPolicy,
    task_name: str,
    env_config: dict[str, Any] | None = None,
    num_trials: int = 1000,
    seed: int = 0,
    stream: int = HELD_OUT_STREAM,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`play_baseline`'s trials, and one row per pull (``trial``, ``step``, ``action``, ``reward``, and the
    scalars of the env's info: the running ``regret`` against the oracle, the ``optimal_action``...), the columns of
    :func:`rllib_metarl.evaluation.play_module`'s steps, for behavioural analyses."""
    steps: list[dict[str, Any]] = []
    trials = pd.DataFrame(_play(policy, task_name, env_config, num_trials, seed, stream, 1000, steps))
    return trials, pd.DataFrame(steps)


def _play(
    policy: BanditPolicy | MDPPolicy,
    task_name: str,
    env_config: dict[str, Any] | None,
    num_trials: int,
    seed: int,
    stream: int,
    batch_size: int,
    steps: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    task = get_task(task_name)
    seeds = trial_seeds(num_trials, seed, stream)
    # The policy's own randomness (exploration, posterior draws, tie-breaks): its own stream, fixed by the seed.
    rng = np.random.default_rng([seed, stream, zlib.crc32(policy.name.encode())])
    rows: list[dict[str, Any]] = []
    bar = progress(num_trials, f"{task_name}, {policy.name}")
    for start in range(0, num_trials, batch_size):
        envs = [task.make(**(env_config or {})) for _ in seeds[start : start + batch_size]]
        for env, trial_seed in zip(envs, seeds[start : start + batch_size], strict=True):
            env.reset(seed=int(trial_seed))
        if isinstance(envs[0], MetaBanditEnv) and isinstance(policy, BanditPolicy):
            returns, infos = _play_bandit(policy, envs, rng, pulls=steps, first_trial=start)
        elif isinstance(envs[0], TabularMDP) and isinstance(policy, MDPPolicy):
            returns, infos = _play_mdp(policy, envs, rng)
        else:
            raise ValueError(f"{type(policy).__name__} cannot play {task_name} ({type(envs[0]).__name__})")
        rows += [
            {"trial": start + i, "return": r, "length": envs[i].trial_length, **info.get("episode_metrics", {})}
            for i, (r, info) in enumerate(zip(returns, infos, strict=True))
        ]
        bar.update(len(envs))
    bar.close()
    return rows


def _play_bandit(
    policy: BanditPolicy,
    envs: list[MetaBanditEnv],
    rng: np.random.Generator,
    pulls: list[dict[str, Any]] | None = None,
    first_trial: int = 0,
):
    policy.reset(len(envs), envs[0].num_arms, envs[0].trial_length, rng)
    returns = np.zeros(len(envs))
    for t in range(envs[0].trial_length):
        arms = policy.act()
        steps = [env.step(int(arm)) for env, arm in zip(envs, arms, strict=True)]
        rewards = np.array([step[1] for step in steps])
        policy.update(arms, rewards)
        returns += rewards
        if pulls is not None:
            pulls += [
                {"trial": first_trial + i, "step": t, "action": int(arm), "reward": float(step[1]),
                 **scalar_info(step[4])}
                for i, (arm, step) in enumerate(zip(arms, steps, strict=True))
            ]  # fmt: skip
    return returns, [step[4] for step in steps]


def _play_mdp(policy: MDPPolicy, envs: list[TabularMDP], rng: np.random.Generator):
    first = envs[0]
    policy.reset(len(envs), first.num_states, first.num_actions, first.episode_length, rng)
    returns = np.zeros(len(envs))
    states = np.zeros(len(envs), dtype=int)  # every inner episode starts in state 0
    for _ in range(first.num_episodes):
        policy.begin_episode()
        for h in range(first.episode_length):
            actions = policy.act(states, h)
            steps = [env.step(int(action)) for env, action in zip(envs, actions, strict=True)]
            rewards = np.array([step[1] for step in steps])
            next_states = np.array([step[0].argmax() for step in steps])
            policy.update(states, actions, rewards, next_states, episode_done=h == first.episode_length - 1)
            returns += rewards
            states = next_states
    return returns, [step[4] for step in steps]
