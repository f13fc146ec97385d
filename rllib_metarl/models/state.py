"""The recurrent state of a module for a batch of trials, whatever its core."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import tree  # dm-tree, an RLlib dependency


def batched_initial_state(model: Any, count: int) -> Any:
    """``model.get_initial_state()`` (an RLModule's or an encoder's) with a batch axis of ``count`` on every leaf:
    the state is nested when actor and critic have their own cores."""
    return tree.map_structure(
        lambda s: torch.as_tensor(s).unsqueeze(0).repeat(count, *([1] * np.ndim(s))), model.get_initial_state()
    )


def policy_memory(state: Any) -> np.ndarray:
    """The policy's part of a batch's recurrent state as one row of floats per trial: the actor's core when actor and
    critic have their own (``{"actor": ..., "critic": ...}``), else the whole state."""
    part = state["actor"] if isinstance(state, dict) and "actor" in state else state
    leaves = [torch.as_tensor(leaf) for leaf in tree.flatten(part)]
    return torch.cat([leaf.reshape(leaf.shape[0], -1) for leaf in leaves], dim=1).numpy()
