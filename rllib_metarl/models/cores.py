"""The agent's memory cores: LSTM (Wang et al.), GRU (RL^2), a causal-attention core, SNAIL, additive and per-action.

Every algorithm here (PPO, A2C, IMPALA, APPO) builds RLlib's default actor-critic RLModule; what differs is the
encoder between the observation and the policy and value heads. :class:`MetaRLCatalog` picks it from the model
config's ``"core"`` key, so one catalog serves every algorithm and checkpoints reload with their core.

The attention core is a causal transformer over the trial, and the SNAIL core (``models.snail``) interleaves
dilated causal convolutions with causal attention. Both keep the trial's raw inputs as their recurrent state and
re-read them at every step (``models.trial_memory``), so stepping one input at a time gives exactly what a
whole-sequence pass gives (tested); order comes from the wrapper's ``t / T`` input (attention) or the convolutions.
When sampling, the attention core keeps each block's keys and values of the memory from its previous call and
encodes only the new step. Only the filled part of the memory enters a pass: a training sequence starts with its
trial, so training attends over the sequence alone. The additive core (``models.additive``) keeps a running sum of
learned codes of each step, a memory that cannot forget; the per-action core (``models.per_action``) keeps such a
sum for each action as well.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from ray.rllib.algorithms.ppo.ppo_catalog import PPOCatalog
from ray.rllib.core.columns import Columns
from ray.rllib.core.models.base import ENCODER_OUT, Model
from ray.rllib.core.models.configs import RecurrentEncoderConfig
from torch import nn
from torch.nn import functional

from rllib_metarl.models import ATTENTION_WINDOWS, CORES
from rllib_metarl.models.additive import AdditiveEncoderConfig
from rllib_metarl.models.input_skip import InputSkipEncoderConfig
from rllib_metarl.models.per_action import LAYOUT_KEY as ACTION_LAYOUT_KEY
from rllib_metarl.models.per_action import PerActionEncoderConfig
from rllib_metarl.models.snail import SnailEncoderConfig
from rllib_metarl.models.trial_memory import TrialMemoryEncoder


@dataclasses.dataclass
class AttentionEncoderConfig(RecurrentEncoderConfig):
    """A causal transformer over the last ``memory_length`` steps (``hidden_dim`` wide, ``num_layers`` blocks)."""

    memory_length: int = 101
    num_heads: int = 2
    # Steps per token: 2 joins each step's input with the one before (SNAIL's width-2 temporal convolution), so a
    # token holds a reward together with the state that paid it (the wrapper gives r_{t-1} beside s_t).
    input_window: int = 1

    def _validate(self, framework: str = "torch") -> None:
        if self.memory_length < 1:
            raise ValueError(f"memory_length must be a positive integer, got {self.memory_length!r}")
        if self.input_window not in ATTENTION_WINDOWS:
            raise ValueError(f"input_window must be one of {ATTENTION_WINDOWS}, got {self.input_window!r}")
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

    def forward(
        self, tokens: torch.Tensor, allowed: torch.Tensor, cache: tuple[torch.Tensor, ...] | None = None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """``tokens`` (B, S, W); ``allowed`` (B, S, S): query i may attend to key j. Returns the new tokens and the
        keys and values (B, heads, S, W / heads).

        ``cache``: ``(keys, values, slot)`` of earlier tokens, (B, heads, M, W / heads) and (B,), for one new token
        per row (S = 1): its key and value are written in place at ``slot`` and it attends over the M cached ones
        (``allowed`` (B, 1, M)). Writing in place, not concatenating, spares an allocation per step.
        """
        batch, length, width = tokens.shape
        q, k, v = self.qkv(self.norm_attention(tokens)).chunk(3, dim=-1)
        q, k, v = (x.view(batch, length, self.num_heads, width // self.num_heads).transpose(1, 2) for x in (q, k, v))
        if cache is not None:
            keys, values, slot = cache
            rows = torch.arange(batch, device=tokens.device)
            keys[rows, :, slot], values[rows, :, slot] = k[:, :, 0], v[:, :, 0]
            k, v = keys, values
        attended = functional.scaled_dot_product_attention(q, k, v, attn_mask=allowed.unsqueeze(1))
        tokens = tokens + self.project(attended.transpose(1, 2).reshape(batch, length, width))
        return tokens + self.mlp(self.norm_mlp(tokens)), (k, v)


class TorchAttentionEncoder(TrialMemoryEncoder):
    """The attention core as an RLlib encoder: ``STATE_IN`` is ``{"memory": (B, M, obs), "length": (B, 1)}``."""

    def __init__(self, config: AttentionEncoderConfig) -> None:
        super().__init__(config)
        windowed = self.input_size * config.input_window
        token_size = config.tokenizer_config.output_dims[0] if self.tokenizer is not None else windowed
        self.embed = nn.Linear(token_size, config.hidden_dim)
        self.blocks = nn.ModuleList(
            CausalSelfAttentionBlock(config.hidden_dim, config.num_heads) for _ in range(config.num_layers)
        )
        self.norm_out = nn.LayerNorm(config.hidden_dim)

    def _encode(self, sequence: torch.Tensor, valid: torch.Tensor, filled: torch.Tensor, steps: int,
                sampling: bool) -> dict:  # fmt: skip
        used, slots = sequence.shape[1] - steps, self.config.memory_length
        position = torch.arange(used + steps, device=sequence.device)
        causal = position[None, :, None] >= position[None, None, :]  # query i sees key j <= i
        allowed = causal & valid[:, None, :]
        allowed = allowed | torch.eye(used + steps, dtype=torch.bool, device=sequence.device)  # no empty rows

        tokens = self.embed(self._tokenize(self._windowed(sequence, valid)))
        keys_values = []
        for block in self.blocks:
            tokens, key_value = block(tokens, allowed)
            keys_values.append(key_value)
        outputs = self.norm_out(tokens[:, used:])
        # The next state: the last ``slots`` valid observations, oldest first, and how many there are.
        where = self._next_slots(valid, filled, steps, slots)
        state = {
            "memory": self._move(sequence, where, slots, dim=1),
            "length": (filled + steps).clamp(max=slots)[:, None].to(sequence.dtype),
        }
        if sampling and bool((filled + steps <= slots).all()):  # the cache holds no memory that overflowed
            self._remember(state, keys_values=[tuple(self._move(x, where, slots, dim=2) for x in kv)
                                               for kv in keys_values])  # fmt: skip
        return {ENCODER_OUT: outputs, Columns.STATE_OUT: state}

    def _step_from_cache(self, observations: torch.Tensor, memory: torch.Tensor, filled: torch.Tensor) -> dict:
        """One new step, attending to the cached keys and values of the memory: what the whole pass computes."""
        batch, slots = memory.shape[0], memory.shape[1]
        rows = torch.arange(batch, device=memory.device)
        allowed = (torch.arange(slots, device=memory.device)[None] <= filled[:, None])[:, None]  # the past and itself
        window = observations
        if self.config.input_window == 2:  # the step before is the memory's last filled slot (none: zeros)
            previous = memory[rows, (filled - 1).clamp(min=0)] * (filled > 0)[:, None]
            window = torch.cat([observations, previous[:, None]], dim=-1)
        tokens = self.embed(self._tokenize(window))
        for block, (keys, values) in zip(self.blocks, self._cache["keys_values"], strict=True):
            tokens, _ = block(tokens, allowed, cache=(keys, values, filled))
        next_memory = memory.clone()
        next_memory[rows, filled] = observations[:, 0]
        state = {"memory": next_memory, "length": (filled + 1)[:, None].to(memory.dtype)}
        self._cache["state"] = {key: value.clone() for key, value in state.items()}
        return {ENCODER_OUT: self.norm_out(tokens), Columns.STATE_OUT: state}

    def _windowed(self, sequence: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """With ``input_window`` 2, each entry joined with the valid entry before it (zeros for a trial's first)."""
        if self.config.input_window == 1:
            return sequence
        position = torch.arange(sequence.shape[1], device=sequence.device).expand_as(valid)
        latest = torch.where(valid, position, -1).cummax(dim=1).values  # the last valid entry at or before i
        before = functional.pad(latest, (1, 0), value=-1)[:, :-1]  # ... strictly before i
        previous = sequence.gather(1, before.clamp(min=0)[..., None].expand_as(sequence))
        return torch.cat([sequence, previous * (before >= 0)[..., None]], dim=-1)

    @staticmethod
    def _next_slots(valid: torch.Tensor, filled: torch.Tensor, steps: int, slots: int) -> torch.Tensor:
        """(B, M + T): the memory slot each entry of the sequence moves to; ``slots`` where it is dropped."""
        total = filled + steps
        rank = valid.long().cumsum(dim=1) - 1  # order among the valid entries
        target = rank - (total - total.clamp(max=slots))[:, None]  # < 0: dropped (too old)
        keep = valid & (target >= 0)
        return torch.where(keep, target, torch.full_like(target, slots))  # the rest go to a spill slot

    @staticmethod
    def _move(entries: torch.Tensor, where: torch.Tensor, slots: int, dim: int) -> torch.Tensor:
        """``entries`` (sequence along ``dim``) scattered to the memory slots ``where``; unfilled slots are zero."""
        shape = list(entries.shape)
        shape[dim] = slots + 1
        index = where.view(where.shape[0], *([1] * (dim - 1)), where.shape[1], *([1] * (entries.dim() - dim - 1)))
        moved = entries.new_zeros(shape).scatter_(dim, index.expand_as(entries), entries)
        return moved.narrow(dim, 0, slots)


class MetaRLCatalog(PPOCatalog):
    """PPO's catalog (also used by A2C, IMPALA and APPO) with the memory core chosen by ``model_config["core"]``.

    ``"lstm"`` is RLlib's own LSTM encoder; ``"gru"`` RLlib's GRU encoder with the same width (``lstm_cell_size``);
    ``"attention"`` the causal transformer above, ``attention_layers`` blocks of ``lstm_cell_size`` width and
    ``attention_heads`` heads, over ``max_seq_len`` steps, ``attention_window`` steps per token; ``"snail"`` SNAIL
    (``models.snail``) over ``max_seq_len`` steps, ``snail_filters`` filters per dense block, keys and values of
    ``snail_key_size``, outputs ``lstm_cell_size`` wide; ``"additive"`` a running sum of ``lstm_cell_size`` learned
    step codes (``models.additive``); ``"per_action"`` that sum beside one row of codes per action, filed under the
    action that caused each step, and the state it was taken in on a task of one-hot states (``models.per_action``;
    ``model_config["action_layout"]`` says where the input holds the previous action and the state). Neither
    attention nor SNAIL has a tokenizer MLP when ``fcnet_hiddens`` is empty.
    With ``heads_read_input`` the heads read the step's input beside the core's output (``models.input_skip``).
    """

    @classmethod
    def _get_encoder_config(
        cls, observation_space: gym.Space, model_config_dict: dict, action_space: gym.Space | None = None
    ) -> Any:
        config = cls._core_config(observation_space, model_config_dict, action_space)
        if model_config_dict.get("use_lstm") and model_config_dict.get("heads_read_input"):
            return InputSkipEncoderConfig(input_dims=observation_space.shape, core_config=config)
        return config

    @classmethod
    def _core_config(cls, observation_space: gym.Space, model_config_dict: dict, action_space: gym.Space | None) -> Any:
        """The memory core's encoder config (or, without ``use_lstm``, the tokenizer's)."""
        core = model_config_dict.get("core", "lstm")
        if core not in CORES:
            raise ValueError(f"core must be one of {CORES}, got {core!r}")
        if not model_config_dict.get("use_lstm") or core == "lstm":  # also the tokenizer's (non-recurrent) config
            return super()._get_encoder_config(observation_space, model_config_dict, action_space)
        common = {
            "input_dims": observation_space.shape,
            "hidden_dim": model_config_dict["lstm_cell_size"],
            "batch_major": True,
        }
        if core == "gru":
            common["tokenizer_config"] = cls.get_tokenizer_config(observation_space, model_config_dict)
            return RecurrentEncoderConfig(recurrent_layer_type="gru", num_layers=1, **common)
        if core == "additive":
            common["tokenizer_config"] = cls.get_tokenizer_config(observation_space, model_config_dict)
            return AdditiveEncoderConfig(**common)
        if core == "per_action":
            common["tokenizer_config"] = cls.get_tokenizer_config(observation_space, model_config_dict)
            offset, actions, states = (*model_config_dict[ACTION_LAYOUT_KEY], 1)[:3]  # saved before states: 1
            return PerActionEncoderConfig(action_offset=offset, num_actions=actions, num_states=states, **common)
        window = model_config_dict.get("attention_window", 1) if core == "attention" else 1
        tokenizer = None  # no MLP before the core: its first layer reads the (windowed) input
        if model_config_dict["fcnet_hiddens"]:
            size = int(np.prod(observation_space.shape)) * window
            windowed_space = gym.spaces.Box(-np.inf, np.inf, shape=(size,), dtype=np.float32)
            tokenizer = cls.get_tokenizer_config(windowed_space, model_config_dict)
        if core == "snail":
            return SnailEncoderConfig(
                memory_length=model_config_dict["max_seq_len"],
                filters=model_config_dict.get("snail_filters", 32),
                key_size=model_config_dict.get("snail_key_size", 32),
                value_size=model_config_dict.get("snail_key_size", 32),
                tokenizer_config=tokenizer,
                **common,
            )
        return AttentionEncoderConfig(
            num_layers=model_config_dict.get("attention_layers", 2),
            num_heads=model_config_dict.get("attention_heads", 2),
            memory_length=model_config_dict["max_seq_len"],
            input_window=window,
            tokenizer_config=tokenizer,
            **common,
        )
