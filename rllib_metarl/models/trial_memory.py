"""The state shared by the cores that re-read the trial (the causal-attention and SNAIL cores): the raw inputs of the
trial so far, and a sampling cache that never goes stale.

The recurrent state is ``{"memory": (B, M, inputs), "length": (B, 1)}``: the last ``M`` inputs, oldest first in
slots ``[0, length)``. A core computes its outputs from that memory and the new inputs with the current weights, so
stepping one input at a time gives exactly what a whole-sequence pass gives, and a state stored during sampling
never goes stale after a weight update. ``M`` is the trial length + 1, so a trial never overflows it.

Re-reading the memory at every step costs O(T) per step; so when sampling (one step, no gradient) a core may keep
what it computed for the memory at its previous call and compute only the new step. The cache is used only when the
state passed in is exactly the one that call returned and no weight has changed since (torch's in-place version
counters); otherwise, and always in training, the whole memory is read again.
"""

from __future__ import annotations

from typing import Any

import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.models.base import ENCODER_OUT, Encoder
from ray.rllib.core.models.torch.base import TorchModel


class TrialMemoryEncoder(TorchModel, Encoder):
    """Base of the encoders whose state is the trial's inputs; ``self._cache`` holds ``"versions"`` (the weights'),
    ``"state"`` (the state the last call returned) and what the subclass keeps for the next step."""

    def __init__(self, config: Any) -> None:
        TorchModel.__init__(self, config)
        self.input_size = int(config.input_dims[0])
        self.tokenizer = config.tokenizer_config.build(framework="torch") if config.tokenizer_config else None
        self._cache: dict[str, Any] | None = None

    def _forward(self, inputs: dict, **kwargs: Any) -> dict:
        observations = inputs[Columns.OBS].float()  # (B, T, obs)
        memory, filled = inputs[Columns.STATE_IN]["memory"].float(), inputs[Columns.STATE_IN]["length"]
        batch, steps, _ = observations.shape
        slots = memory.shape[1]
        filled = filled.reshape(batch).long().clamp(0, slots)
        sampling = steps == 1 and not torch.is_grad_enabled()
        if sampling and self._cache_holds(memory, filled):
            return self._step_from_cache(observations, memory, filled)
        self._cache = None
        # Only the filled part of the memory is read; training sequences start with an empty one. Memory slots
        # [0, filled) hold the past in order; the new steps follow at [used, used + T).
        used = int(filled.max()) if batch else 0
        sequence = torch.cat([memory[:, :used], observations], dim=1)  # (B, used + T, obs)
        position = torch.arange(used + steps, device=sequence.device)
        valid = (position < filled[:, None]) | (position >= used)  # (B, used + T)
        return self._encode(sequence, valid, filled, steps, sampling)

    def _encode(self, sequence: torch.Tensor, valid: torch.Tensor, filled: torch.Tensor, steps: int,
                sampling: bool) -> dict:  # fmt: skip
        """The whole pass over ``sequence`` (B, used + T, obs), the valid entries of each row marked in ``valid``:
        ``ENCODER_OUT`` of the last ``steps`` and the next state; with ``sampling``, the cache for the next step."""
        raise NotImplementedError

    def _step_from_cache(self, observations: torch.Tensor, memory: torch.Tensor, filled: torch.Tensor) -> dict:
        """One new step from the cache: what :meth:`_encode` computes for it."""
        raise NotImplementedError

    def _tokenize(self, sequence: torch.Tensor) -> torch.Tensor:
        """The tokenizer MLP on every step of ``sequence`` (B, L, size), if the core has one."""
        if self.tokenizer is None:
            return sequence
        batch, length, size = sequence.shape
        tokens = self.tokenizer({Columns.OBS: sequence.reshape(batch * length, size)})[ENCODER_OUT]
        return tokens.reshape(batch, length, -1)

    def get_initial_state(self) -> dict[str, torch.Tensor]:
        return {"memory": torch.zeros(self.config.memory_length, self.input_size), "length": torch.zeros(1)}

    def _weight_versions(self) -> list[tuple[int, int]]:
        """Where each weight lives and its in-place version: any update or reload changes one (a copy: the first)."""
        return [(parameter.data_ptr(), parameter._version) for parameter in self.parameters()]

    def _cache_holds(self, memory: torch.Tensor, filled: torch.Tensor) -> bool:
        """Whether the cache was built from exactly this state with the current weights, and has room for a step."""
        cache = self._cache
        if cache is None or cache["state"]["memory"].shape != memory.shape:
            return False
        return (
            cache["versions"] == self._weight_versions()
            and torch.equal(cache["state"]["length"].reshape(-1).long(), filled)
            and torch.equal(cache["state"]["memory"], memory)
            and bool((filled < memory.shape[1]).all())
        )

    def _remember(self, state: dict[str, torch.Tensor], **kept: Any) -> None:
        """Cache ``kept`` for the next step from ``state`` (a copy: safe from changes by the caller)."""
        self._cache = {
            "versions": self._weight_versions(),
            "state": {key: value.clone() for key, value in state.items()},
            **kept,
        }
