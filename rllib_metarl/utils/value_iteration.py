"""Finite-horizon value iteration on tabular MDPs: the tasks' oracle, the MDP baselines and the trial-statistics
wrapper's action values all plan with it."""

from __future__ import annotations

import numpy as np


def optimal_q_values(transitions: np.ndarray, mean_rewards: np.ndarray, horizon: int) -> np.ndarray:
    """Finite-horizon value iteration: ``Q[h, s, a]``, the best expected return of the remaining ``horizon - h`` steps.

    ``transitions[..., s, a, s']`` and ``mean_rewards[..., s, a]`` may carry leading batch axes (many MDPs at once);
    the result then has shape ``(*batch, horizon, S, A)``.
    """
    batch_shape = mean_rewards.shape[:-2]
    q_values = np.zeros((*batch_shape, horizon, *mean_rewards.shape[-2:]))
    values_next = np.zeros((*batch_shape, mean_rewards.shape[-2]))
    for h in range(horizon - 1, -1, -1):
        q_values[..., h, :, :] = mean_rewards + np.einsum("...sat,...t->...sa", transitions, values_next)
        values_next = q_values[..., h, :, :].max(axis=-1)
    return q_values
