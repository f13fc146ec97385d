"""A policy head that scores every action from its own trial statistics, with weights shared across actions (PPO).

With trial-statistics inputs (``rllib_metarl.wrappers.trial_statistics``) a policy ``pi(core_t)`` must learn, for each
of the k actions separately, that action's visit count and mean reward sit in its own slots of the input: with k = 50
arms every slot gets a fiftieth of the gradient, and an agent trained so settles on a few fixed arms instead
(``docs/notes/2026-11-27-long-horizons.md`` measures it). This head adds to the policy's logits one score per action,
computed by one small MLP from the core's output and that action's statistics alone:

    logits_t[a] = pi(core_t)[a] + g(W core_t, statistics_t[a])

so what the MLP ``g`` learns about one action holds for every action. ``statistics_t[a]`` is the action's visit
share and mean reward, in a task with states its row of estimated transitions and its action value, and its
``1 / sqrt(1 + visits)`` where the wrapper adds it, all at the current state (the wrapper's layout, read from the
observation). The value function is PPO's own.
"""

from __future__ import annotations

import torch

from rllib_metarl.models.action_scores import ActionScoringPPOModule
from rllib_metarl.wrappers.trial_statistics import TrialStatistics

LAYOUT_KEY = "statistics_layout"  # in the module's model_config: (offset, actions, states[, uncertainty])


def per_action_statistics(
    observations: torch.Tensor, offset: int, actions: int, states: int, uncertainty: bool = False
) -> torch.Tensor:
    """(..., obs) -> (..., actions, features): each action's statistics from the wrapper's blocks (visits, means,
    then with states the transition rows and the action values, then with ``uncertainty`` ``1 / sqrt(1 + visits)``),
    which follow the task's own observation."""
    visits = observations[..., offset : offset + actions]
    means = observations[..., offset + actions : offset + 2 * actions]
    columns = [visits.unsqueeze(-1), means.unsqueeze(-1)]
    if states > 1:
        start = offset + 2 * actions
        transitions = observations[..., start : start + actions * states].unflatten(-1, (actions, states))
        values = observations[..., start + actions * states : start + actions * (states + 1)]
        columns += [transitions, values.unsqueeze(-1)]
    if uncertainty:  # the last block, after those above
        start = offset + TrialStatistics.size(states, actions)
        columns.append(observations[..., start : start + actions].unsqueeze(-1))
    return torch.cat(columns, dim=-1)


class StatisticsHeadPPOModule(ActionScoringPPOModule):
    """RLlib's default PPO module whose logits add a per-action score from each action's trial statistics."""

    def setup(self) -> None:
        super().setup()
        self.layout = (*self.model_config[LAYOUT_KEY], False)[:4]  # three numbers: no uncertainty block
        offset, actions, states, uncertainty = self.layout
        features = TrialStatistics.size(states, 1, uncertainty)  # per action
        self.build_scorer(self.model_config["lstm_cell_size"], features)

    def _logits(self, actor_features: torch.Tensor, observations: torch.Tensor) -> torch.Tensor:
        statistics = per_action_statistics(observations.float(), *self.layout)  # (B, T, A, F)
        return self.pi(actor_features) + self.scores(actor_features, statistics)
