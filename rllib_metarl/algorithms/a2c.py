"""A2C: synchronous advantage actor-critic (Mnih et al. 2016, the synchronous form of Wang et al.'s A3C).

RLlib 2.60 has no A2C. This one is built on RLlib's Algorithm and Learner APIs: it reuses PPO's sampling loop and
its learner connector pipeline, which computes GAE advantages (``lambda_``; ``lambda_=1`` gives n-step returns to the
end of the rollout) and value targets, and replaces the loss with the actor-critic one, in full here:

    loss = -mean(log pi(a|s) * A)  +  vf_loss_coeff * mean((V(s) - V_target)^2)  -  entropy_coeff * mean(H[pi(.|s)])

One gradient step per batch: ``num_epochs=1`` and one minibatch of the whole batch, no ratio clipping, no KL term.
"""

from __future__ import annotations

from typing import Any

import torch
from ray.rllib.algorithms.ppo import PPO, PPOConfig
from ray.rllib.algorithms.ppo.torch.ppo_torch_learner import PPOTorchLearner
from ray.rllib.core.columns import Columns
from ray.rllib.core.learner.learner import ENTROPY_KEY, POLICY_LOSS_KEY, VF_LOSS_KEY
from ray.rllib.evaluation.postprocessing import Postprocessing


class A2CConfig(PPOConfig):
    """PPO's config with A2C's learner and one full-batch gradient step per iteration."""

    def __init__(self, algo_class: type | None = None):
        super().__init__(algo_class=algo_class or A2C)
        self.num_epochs = 1
        self.minibatch_size = None  # the whole train batch in one step
        self.use_kl_loss = False
        self.lr = 7e-4  # the A2C/A3C papers' neighbourhood

    def get_default_learner_class(self) -> type:
        return A2CTorchLearner


class A2C(PPO):
    @classmethod
    def get_default_config(cls) -> A2CConfig:
        return A2CConfig()


class A2CTorchLearner(PPOTorchLearner):
    """The advantage actor-critic loss on the batch PPO's connectors prepared (advantages, value targets)."""

    def compute_loss_for_module(
        self, *, module_id: str, config: A2CConfig, batch: dict[str, Any], fwd_out: dict[str, Any]
    ) -> torch.Tensor:
        module = self.module[module_id].unwrapped()
        # Recurrent batches are zero-padded sequences: average over the real steps only.
        mask = batch.get(Columns.LOSS_MASK)

        def mean(values: torch.Tensor) -> torch.Tensor:
            return values[mask].mean() if mask is not None else values.mean()

        distribution = module.get_train_action_dist_cls().from_logits(fwd_out[Columns.ACTION_DIST_INPUTS])
        policy_loss = -mean(distribution.logp(batch[Columns.ACTIONS]) * batch[Postprocessing.ADVANTAGES])
        values = module.compute_values(batch, embeddings=fwd_out.get(Columns.EMBEDDINGS))
        value_loss = mean((values - batch[Postprocessing.VALUE_TARGETS]) ** 2)
        entropy = mean(distribution.entropy())
        entropy_coeff = self.entropy_coeff_schedulers_per_module[module_id].get_current_value()
        self.metrics.log_dict(
            {POLICY_LOSS_KEY: policy_loss, VF_LOSS_KEY: value_loss, ENTROPY_KEY: entropy}, key=module_id, window=1
        )
        return policy_loss + config.vf_loss_coeff * value_loss - entropy_coeff * entropy
