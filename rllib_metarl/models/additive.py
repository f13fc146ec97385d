"""The additive memory core: its state is the running sum of a learned code of each step, which it never forgets.

An LSTM has to learn to keep a trial's counts in its gated cells; on long bandit trials it keeps them only in part
within this machine's budgets (``python -m analysis.memory_probe`` reads them out of its state). This core keeps a
sum instead. At step t of a trial, with ``x_t`` the step's input (after the tokenizer MLP, if any)::

    memory_t = memory_{t-1} + relu(W x_t + b)          outputs_t = [log(1 + memory_t), memory_t / t]

A code unit that fires when "arm a was pulled" or "arm a paid" sums to that arm's pull or win count, so a linear
head reads a win rate as ``log(1 + wins) - log(1 + pulls)``, and a share of the trial as ``memory_t / t``. What to
code is learned; on the action-reward-timestep inputs, trained by RL alone, an agent with this core is RL^2 with
another core, named so in the results. One step's input holds the previous action and reward but not the previous
state, so on a task with states the core can count (state, action) pairs and rewards, not transitions.

The state is ``{"memory": (B, hidden_dim), "steps": (B, 1)}``; a whole-sequence pass is a cumulative sum, so
stepping one input at a time gives what it gives, up to float rounding (tested).
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


@dataclasses.dataclass
class AdditiveEncoderConfig(RecurrentEncoderConfig):
    """A sum of ``hidden_dim`` learned step codes; outputs their logarithm and their mean, ``2 * hidden_dim`` wide."""

    @property
    def output_dims(self) -> tuple[int, ...]:
        return (2 * self.hidden_dim,)

    def _validate(self, framework: str = "torch") -> None:
        if self.hidden_dim < 1 or self.input_dims is None or len(self.input_dims) != 1:
            raise ValueError(f"the additive core needs a positive width and a flat input, got "
                             f"hidden_dim={self.hidden_dim!r}, input_dims={self.input_dims!r}")  # fmt: skip

    def build(self, framework: str = "torch") -> Model:
        self._validate(framework)
        if framework != "torch":
            raise ValueError(f"the additive core is torch only, got framework={framework!r}")
        return TorchAdditiveEncoder(self)


class TorchAdditiveEncoder(TorchModel, Encoder):
    """The additive core as an RLlib encoder (batch-major inputs and state)."""

    def __init__(self, config: AdditiveEncoderConfig) -> None:
        TorchModel.__init__(self, config)
        self.tokenizer = config.tokenizer_config.build(framework="torch") if config.tokenizer_config else None
        code_input = config.tokenizer_config.output_dims[0] if config.tokenizer_config else config.input_dims[0]
        self.code = nn.Linear(code_input, config.hidden_dim)

    def get_initial_state(self) -> dict[str, torch.Tensor]:
        return {"memory": torch.zeros(self.config.hidden_dim), "steps": torch.zeros(1)}

    def _forward(self, inputs: dict, **kwargs) -> dict:
        tokens = tokenize(self.tokenizer, inputs, "torch") if self.tokenizer else inputs[Columns.OBS].float()
        state = inputs[Columns.STATE_IN]
        memory = running_sum(state["memory"], torch.relu(self.code(tokens)))  # (B, T, hidden)
        steps = steps_so_far(state["steps"], memory.shape[1])
        outputs = log_and_mean(memory, steps)
        return {ENCODER_OUT: outputs, Columns.STATE_OUT: {"memory": memory[:, -1], "steps": steps[:, -1]}}


def running_sum(start: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """The memory after each step: ``start`` (B, ...) plus the codes (B, T, ...) summed up to that step."""
    return start.float()[:, None] + codes.cumsum(dim=1)


def steps_so_far(start: torch.Tensor, length: int) -> torch.Tensor:
    """(B, T, 1): the trial's steps so far after each of ``length`` more, from ``start`` (B, 1)."""
    count = torch.arange(1, length + 1, device=start.device, dtype=torch.float32)
    return start.float()[:, None] + count[None, :, None]


def log_and_mean(memory: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
    """What the heads read of a sum: ``log(1 + memory)`` beside ``memory / steps``, along the last axis."""
    return torch.cat([torch.log1p(memory), memory / steps], dim=-1)
