"""Reward prediction: an auxiliary loss that trains the memory core with a label at every step (PPO only).

A meta-RL agent's core must remember what each action paid earlier in the trial before the policy gradient can
reward acting on it; on the tabular MDP that memory is 50 state-action means, and the policy gradient alone gives
the core too weak a signal to find it in our budget (docs/notes: experiment record). As in UNREAL's reward prediction
(Jaderberg et al. 2017), a linear head on the actor's core output predicts, before acting, the reward of each
action; the one taken is scored against the reward it paid:

    loss = PPO's loss + reward_prediction_coeff * mean_t((head(core_t)[a_t] - r_t)^2)

The head sees only what the policy sees (the core's output before a_t's reward arrives), and the mean runs over the
same valid steps as PPO's loss.

By default acting does not use the head. With ``reward_logits_weight`` w > 0 the policy also reads it:

    logits_t = pi(core_t) + beta * head(core_t),    beta a learned scalar starting at w

The head's output is detached there, so the policy's loss moves beta and the policy's own layer but leaves the head
a pure predictor. Why: on the tabular MDP a head trained this way knows more than the policy that shares its core,
and acting greedily on a Bayes-exact head would reach about the paper's RL^2 figure (docs/notes, the experiment
record; ``benchmarks/mdp_reward_head.py``).
"""

from __future__ import annotations

from typing import Any

import torch
from ray.rllib.algorithms.ppo.torch.default_ppo_torch_rl_module import DefaultPPOTorchRLModule
from ray.rllib.algorithms.ppo.torch.ppo_torch_learner import PPOTorchLearner
from ray.rllib.core.columns import Columns
from ray.rllib.core.models.base import ACTOR, CRITIC, ENCODER_OUT

from rllib_metarl.models import REWARD_LOGITS_BETA

REWARD_PREDICTIONS = "reward_predictions"
COEFF_KEY = "reward_prediction_coeff"  # in the config's learner_config_dict
LOGITS_WEIGHT_KEY = "reward_logits_weight"  # in the module's model_config; absent or 0: the policy ignores the head


class RewardPredictionPPOModule(DefaultPPOTorchRLModule):
    """RLlib's default PPO module plus a linear head on the actor's core: the predicted reward of each action (which
    the policy reads if ``model_config["reward_logits_weight"]`` > 0)."""

    def setup(self) -> None:
        super().setup()
        self.reward_head = torch.nn.Linear(self.model_config["lstm_cell_size"], int(self.action_space.n))
        weight = self.model_config.get(LOGITS_WEIGHT_KEY, 0.0)
        self.reward_logits_beta = torch.nn.Parameter(torch.tensor(float(weight))) if weight else None

    def _logits(self, actor_features: torch.Tensor) -> torch.Tensor:
        logits = self.pi(actor_features)
        if self.reward_logits_beta is None:
            return logits
        return logits + self.reward_logits_beta * self.reward_head(actor_features).detach()

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        # PPO's own inference and exploration pass (DefaultPPOTorchRLModule._forward) with this module's logits.
        encoder_outs = self.encoder(batch)
        output = {Columns.ACTION_DIST_INPUTS: self._logits(encoder_outs[ENCODER_OUT][ACTOR])}
        if Columns.STATE_OUT in encoder_outs:
            output[Columns.STATE_OUT] = encoder_outs[Columns.STATE_OUT]
        return output

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        # PPO's own train pass (DefaultPPOTorchRLModule._forward_train), keeping the actor's features for the head.
        encoder_outs = self.encoder(batch)
        actor_features = encoder_outs[ENCODER_OUT][ACTOR]
        output = {
            Columns.EMBEDDINGS: encoder_outs[ENCODER_OUT][CRITIC],
            Columns.ACTION_DIST_INPUTS: self._logits(actor_features),
            REWARD_PREDICTIONS: self.reward_head(actor_features),
        }
        if Columns.STATE_OUT in encoder_outs:
            output[Columns.STATE_OUT] = encoder_outs[Columns.STATE_OUT]
        if self.reward_logits_beta is not None:  # for the learner's metrics
            output[REWARD_LOGITS_BETA] = self.reward_logits_beta
        return output


class RewardPredictionPPOLearner(PPOTorchLearner):
    """PPO's loss plus ``reward_prediction_coeff`` times the squared error of the taken action's predicted reward."""

    def compute_loss_for_module(self, *, module_id: str, config: Any, batch: dict, fwd_out: dict) -> torch.Tensor:
        loss = super().compute_loss_for_module(module_id=module_id, config=config, batch=batch, fwd_out=fwd_out)
        actions = batch[Columns.ACTIONS].long().unsqueeze(-1)
        predicted = fwd_out[REWARD_PREDICTIONS].gather(-1, actions).squeeze(-1)
        errors = (predicted - batch[Columns.REWARDS].float()) ** 2
        mask = batch.get(Columns.LOSS_MASK)
        prediction_loss = errors[mask].mean() if mask is not None else errors.mean()
        self.metrics.log_value((module_id, "reward_prediction_loss"), prediction_loss.detach(), window=1)
        if REWARD_LOGITS_BETA in fwd_out:
            self.metrics.log_value((module_id, REWARD_LOGITS_BETA), fwd_out[REWARD_LOGITS_BETA].detach(), window=1)
        return loss + config.learner_config_dict[COEFF_KEY] * prediction_loss
