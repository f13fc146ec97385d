"""Heads that read the step's input beside the memory core's output (the preset's ``heads_read_input``).

RLlib's default module feeds its policy and value heads the core's output alone, so everything the policy acts on
passes through the core, even what the step's input already holds: the previous action and the reward it paid. A
bandit policy as simple as "stay on an arm that paid, move on from one that did not" then needs the core to carry
the previous arm's identity (k numbers) in its state. This encoder wraps a core and hands the heads
``[core output, input]`` instead; with hidden layers in the heads (``head_hiddens``) they can combine the two.

The agent still reads the action-reward-timestep inputs only and is trained by RL alone: an RL^2 agent with a
different head, named so in the results' recipe.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.models.base import ENCODER_OUT, Encoder, Model
from ray.rllib.core.models.configs import ModelConfig, RecurrentEncoderConfig
from ray.rllib.core.models.torch.base import TorchModel


@dataclasses.dataclass
class InputSkipEncoderConfig(RecurrentEncoderConfig):
    """A memory core (``core_config``) whose output is joined by the step's input (``input_dims``).

    A ``RecurrentEncoderConfig`` so that RLlib's actor-critic encoder passes the core's state through."""

    core_config: ModelConfig | None = None

    @property
    def output_dims(self) -> tuple[int, ...]:
        return (self.core_config.output_dims[0] + int(self.input_dims[0]),)

    def _validate(self, framework: str = "torch") -> None:
        if self.core_config is None or len(self.input_dims) != 1:
            raise ValueError(f"the input skip needs a core config and a flat input, got input_dims={self.input_dims}")

    def build(self, framework: str = "torch") -> Model:
        self._validate(framework)
        if framework != "torch":
            raise ValueError(f"the input skip is torch only, got framework={framework!r}")
        return TorchInputSkipEncoder(self)


class TorchInputSkipEncoder(TorchModel, Encoder):
    """``ENCODER_OUT`` = the core's output and the step's input, side by side; the state is the core's own."""

    def __init__(self, config: InputSkipEncoderConfig) -> None:
        TorchModel.__init__(self, config)
        self.core = config.core_config.build(framework="torch")

    def get_initial_state(self) -> Any:
        return self.core.get_initial_state()

    def _forward(self, inputs: dict, **kwargs: Any) -> dict:
        outputs = self.core(inputs)
        joined = torch.cat([outputs[ENCODER_OUT], inputs[Columns.OBS].float()], dim=-1)
        return {**outputs, ENCODER_OUT: joined}
