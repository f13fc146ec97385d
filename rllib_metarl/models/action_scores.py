"""The base of the policy heads that score every action with weights shared across actions (``models.statistics_head``,
``models.per_action``): PPO's default module whose logits add, for each action a, one small MLP's score

    logits_t[a] = pi(core_t)[a] + g(S summary_t, features_t[a])

so what the MLP ``g`` learns about one action holds for every action. A subclass says what the summary and each
action's features are."""

from __future__ import annotations

from typing import Any

import torch
from ray.rllib.algorithms.ppo.torch.default_ppo_torch_rl_module import DefaultPPOTorchRLModule
from ray.rllib.core.columns import Columns
from ray.rllib.core.models.base import ACTOR, CRITIC, ENCODER_OUT
from torch import nn

CORE_SUMMARY = 16  # numbers of the summary the shared MLP reads beside an action's features
HIDDEN = 32  # the shared MLP's width


class ActionScoringPPOModule(DefaultPPOTorchRLModule):
    """RLlib's default PPO module whose logits come from :meth:`_logits`; the value function is PPO's own."""

    def build_scorer(self, summary_width: int, features: int) -> None:
        """The shared MLP, for summaries ``summary_width`` wide and ``features`` numbers per action; call in setup."""
        self.core_summary = nn.Linear(summary_width, CORE_SUMMARY)
        self.action_scorer = nn.Sequential(nn.Linear(CORE_SUMMARY + features, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, 1))

    def scores(self, summary: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """(..., summary_width), (..., actions, features) -> (..., actions): the shared MLP's score of each action."""
        summary = self.core_summary(summary).unsqueeze(-2).expand(*features.shape[:-1], CORE_SUMMARY)
        return self.action_scorer(torch.cat([summary, features], dim=-1)).squeeze(-1)

    def _logits(self, actor_features: torch.Tensor, observations: torch.Tensor) -> torch.Tensor:
        """(B, T, features), (B, T, obs) -> (B, T, actions)."""
        raise NotImplementedError

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        # PPO's own inference and exploration pass (DefaultPPOTorchRLModule._forward) with this module's logits.
        encoder_outs = self.encoder(batch)
        output = {Columns.ACTION_DIST_INPUTS: self._logits(encoder_outs[ENCODER_OUT][ACTOR], batch[Columns.OBS])}
        if Columns.STATE_OUT in encoder_outs:
            output[Columns.STATE_OUT] = encoder_outs[Columns.STATE_OUT]
        return output

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        # PPO's own train pass (DefaultPPOTorchRLModule._forward_train) with this module's logits.
        encoder_outs = self.encoder(batch)
        output = {
            Columns.EMBEDDINGS: encoder_outs[ENCODER_OUT][CRITIC],
            Columns.ACTION_DIST_INPUTS: self._logits(encoder_outs[ENCODER_OUT][ACTOR], batch[Columns.OBS]),
        }
        if Columns.STATE_OUT in encoder_outs:
            output[Columns.STATE_OUT] = encoder_outs[Columns.STATE_OUT]
        return output
