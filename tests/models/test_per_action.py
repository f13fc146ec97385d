"""The per-action core and its head: each step is filed under the action that caused it, every action is scored by
the same weights, and the settings it cannot take are refused."""

from __future__ import annotations

import pytest
import torch
from ray.rllib.core.columns import Columns

from rllib_metarl.analysis.recipe import recipe_of
from rllib_metarl.models.per_action import ACTION_CODE, PerActionEncoderConfig, PerActionPPOModule
from rllib_metarl.models.state import batched_initial_state
from rllib_metarl.tasks import make_agent_env
from rllib_metarl.training.config import build_rl_module
from rllib_metarl.training.presets import get_preset
from rllib_metarl.wrappers import action_layout


def bandit_steps(actions: list[int | None], rewards: list[float], num_arms: int) -> torch.Tensor:
    """(1, T, arms + 2) action-reward-timestep inputs of a bandit trial: previous action, previous reward, t / T."""
    rows = []
    for t, (action, reward) in enumerate(zip(actions, rewards, strict=True)):
        one_hot = [0.0] * num_arms
        if action is not None:
            one_hot[action] = 1.0
        rows.append([*one_hot, reward, t / 10])
    return torch.tensor(rows)[None]


def test_each_step_is_filed_under_the_action_that_caused_it():
    """With codes "1" and "reward", an action's row holds its pulls and wins so far: outputs log(1 + n), n / t."""
    encoder = PerActionEncoderConfig(input_dims=(5,), hidden_dim=2, action_offset=0, num_actions=3).build()
    with torch.no_grad():
        encoder.action_code.weight.zero_()
        encoder.action_code.bias.zero_()
        encoder.action_code.bias[0] = 1.0  # code 0 counts the action's pulls
        encoder.action_code.weight[1, 0] = 1.0  # code 1 sums its rewards (the input without the one-hot: r, t / T)
    # Pulls: arm 2 pays, arm 0 fails, arm 2 pays; each shows in the next step's input.
    observations = bandit_steps([None, 2, 0, 2], [0.0, 1.0, 0.0, 1.0], num_arms=3)
    state = {key: value[None] for key, value in encoder.get_initial_state().items()}
    with torch.no_grad():
        out = encoder({Columns.OBS: observations, Columns.STATE_IN: state})
    rows = out["encoder_out"][0, :, 2 * 2 :].unflatten(-1, (3, 2 * ACTION_CODE))  # after the trial's sum
    pulls, wins = torch.expm1(rows[..., 0]), torch.expm1(rows[..., 1])
    torch.testing.assert_close(pulls, torch.tensor([[0.0, 0, 0], [0, 0, 1], [1, 0, 1], [1, 0, 2]]))
    torch.testing.assert_close(wins, torch.tensor([[0.0, 0, 0], [0, 0, 1], [0, 0, 1], [0, 0, 2]]))
    torch.testing.assert_close(rows[-1, :, ACTION_CODE], torch.tensor([1.0, 0, 2]) / 4)  # pulls / t
    assert out[Columns.STATE_OUT]["steps"][0].tolist() == [4.0]
    with pytest.raises(ValueError, match="the previous action's one-hot inside it, .*action_offset=3, num_actions=3"):
        PerActionEncoderConfig(input_dims=(5,), hidden_dim=2, action_offset=3, num_actions=3).build()


def mdp_steps(states: list[int], actions: list[int | None], num_states: int, num_actions: int) -> torch.Tensor:
    """(1, T, states + actions + 3) inputs of an MDP trial: state reached, previous action, reward 0, done 0, t / T."""
    rows = []
    for t, (state, action) in enumerate(zip(states, actions, strict=True)):
        state_hot, action_hot = [0.0] * num_states, [0.0] * num_actions
        state_hot[state] = 1.0
        if action is not None:
            action_hot[action] = 1.0
        rows.append([*state_hot, *action_hot, 0.0, 0.0, t / 10])
    return torch.tensor(rows)[None]


def test_on_a_task_of_states_each_step_is_filed_under_the_state_it_was_taken_in():
    """With a code that counts, the outputs hold the current state's rows: each action's visits in that state."""
    layout = {"action_offset": 3, "num_actions": 2}
    encoder = PerActionEncoderConfig(input_dims=(8,), hidden_dim=2, num_states=3, **layout).build()
    with torch.no_grad():
        encoder.action_code.weight.zero_()
        encoder.action_code.bias.zero_()
        encoder.action_code.bias[0] = 1.0
    # In state 0 take action 1 (reach 2), in 2 take 0 (stay in 2), in 2 take 1 (reach 0), in 0 take 0 (reach 1).
    observations = mdp_steps([0, 2, 2, 0, 1], [None, 1, 0, 1, 0], num_states=3, num_actions=2)
    state = {key: value[None] for key, value in encoder.get_initial_state().items()}
    with torch.no_grad():
        whole = encoder({Columns.OBS: observations, Columns.STATE_IN: state})
        first = encoder({Columns.OBS: observations[:, :2], Columns.STATE_IN: state})
        second = encoder({Columns.OBS: observations[:, 2:], Columns.STATE_IN: first[Columns.STATE_OUT]})
    rows = whole["encoder_out"][0, :, 2 * 2 :].unflatten(-1, (2, 2 * ACTION_CODE))
    visits = torch.expm1(rows[..., 0])
    torch.testing.assert_close(visits, torch.tensor([[0.0, 0], [0, 0], [1, 0], [0, 1], [0, 0]]))
    memory = whole[Columns.STATE_OUT]["actions"][0].unflatten(-1, (3, 2, ACTION_CODE))[..., 0]
    torch.testing.assert_close(memory, torch.tensor([[1.0, 1], [0, 0], [1, 1]]))
    torch.testing.assert_close(torch.cat([first["encoder_out"], second["encoder_out"]], dim=1), whole["encoder_out"])
    with pytest.raises(ValueError, match="num_states must be 1 or a one-hot state before the previous action"):
        PerActionEncoderConfig(input_dims=(8,), hidden_dim=2, num_states=4, **layout).build()


def test_every_action_is_kept_and_scored_by_the_same_weights():
    torch.manual_seed(0)
    module = build_rl_module("k_armed", get_preset("k_armed", core="per_action", envs_per_worker=4),
                             {"num_arms": 5, "trial_length": 10})  # fmt: skip
    assert isinstance(module, PerActionPPOModule) and module.num_actions == 5
    observations = bandit_steps([None, 1, 1, 3, 1, 3], [0.0, 1, 0, 1, 1, 0], num_arms=5).repeat(2, 1, 1)
    swapped = observations[..., [0, 3, 2, 1, 4, 5, 6]]  # arms 1 and 3 trade their histories
    width = module.trial_width
    with torch.no_grad():
        core, swapped_core = (
            module.encoder({Columns.OBS: inputs, Columns.STATE_IN: batched_initial_state(module, 2)})["encoder_out"]
            for inputs in (observations, swapped)
        )
        rows, swapped_rows = (
            out["actor"][..., width:].unflatten(-1, (5, 2 * ACTION_CODE)) for out in (core, swapped_core)
        )
        summary = core["actor"][..., :width]
        scores, swapped_scores = module.scores(summary, rows), module.scores(summary, swapped_rows)
    torch.testing.assert_close(swapped_rows, rows[..., [0, 3, 2, 1, 4], :])  # each arm's row moves with its history
    torch.testing.assert_close(swapped_scores, scores[..., [0, 3, 2, 1, 4]])
    assert not torch.allclose(scores[:, -1, 1], scores[:, -1, 0])  # a pulled arm scores apart from the others
    logits = module._logits(core["actor"], observations)
    torch.testing.assert_close(logits, module.pi(core["actor"]) + scores)


def test_the_previous_action_is_found_after_the_tasks_own_observation():
    assert action_layout(make_agent_env("k_armed", {"num_arms": 7})) == (0, 7, 1)
    assert action_layout(make_agent_env("tabular_mdp", {"num_states": 4, "num_actions": 3})) == (4, 3, 4)
    with pytest.raises(ValueError, match="no action-reward-timestep wrapper"):
        action_layout(make_agent_env("k_armed", {}).unwrapped)


def test_an_agent_on_a_tabular_mdp_keys_its_rows_by_state_and_action():
    preset = get_preset("tabular_mdp", core="per_action", reward_prediction_coeff=0.0, envs_per_worker=4)
    module = build_rl_module("tabular_mdp", preset, {"num_states": 4, "num_actions": 3})
    assert module.num_actions == 3
    assert module.encoder.actor_encoder.config.num_states == 4
    assert module.encoder.actor_encoder.get_initial_state()["actions"].shape == (4 * 3 * ACTION_CODE,)


@pytest.mark.parametrize(
    "overrides", [{"algo": "impala"}, {"statistics_head": True}, {"heads_read_input": True}]
)  # fmt: skip
def test_the_core_needs_ppo_and_its_own_head(overrides):
    with pytest.raises(ValueError, match="the per_action core comes with its own PPO head"):
        get_preset("k_armed", core="per_action", **overrides)


def test_an_agent_with_the_core_is_rl2_named_by_its_core():
    recipe = recipe_of({"preset": {"algo": "ppo", "core": "per_action", "head_hiddens": [64]}, "env_config": {}})
    assert recipe.rl2
    assert (
        recipe.text
        == "PPO + PER_ACTION (a memory row per action, scored by one head shared by all actions, 64-unit heads)"
    )
    on_mdp = recipe_of({"task": "tabular_mdp", "preset": {"algo": "ppo", "core": "per_action"}, "env_config": {}})
    assert on_mdp.rl2
    rows = "a memory row per (state, action), scored by one head shared by all actions"
    assert on_mdp.text == f"PPO + PER_ACTION ({rows})"
