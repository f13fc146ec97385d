"""Supervised pretraining of an agent's memory on trials of random play: reward prediction, no RL.

The reward-prediction head (:mod:`rllib_metarl.models.reward_prediction`) learns from the agent's own trials during
PPO, one trial per env copy per iteration, in between the policy and value updates. Where that memory is what the
agent lacks (the tabular MDP), learning it alone first is far cheaper: on trials of uniformly random play every step
is a labelled example and there is no policy or value pass (``benchmarks/mdp_memory_probe.py`` measures how much of
the Bayes posterior the core then holds). So:

    module = pretrain_reward_memory("tabular_mdp", preset, {"num_episodes": 10}, seconds=600, seed=0)
    module.save_to_path(folder)       # then train with --init-from folder

trains the policy side's encoder (tokenizer and memory core) and the reward head of the experiment's own RLModule
with Adam on ``mean_t (head(core_t)[a_t] - r_t)^2`` over batches of random-play trials; the policy and value heads
and the value side's encoder keep their initial weights. The time it takes counts towards a run's training budget.
"""

from __future__ import annotations

import time
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from rllib_metarl.models.state import batched_initial_state
from rllib_metarl.tasks.registry import make_agent_vector_env
from rllib_metarl.training.config import build_rl_module
from rllib_metarl.training.presets import Preset
from rllib_metarl.utils.progress import progress


def random_play(envs: gym.vector.VectorEnv, rng: np.random.Generator) -> dict[str, torch.Tensor]:
    """One trial of uniformly random actions in each copy of ``envs`` (``make_agent_vector_env``): the agent's
    observations (B, T, obs), and the actions and rewards (B, T). Every copy's trial has the same length."""
    trial_length = envs.unwrapped.single_env.trial_length
    columns: dict[str, list[np.ndarray]] = {"obs": [], "actions": [], "rewards": []}
    observation, _ = envs.reset(seed=int(rng.integers(2**31)))
    for _ in range(trial_length):
        action = rng.integers(envs.single_action_space.n, size=envs.num_envs)
        columns["obs"].append(observation)
        observation, reward, _, _, _ = envs.step(action)
        columns["actions"].append(action)
        columns["rewards"].append(reward)
    trials = {key: torch.as_tensor(np.stack(values, axis=1), dtype=torch.float32) for key, values in columns.items()}
    trials["actions"] = trials["actions"].long()
    return trials


def predicted_rewards(module: Any, observations: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """The reward head's prediction for the action taken at each step (B, T), from whole trials of observations."""
    encoder = module.encoder.actor_encoder
    state = batched_initial_state(encoder, observations.shape[0])
    features = encoder({"obs": observations, "state_in": state})["encoder_out"]
    return module.reward_head(features).gather(-1, actions.unsqueeze(-1)).squeeze(-1)


def pretrain_reward_memory(
    task_name: str,
    preset: Preset,
    env_config: dict[str, Any],
    seconds: float,
    seed: int = 0,
    batch_trials: int = 32,
    lr: float = 3e-3,
    report_every_s: float = 30.0,
) -> Any:
    """The experiment's RLModule with its memory and reward head trained ``seconds`` on random play (see above)."""
    if not preset.reward_prediction_coeff:
        raise ValueError("pretraining trains the reward-prediction head: it needs reward_prediction_coeff > 0")
    if seconds <= 0:
        raise ValueError(f"pretraining seconds must be > 0, got {seconds!r}")
    torch.manual_seed(seed)
    rng = np.random.default_rng([seed, 0x5EED])
    module = build_rl_module(task_name, preset, env_config, seed)
    trained = [*module.encoder.actor_encoder.parameters(), *module.reward_head.parameters()]
    optimizer = torch.optim.Adam(trained, lr=lr)
    envs = make_agent_vector_env(task_name, batch_trials, env_config)
    start = last_report = time.perf_counter()
    trials, losses = 0, []
    bar = progress(seconds, "pretraining the memory", unit="s")  # on a terminal; a line every report_every_s else
    try:
        while time.perf_counter() - start < seconds:
            batch = random_play(envs, rng)
            loss = ((predicted_rewards(module, batch["obs"], batch["actions"]) - batch["rewards"]) ** 2).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            trials, losses = trials + batch_trials, [*losses[-49:], loss.item()]
            bar.update(min(time.perf_counter() - start, seconds) - bar.n)
            bar.set_postfix(trials=trials, loss=f"{np.mean(losses):.3f}", refresh=False)
            if bar.disable and time.perf_counter() - last_report >= report_every_s:
                last_report = time.perf_counter()
                elapsed, loss_now = last_report - start, np.mean(losses)
                print(f"pretraining the memory: {elapsed:5.0f} s, {trials} random-play trials, reward-prediction "
                      f"loss {loss_now:.3f} (last {len(losses)} batches)", flush=True)  # fmt: skip
    finally:
        bar.close()
        envs.close()
    module.pretraining_stats = {"pretrain_seconds": round(time.perf_counter() - start, 1), "pretrain_trials": trials,
                                "pretrain_loss": round(float(np.mean(losses)), 4)}  # fmt: skip
    return module
