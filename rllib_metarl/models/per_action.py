"""The per-action memory core and its policy head: a memory of each action's consequences, read with the same
weights for every action (PPO).

The additive core (``models.additive``) keeps one running sum of learned step codes; a head reading it must still
learn, for each of the k arms separately, which of its entries belong to that arm, with a k-th of the gradient each.
This core files every step under the action that caused it. The action-reward-timestep wrapper puts the previous
action's one-hot ``a_{t-1}`` in the step's input; with ``x_t`` the step's input and ``y_t`` the same input without
that one-hot (the reward, the time, any task observation)::

    trial_t  = trial_{t-1} + relu(W x_t + b)                       (the additive core's sum, ``hidden_dim`` wide)
    action_t = action_{t-1} + a_{t-1} (outer) relu(V y_t + c)       (one row of ``ACTION_CODE`` numbers per action)
    outputs_t = [log(1 + trial_t), trial_t / t, then for each action a: log(1 + action_t[a]), action_t[a] / t]

On a task whose observation is a one-hot state ``s_t`` (a tabular MDP), a row is kept per (state, action) instead:
the step is filed under the state the action was taken in, ``s_{t-1}``, which the core keeps in its recurrent state
(the input holds the state reached), and the outputs hold the rows of the current state::

    action_t = action_{t-1} + s_{t-1} (outer) a_{t-1} (outer) relu(V y_t + c)     (states x actions rows)
    outputs_t = [log(1 + trial_t), trial_t / t, then for each action a: log(1 + row_t[a]), row_t[a] / t]
    row_t[a] = action_t[s_t, a]

A code that fires on every step counts the action's pulls, one that follows the reward sums its wins; what to code
is learned, by RL alone, from the action-reward-timestep inputs, so an agent with this core is RL^2 with another
core, named so in the results. Its policy (:class:`PerActionPPOModule`) adds to PPO's logits one score per action
from a small MLP shared by all actions, reading that action's row and a summary of the trial's sum::

    logits_t[a] = pi(outputs_t)[a] + g(S [log(1 + trial_t), trial_t / t], row_t[a])

so what the MLP learns about one arm (or one state's action) holds for every other.

The state is ``{"trial": (B, hidden_dim), "actions": (B, states * actions * ACTION_CODE), "state": (B, states),
"steps": (B, 1)}`` (``"state"``: the last step's one-hot state); a whole sequence is a cumulative sum, so stepping one
input at a time gives what it gives, up to float rounding (tested).
"""

from __future__ import annotations

import dataclasses

import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.models.base import ENCODER_OUT, Encoder, Model
from ray.rllib.core.models.configs import RecurrentEncoderConfig
from ray.rllib.core.models.torch.base import TorchModel
from ray.rllib.core.models.torch.encoder import tokenize
from torch import nn

from rllib_metarl.models.action_scores import ActionScoringPPOModule
from rllib_metarl.models.additive import log_and_mean, running_sum, steps_so_far

LAYOUT_KEY = "action_layout"  # in the module's model_config: wrappers.action_layout's (offset, actions, states)
ACTION_CODE = 16  # numbers kept per action


@dataclasses.dataclass
class PerActionEncoderConfig(RecurrentEncoderConfig):
    """The trial's sum (``hidden_dim`` codes) and a row of ``ACTION_CODE`` codes per action (of the current state),
    both read out as their logarithm and their mean: ``2 * (hidden_dim + actions * ACTION_CODE)`` wide.
    ``action_offset`` and ``num_actions`` say where the input holds the previous action's one-hot; ``num_states`` > 1
    that the input starts with a one-hot state of that size, which keys the rows too."""

    action_offset: int = 0
    num_actions: int = 0
    num_states: int = 1

    @property
    def output_dims(self) -> tuple[int, ...]:
        return (2 * (self.hidden_dim + self.num_actions * ACTION_CODE),)

    def _validate(self, framework: str = "torch") -> None:
        flat = self.input_dims is not None and len(self.input_dims) == 1
        if self.hidden_dim < 1 or not flat or self.num_actions < 1 or self.action_offset < 0 \
                or self.action_offset + self.num_actions > self.input_dims[0]:  # fmt: skip
            raise ValueError(f"the per-action core needs a positive width, a flat input and the previous action's "
                             f"one-hot inside it, got hidden_dim={self.hidden_dim!r}, input_dims={self.input_dims!r}, "
                             f"action_offset={self.action_offset!r}, num_actions={self.num_actions!r}")  # fmt: skip
        if self.num_states < 1 or self.num_states > max(self.action_offset, 1):
            raise ValueError(f"num_states must be 1 or a one-hot state before the previous action (at most "
                             f"action_offset={self.action_offset}), got {self.num_states!r}")  # fmt: skip

    def build(self, framework: str = "torch") -> Model:
        self._validate(framework)
        if framework != "torch":
            raise ValueError(f"the per-action core is torch only, got framework={framework!r}")
        return TorchPerActionEncoder(self)


class TorchPerActionEncoder(TorchModel, Encoder):
    """The per-action core as an RLlib encoder (batch-major inputs and state)."""

    def __init__(self, config: PerActionEncoderConfig) -> None:
        TorchModel.__init__(self, config)
        self.tokenizer = config.tokenizer_config.build(framework="torch") if config.tokenizer_config else None
        code_input = config.tokenizer_config.output_dims[0] if config.tokenizer_config else config.input_dims[0]
        self.trial_code = nn.Linear(code_input, config.hidden_dim)
        self.action_code = nn.Linear(config.input_dims[0] - config.num_actions, ACTION_CODE)

    def get_initial_state(self) -> dict[str, torch.Tensor]:
        config = self.config
        return {
            "trial": torch.zeros(config.hidden_dim),
            "actions": torch.zeros(config.num_states * config.num_actions * ACTION_CODE),
            "state": torch.zeros(config.num_states),
            "steps": torch.zeros(1),
        }

    def _forward(self, inputs: dict, **kwargs) -> dict:
        config = self.config
        observations = inputs[Columns.OBS].float()
        start, end = config.action_offset, config.action_offset + config.num_actions
        # One-hots, clamped so that the memory stays non-negative on any input: (B, T, A), zeros at a trial's first
        # step; the state (B, T, S), all ones without states (S = 1).
        previous_action = observations[..., start:end].clamp(0.0, 1.0)
        if config.num_states > 1:
            current_state = observations[..., : config.num_states].clamp(0.0, 1.0)
        else:
            current_state = torch.ones_like(observations[..., :1])
        state = inputs[Columns.STATE_IN]
        previous_state = torch.cat([state["state"][:, None].float(), current_state[:, :-1]], dim=1)
        rest = torch.cat([observations[..., :start], observations[..., end:]], dim=-1)
        tokens = tokenize(self.tokenizer, inputs, "torch") if self.tokenizer else observations

        trial = running_sum(state["trial"], torch.relu(self.trial_code(tokens)))
        where = previous_state[..., :, None, None] * previous_action[..., None, :, None]  # (B, T, S, A, 1)
        filed = where * torch.relu(self.action_code(rest))[..., None, None, :]  # (B, T, S, A, code)
        actions = running_sum(state["actions"].unflatten(-1, (config.num_states, config.num_actions, ACTION_CODE)),
                              filed)  # fmt: skip
        steps = steps_so_far(state["steps"], observations.shape[1])
        current_rows = torch.einsum("bts,btsac->btac", current_state, actions)
        rows = log_and_mean(current_rows, steps.unsqueeze(-1)).flatten(-2)
        outputs = torch.cat([log_and_mean(trial, steps), rows], dim=-1)
        next_state = {"trial": trial[:, -1], "actions": actions[:, -1].flatten(-3), "state": current_state[:, -1],
                      "steps": steps[:, -1]}  # fmt: skip
        return {ENCODER_OUT: outputs, Columns.STATE_OUT: next_state}


class PerActionPPOModule(ActionScoringPPOModule):
    """RLlib's default PPO module on the per-action core, whose logits add a score per action from that action's row
    of the core's output, with one MLP shared by all actions."""

    def setup(self) -> None:
        super().setup()
        self.num_actions = self.model_config[LAYOUT_KEY][1]
        self.trial_width = 2 * self.model_config["lstm_cell_size"]
        self.build_scorer(self.trial_width, 2 * ACTION_CODE)

    def _logits(self, core_outputs: torch.Tensor, observations: torch.Tensor) -> torch.Tensor:
        rows = core_outputs[..., self.trial_width :].unflatten(-1, (self.num_actions, 2 * ACTION_CODE))
        return self.pi(core_outputs) + self.scores(core_outputs[..., : self.trial_width], rows)
