"""The per-action statistics head: it reads each action's statistics where the wrapper puts them, scores every action
with the same weights, and is refused where it cannot work."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ray.rllib.core.columns import Columns

from rllib_metarl.models.state import batched_initial_state
from rllib_metarl.models.statistics_head import StatisticsHeadPPOModule, per_action_statistics
from rllib_metarl.tasks import make_agent_env
from rllib_metarl.training.config import build_rl_module
from rllib_metarl.training.presets import get_preset


def test_per_action_statistics_follow_the_wrappers_layout():
    env = make_agent_env(
        "tabular_mdp", {"num_episodes": 2, "num_states": 3, "num_actions": 2, "trial_statistics": True}
    )
    observation, _ = env.reset(seed=0)
    for action in (1, 0, 1):
        observation, *_ = env.step(action)
    statistics = env.env.statistics  # the wrapper's own counts, at the current state
    state = int(np.argmax(observation[:3]))
    per_action = per_action_statistics(torch.as_tensor(observation), offset=3, actions=2, states=3).numpy()
    assert per_action.shape == (2, 2 + 3 + 1)
    np.testing.assert_allclose(per_action[:, 0], statistics.visits[0, state] / env.env.trial_length, atol=1e-6)
    np.testing.assert_allclose(per_action[:, 2:5].sum(axis=1), [1.0, 1.0], atol=1e-6)  # transition rows


def test_the_uncertainty_block_is_read_last_and_a_three_number_layout_means_none():
    config = {"num_episodes": 2, "num_states": 3, "num_actions": 2, "trial_statistics": True}
    env = make_agent_env("tabular_mdp", {**config, "statistics_uncertainty": True})
    observation, _ = env.reset(seed=0)
    for action in (1, 1, 0):
        observation, *_ = env.step(action)
    state = int(np.argmax(observation[:3]))
    per_action = per_action_statistics(torch.as_tensor(observation), 3, 2, 3, uncertainty=True).numpy()
    assert per_action.shape == (2, 2 + 3 + 1 + 1)
    expected = 1 / np.sqrt(1 + env.env.statistics.visits[0, state])
    np.testing.assert_allclose(per_action[:, -1], expected, atol=1e-6)
    preset = get_preset("tabular_mdp", statistics_head=True, core="lstm", reward_prediction_coeff=0.0,
                        pretrain_memory_s=0, reward_logits_weight=0.0, envs_per_worker=4)  # fmt: skip
    module = build_rl_module("tabular_mdp", preset, {**config, "statistics_uncertainty": True})
    assert module.layout == (3, 2, 3, True) and module.action_scorer[0].in_features == 16 + 7
    module.model_config["statistics_layout"] = (3, 2, 3)
    module.setup()
    assert module.layout == (3, 2, 3, False) and module.action_scorer[0].in_features == 16 + 6


def test_every_action_is_scored_by_the_same_weights():
    torch.manual_seed(0)
    preset = get_preset("k_armed", statistics_head=True, envs_per_worker=4)
    module = build_rl_module("k_armed", preset, {"num_arms": 5, "trial_length": 10, "trial_statistics": True})
    assert isinstance(module, StatisticsHeadPPOModule) and module.layout == (0, 5, 1, False)
    observations = torch.rand(2, 3, module.observation_space.shape[0])
    swapped = observations.clone()
    for block in (0, 5):  # the visits and means of arms 1 and 3 trade places; nothing else changes
        swapped[..., [block + 1, block + 3]] = observations[..., [block + 3, block + 1]]
    with torch.no_grad():
        state = batched_initial_state(module, 2)
        core = module.encoder({Columns.OBS: observations, Columns.STATE_IN: state})["encoder_out"]["actor"]
        scores = module._logits(core, observations) - module.pi(core)
        swapped_scores = module._logits(core, swapped) - module.pi(core)
    torch.testing.assert_close(swapped_scores[..., [1, 3]], scores[..., [3, 1]])
    torch.testing.assert_close(swapped_scores[..., [0, 2, 4]], scores[..., [0, 2, 4]])


def test_the_head_needs_ppo_the_statistics_and_no_reward_prediction():
    with pytest.raises(ValueError, match="statistics_head needs algo='ppo' and no reward prediction"):
        get_preset("k_armed", statistics_head=True, algo="impala")
    with pytest.raises(ValueError, match="statistics_head reads the trial statistics"):
        build_rl_module("k_armed", get_preset("k_armed", statistics_head=True), {})
