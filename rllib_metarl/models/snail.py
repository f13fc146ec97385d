"""The SNAIL core (Mishra, Rohaninejad, Chen and Abbeel, "A Simple Neural Attentive Meta-Learner", ICLR 2018).

SNAIL reads the trial with temporal convolutions (dense access to a receptive field of T steps) and causal soft
attention (pinpoint access to any earlier step). Its blocks, as the paper defines them:

- ``DenseBlock(R, D)``: a causal convolution of kernel size 2 and dilation ``R`` with ``D`` filters, gated
  (``tanh(f) * sigmoid(g)``), its output concatenated to its input.
- ``TCBlock(T, D)``: dense blocks of dilations 1, 2, 4, ..., ``2^(ceil(log2 T) - 1)``: together they see the last
  ``T`` steps. (The paper writes the dilations from 2^1, which would leave every odd offset unseen; we start at 2^0.)
- ``AttentionBlock(K, V)``: single-head causal attention with keys of size ``K`` and values of size ``V``, scaled
  by ``1 / sqrt(K)``, its read concatenated to its input.

The core is the paper's bandit and MDP architecture: ``TCBlock(T, D)``, ``TCBlock(T, D)``, ``AttentionBlock(K, V)``,
then a linear layer (the paper's 1x1 convolution) to the width the policy and value heads read; ``T`` is the memory
length (the trial length + 1). An optional tokenizer MLP (``fcnet_hiddens``) embeds each step first.

Its recurrent state is the trial's inputs (``models.trial_memory``): every call computes its outputs from them, so
stepping one input at a time gives exactly what a whole-sequence pass gives (tested). When sampling, the encoder
keeps every step's features (the dense concatenation, which holds each layer's input) and the attention's keys and
values, so a new step costs one pass of each layer over that step alone.
"""

from __future__ import annotations

import dataclasses
import math

import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.models.base import ENCODER_OUT, Model
from ray.rllib.core.models.configs import RecurrentEncoderConfig
from torch import nn
from torch.nn import functional

from rllib_metarl.models.trial_memory import TrialMemoryEncoder


@dataclasses.dataclass
class SnailEncoderConfig(RecurrentEncoderConfig):
    """SNAIL over the last ``memory_length`` steps: two TC blocks of ``filters`` filters per dense block, then an
    attention block with keys of ``key_size`` and values of ``value_size``; outputs ``hidden_dim`` wide."""

    memory_length: int = 101
    filters: int = 32
    key_size: int = 32
    value_size: int = 32

    def build(self, framework: str = "torch") -> Model:
        if framework != "torch":
            raise ValueError(f"the SNAIL core is torch only, got framework={framework!r}")
        for name in ("memory_length", "filters", "key_size", "value_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        return TorchSnailEncoder(self)


class DenseBlock(nn.Module):
    """A gated causal convolution of kernel size 2 and dilation ``dilation``; its output joins its input."""

    def __init__(self, in_channels: int, filters: int, dilation: int):
        super().__init__()
        self.dilation = dilation
        self.conv = nn.Conv1d(in_channels, 2 * filters, kernel_size=2, dilation=dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` (B, L, C): every step, zeros before the first -> (B, L, C + filters)."""
        padded = functional.pad(x.transpose(1, 2), (self.dilation, 0))
        return torch.cat([x, self._gate(self.conv(padded).transpose(1, 2))], dim=-1)

    def step(self, x: torch.Tensor, past: torch.Tensor) -> torch.Tensor:
        """One step: ``x`` (B, 1, C) and ``past`` (B, 1, C), the input ``dilation`` steps back (zeros before the
        trial) -> (B, 1, C + filters), what :meth:`forward` gives at that step."""
        weight = self.conv.weight  # (2 filters, C, 2): tap 0 reads t - dilation, tap 1 reads t
        return torch.cat([x, self._gate(past @ weight[..., 0].T + x @ weight[..., 1].T + self.conv.bias)], dim=-1)

    @staticmethod
    def _gate(output: torch.Tensor) -> torch.Tensor:
        features, gates = output.chunk(2, dim=-1)
        return torch.tanh(features) * torch.sigmoid(gates)


class AttentionBlock(nn.Module):
    """Single-head causal soft attention; its read joins its input."""

    def __init__(self, in_channels: int, key_size: int, value_size: int):
        super().__init__()
        self.query = nn.Linear(in_channels, key_size)
        self.key = nn.Linear(in_channels, key_size)
        self.value = nn.Linear(in_channels, value_size)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``x`` (B, L, C) -> (B, L, C + value_size), with the keys and values of every step."""
        keys, values = self.key(x), self.value(x)
        read = functional.scaled_dot_product_attention(self.query(x), keys, values, is_causal=True)
        return torch.cat([x, read], dim=-1), keys, values

    def step(self, x: torch.Tensor, keys: torch.Tensor, values: torch.Tensor, slot: torch.Tensor) -> torch.Tensor:
        """One step per row at ``slot`` (B,): its key and value are written there, in place, into ``keys`` and
        ``values`` (B, M, .), and it attends over the slots up to its own."""
        rows = torch.arange(x.shape[0], device=x.device)
        keys[rows, slot], values[rows, slot] = self.key(x)[:, 0], self.value(x)[:, 0]
        allowed = (torch.arange(keys.shape[1], device=x.device)[None] <= slot[:, None])[:, None]  # (B, 1, M)
        read = functional.scaled_dot_product_attention(self.query(x), keys, values, attn_mask=allowed)
        return torch.cat([x, read], dim=-1)


class TorchSnailEncoder(TrialMemoryEncoder):
    """The SNAIL core as an RLlib encoder: ``STATE_IN`` is ``{"memory": (B, M, obs), "length": (B, 1)}``."""

    def __init__(self, config: SnailEncoderConfig) -> None:
        super().__init__(config)
        channels = config.tokenizer_config.output_dims[0] if self.tokenizer is not None else self.input_size
        layers_per_block = max(1, math.ceil(math.log2(config.memory_length)))
        self.dense_blocks = nn.ModuleList()
        for _ in range(2):  # TCBlock(T, D), twice
            for layer in range(layers_per_block):
                self.dense_blocks.append(DenseBlock(channels, config.filters, dilation=2**layer))
                channels += config.filters
        self.attention = AttentionBlock(channels, config.key_size, config.value_size)
        self.project = nn.Linear(channels + config.value_size, config.hidden_dim)

    def _encode(self, sequence: torch.Tensor, valid: torch.Tensor, filled: torch.Tensor, steps: int,
                sampling: bool) -> dict:  # fmt: skip
        # Each row's trial so far, left-aligned: its filled memory, then the new steps (rows with less memory end in
        # unused entries, which causal layers never read for the steps that are used).
        slots, memory_dtype = self.config.memory_length, sequence.dtype
        order = torch.argsort((~valid).to(torch.int8), dim=1, stable=True)
        trial = sequence.gather(1, order[..., None].expand_as(sequence))

        x = self._tokenize(trial)
        for block in self.dense_blocks:
            x = block(x)
        x, keys, values = self.attention(x)
        new_steps = filled[:, None] + torch.arange(steps, device=x.device)  # (B, T): where the new steps are
        outputs = self.project(x.gather(1, new_steps[..., None].expand(-1, -1, x.shape[-1])))

        total = filled + steps
        kept = (total - slots).clamp(min=0)[:, None] + torch.arange(slots, device=x.device)  # the last slots steps
        filled_slots = (torch.arange(slots, device=x.device)[None] < total[:, None])[..., None]
        next_memory = trial.gather(1, kept.clamp(max=trial.shape[1] - 1)[..., None].expand(-1, -1, trial.shape[-1]))
        state = {"memory": next_memory * filled_slots, "length": total.clamp(max=slots)[:, None].to(memory_dtype)}
        if sampling and bool((total <= slots).all()):  # the cache holds no memory that overflowed
            cached = {"features": x, "keys": keys, "values": values}
            self._remember(state, **{name: self._to_slots(tensor, slots) for name, tensor in cached.items()})
        return {ENCODER_OUT: outputs, Columns.STATE_OUT: state}

    def _step_from_cache(self, observations: torch.Tensor, memory: torch.Tensor, filled: torch.Tensor) -> dict:
        """One new step from the cached features, keys and values of the memory: what the whole pass computes."""
        cache, rows = self._cache, torch.arange(memory.shape[0], device=memory.device)
        x = self._tokenize(observations)
        for block in self.dense_blocks:
            back = filled - block.dilation
            past = cache["features"][rows, back.clamp(min=0), : x.shape[-1]] * (back >= 0)[:, None]
            x = block.step(x, past[:, None])
        x = self.attention.step(x, cache["keys"], cache["values"], filled)
        cache["features"][rows, filled] = x[:, 0]
        next_memory = memory.clone()
        next_memory[rows, filled] = observations[:, 0]
        state = {"memory": next_memory, "length": (filled + 1)[:, None].to(memory.dtype)}
        cache["state"] = {key: value.clone() for key, value in state.items()}
        return {ENCODER_OUT: self.project(x), Columns.STATE_OUT: state}

    @staticmethod
    def _to_slots(tensor: torch.Tensor, slots: int) -> torch.Tensor:
        """(B, L, C) with L <= slots, zero-padded to (B, slots, C): a cache entry per memory slot."""
        padded = tensor.new_zeros(tensor.shape[0], slots, tensor.shape[2])
        padded[:, : tensor.shape[1]] = tensor
        return padded
