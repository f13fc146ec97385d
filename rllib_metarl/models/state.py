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
