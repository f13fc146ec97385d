"""The agent's memory cores: LSTM (Wang et al.), GRU (RL^2) and a causal-attention core (SNAIL-style).

Every algorithm here (PPO, A2C, IMPALA, APPO) builds RLlib's default actor-critic RLModule; what differs is the
encoder between the observation and the policy and value heads. :class:`MetaRLCatalog` picks it from the model
config's ``"core"`` key, so one catalog serves every algorithm and checkpoints reload with their core.

The attention core is a causal transformer over the trial. Its recurrent state is the trial so far: the raw
observations of the last ``memory_length`` steps and how many of them are filled. At every step it re-encodes that
memory plus the new input with the current weights, so stepping one observation at a time gives exactly what a
whole-sequence pass gives (tested), and a state stored during sampling never goes stale after a weight update.
``memory_length`` is set to the trial length + 1, so a trial never overflows it; order comes from the wrapper's
``t / T`` input.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import torch
from ray.rllib.algorithms.ppo.ppo_catalog import PPOCatalog
from ray.rllib.core.columns import Columns
from ray.rllib.core.models.base import ENCODER_OUT, Encoder, Model
from ray.rllib.core.models.configs import RecurrentEncoderConfig
from ray.rllib.core.models.torch.base import TorchModel
from torch import nn
from torch.nn import functional

from rllib_metarl.presets import CORES


@dataclasses.dataclass
class AttentionEncoderConfig(RecurrentEncoderConfig):
    """A causal transformer over the last ``memory_length`` steps (``hidden_dim`` wide, ``num_layers`` blocks)."""

    memory_length: int = 101
    num_heads: int = 2

    def _validate(self, framework: str = "torch") -> None:
        if self.memory_length < 1:
            raise ValueError(f"memory_length must be a positive integer, got {self.memory_length!r}")
        if self.hidden_dim % self.num_heads:
            raise ValueError(f"hidden_dim ({self.hidden_dim}) must be a multiple of num_heads ({self.num_heads})")

    def build(self, framework: str = "torch") -> Model:
        self._validate(framework)
        if framework != "torch":
            raise ValueError(f"the attention core is torch only, got framework={framework!r}")
        return TorchAttentionEncoder(self)


class CausalSelfAttentionBlock(nn.Module):
    """Pre-norm transformer block: masked multi-head self-attention, then a two-layer MLP, each residual."""

    def __init__(self, width: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.norm_attention = nn.LayerNorm(width)
        self.qkv = nn.Linear(width, 3 * width)
        self.project = nn.Linear(width, width)
        self.norm_mlp = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width))

    def forward(self, tokens: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        """``tokens`` (B, S, W); ``allowed`` (B, S, S): query i may attend to key j."""
        batch, length, width = tokens.shape
        q, k, v = self.qkv(self.norm_attention(tokens)).chunk(3, dim=-1)
        q, k, v = (x.view(batch, length, self.num_heads, width // self.num_heads).transpose(1, 2) for x in (q, k, v))
        attended = functional.scaled_dot_product_attention(q, k, v, attn_mask=allowed.unsqueeze(1))
        tokens = tokens + self.project(attended.transpose(1, 2).reshape(batch, length, width))
        return tokens + self.mlp(self.norm_mlp(tokens))


class TorchAttentionEncoder(TorchModel, Encoder):
    """The attention core as an RLlib encoder: ``STATE_IN`` is ``{"memory": (B, M, obs), "length": (B, 1)}``."""

    def __init__(self, config: AttentionEncoderConfig) -> None:
        TorchModel.__init__(self, config)
        self.input_size = int(config.input_dims[0])
        if config.tokenizer_config is not None:
            self.tokenizer = config.tokenizer_config.build(framework="torch")
            token_size = config.tokenizer_config.output_dims[0]
        else:
            self.tokenizer, token_size = None, self.input_size
        self.embed = nn.Linear(token_size, config.hidden_dim)
        self.blocks = nn.ModuleList(
            CausalSelfAttentionBlock(config.hidden_dim, config.num_heads) for _ in range(config.num_layers)
        )
        self.norm_out = nn.LayerNorm(config.hidden_dim)

    def get_initial_state(self) -> dict[str, torch.Tensor]:
        return {"memory": torch.zeros(self.config.memory_length, self.input_size), "length": torch.zeros(1)}

    def _forward(self, inputs: dict, **kwargs: Any) -> dict:
        observations = inputs[Columns.OBS].float()  # (B, T, obs)
        memory, filled = inputs[Columns.STATE_IN]["memory"].float(), inputs[Columns.STATE_IN]["length"]
        batch, steps, _ = observations.shape
        slots = memory.shape[1]
        filled = filled.reshape(batch).long().clamp(0, slots)
        sequence = torch.cat([memory, observations], dim=1)  # (B, M + T, obs)

        # Memory slots [0, filled) hold the past in order; the new steps follow at [M, M + T).
        position = torch.arange(slots + steps, device=sequence.device)
        valid = (position < filled[:, None]) | (position >= slots)  # (B, M + T)
        causal = position[None, :, None] >= position[None, None, :]  # query i sees key j <= i
        allowed = causal & valid[:, None, :]
        allowed = allowed | torch.eye(slots + steps, dtype=torch.bool, device=sequence.device)  # no empty rows

        tokens = self.embed(self._tokenize(sequence))
        for block in self.blocks:
            tokens = block(tokens, allowed)
        outputs = self.norm_out(tokens[:, slots:])
        return {ENCODER_OUT: outputs, Columns.STATE_OUT: self._next_state(sequence, valid, filled, steps, slots)}

    def _tokenize(self, sequence: torch.Tensor) -> torch.Tensor:
        if self.tokenizer is None:
            return sequence
        batch, length, size = sequence.shape
        tokens = self.tokenizer({Columns.OBS: sequence.reshape(batch * length, size)})[ENCODER_OUT]
        return tokens.reshape(batch, length, -1)

    @staticmethod
    def _next_state(
        sequence: torch.Tensor, valid: torch.Tensor, filled: torch.Tensor, steps: int, slots: int
    ) -> dict[str, torch.Tensor]:
        """The last ``slots`` valid observations, oldest first, and how many there are."""
        total = filled + steps
        kept = total.clamp(max=slots)
        rank = valid.long().cumsum(dim=1) - 1  # order among the valid entries
        target = rank - (total - kept)[:, None]  # where each entry lands; < 0: dropped (too old)
        keep = valid & (target >= 0)
        target = torch.where(keep, target, torch.full_like(target, slots))  # the rest go to a spill slot
        memory = sequence.new_zeros(sequence.shape[0], slots + 1, sequence.shape[2])
        memory.scatter_(1, target[:, :, None].expand_as(sequence), sequence)
        return {"memory": memory[:, :slots], "length": kept[:, None].to(sequence.dtype)}


class MetaRLCatalog(PPOCatalog):
    """PPO's catalog (also used by A2C, IMPALA and APPO) with the memory core chosen by ``model_config["core"]``.

    ``"lstm"`` is RLlib's own LSTM encoder; ``"gru"`` RLlib's GRU encoder with the same width (``lstm_cell_size``);
    ``"attention"`` the causal transformer above, ``attention_layers`` blocks of ``lstm_cell_size`` width and
    ``attention_heads`` heads, over ``max_seq_len`` steps.
    """

    @classmethod
    def _get_encoder_config(
        cls, observation_space: gym.Space, model_config_dict: dict, action_space: gym.Space | None = None
    ) -> Any:
        core = model_config_dict.get("core", "lstm")
        if core not in CORES:
            raise ValueError(f"core must be one of {CORES}, got {core!r}")
        if not model_config_dict.get("use_lstm") or core == "lstm":  # also the tokenizer's (non-recurrent) config
            return super()._get_encoder_config(observation_space, model_config_dict, action_space)
        common = {
            "input_dims": observation_space.shape,
            "hidden_dim": model_config_dict["lstm_cell_size"],
            "batch_major": True,
            "tokenizer_config": cls.get_tokenizer_config(observation_space, model_config_dict),
        }
        if core == "gru":
            return RecurrentEncoderConfig(recurrent_layer_type="gru", num_layers=1, **common)
        return AttentionEncoderConfig(
            num_layers=model_config_dict.get("attention_layers", 2),
            num_heads=model_config_dict.get("attention_heads", 2),
            memory_length=model_config_dict["max_seq_len"],
            **common,
        )
