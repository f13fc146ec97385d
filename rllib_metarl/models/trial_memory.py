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
from ray.rllib.core.models.base import Encoder
from ray.rllib.core.models.torch.base import TorchModel


class TrialMemoryEncoder(TorchModel, Encoder):
    """Base of the encoders whose state is the trial's inputs; ``self._cache`` holds ``"versions"`` (the weights'),
    ``"state"`` (the state the last call returned) and what the subclass keeps for the next step."""

    def __init__(self, config: Any) -> None:
        TorchModel.__init__(self, config)
        self.input_size = int(config.input_dims[0])
        self._cache: dict[str, Any] | None = None

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
