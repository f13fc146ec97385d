"""The env runner behind every preset: RLlib's single-agent runner, sampling whole trials with all copies in lock-step.

Every task here has a fixed trial length, and the presets ask each env copy for whole trials, so all copies start
and end their trials together. :class:`TrialEnvRunner` uses that. Per step it makes one batched forward pass of
the RLModule, samples the actions from its action distribution exactly as RLlib's ``GetActions`` connector does, and
steps the vector env (the task's native one, :mod:`rllib_metarl.tasks.vector`). Only when the trial ends does it
build the N ``SingleAgentEpisode`` objects, from arrays. RLlib's generic loop runs its connector pipelines and its
episode bookkeeping per copy and per step instead, several times slower (``benchmarks/throughput.py`` measures both).

The episodes hold what RLlib's loop stores for training: observations, actions, rewards, and per step the action
log-probabilities and distribution inputs and ``weights_seq_no``; of the infos, the reset info and the trial-end info
(which carries ``episode_metrics``), not those of the steps in between. Not the recurrent state of every step
(``state_out``): a trial is one training sequence (``max_seq_len = T + 1``) that starts from the module's initial
state, which is what both learner paths (RLlib's ``AddStatesFromEpisodesToBatch`` when an episode has no
``state_out``, and ``TrialBatch``) give it; and the state of the cores that keep the trial's inputs
(``models.trial_memory``) is T + 1 inputs per step, too much to keep for every step of a long trial.
Callbacks get ``on_episode_created``, ``on_episode_start`` and ``on_episode_end`` (not ``on_episode_step``).
``sample(num_timesteps=n)`` returns whole trials, at least n steps; ``sample(num_episodes=k)`` at least k trials.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import tree  # dm-tree, an RLlib dependency
from gymnasium.wrappers.vector import DictInfoToList
from ray.rllib.callbacks.utils import make_callback
from ray.rllib.core.columns import Columns
from ray.rllib.env.single_agent_env_runner import SingleAgentEnvRunner
from ray.rllib.env.single_agent_episode import SingleAgentEpisode
from ray.rllib.utils.metrics import WEIGHTS_SEQ_NO

from rllib_metarl.models.state import batched_initial_state
from rllib_metarl.tasks.registry import make_agent_vector_env, task_of_env_creator
from rllib_metarl.tasks.vector import copy_info


def copy_slice(outputs: dict[str, Any], copy: int) -> dict[str, Any]:
    """Copy ``copy``'s rows of nested per-step outputs (dicts of (N, T, ...) arrays), like ``tree.map_structure``
    but without its cost per leaf, which dominated building the episodes."""
    return {k: copy_slice(v, copy) if isinstance(v, dict) else v[copy] for k, v in outputs.items()}


class TrialEnvRunner(SingleAgentEnvRunner):
    """``SingleAgentEnvRunner`` that samples whole trials of all env copies at once (see the module docstring)."""

    def make_env(self) -> None:
        """The task's vector env; the runner's index salts the copies' seeds, so runners never share tasks."""
        if self.env is not None:
            self.env.close()
        task, env_config = task_of_env_creator(self.config.env), dict(self.config.env_config)
        vector_env = make_agent_vector_env(
            task, self.config.num_envs_per_env_runner, env_config, seed_salt=self.worker_index or 0
        )
        self.env = DictInfoToList(vector_env)  # RLlib's own code reads per-copy infos
        self.num_envs = self.env.num_envs
        self.trial_length = task.trial_length_of(env_config)  # env steps per trial
        self._needs_initial_reset = True
        make_callback(
            "on_environment_created",
            callbacks_objects=self._callbacks,
            callbacks_functions=self.config.callbacks_on_environment_created,
            kwargs=dict(
                env_runner=self, metrics_logger=self.metrics, env=self.env.unwrapped, env_context=self.config.env_config
            ),
        )

    def make_module(self) -> None:
        super().make_module()
        # Eval mode for good (the module here only infers): RLlib's forward_* would otherwise switch the whole module
        # to eval and back on every call, which cost 11% of sampling.
        if self.module is not None:
            self.module.eval()

    def _sample(
        self,
        *,
        num_timesteps: int | None = None,
        num_episodes: int | None = None,
        explore: bool,
        random_actions: bool = False,
        force_reset: bool = False,
    ) -> list[SingleAgentEpisode]:
        if random_actions:  # RLlib's loop (it needs no RLModule), started on fresh trials
            return super()._sample(num_timesteps=num_timesteps, num_episodes=num_episodes, explore=explore,
                                   random_actions=True, force_reset=True)  # fmt: skip
        trials_per_copy = (
            math.ceil(num_episodes / self.num_envs)
            if num_episodes is not None
            else math.ceil(num_timesteps / (self.num_envs * self.trial_length))
        )
        episodes: list[SingleAgentEpisode] = []
        for _ in range(max(trials_per_copy, 1)):
            episodes += self._sample_trial(explore)
        steps = len(episodes) * self.trial_length
        self._done_episodes_for_metrics.extend(episodes)
        self._log_env_steps(metric=self._metrics_num_env_steps_sampled, num_steps=steps)
        self._increase_sampled_metrics(steps, len(episodes))
        return episodes

    def _sample_trial(self, explore: bool) -> list[SingleAgentEpisode]:
        """One trial in every copy: T batched forward passes and vector steps, then N episodes built from arrays."""
        env = self.env.env  # below RLlib's DictInfoToList: infos stay in vector form, one array per key
        num_envs, trial_length = self.num_envs, self.trial_length
        observations, reset_infos = env.reset(seed=self._seed if self._needs_initial_reset else None)
        self._needs_initial_reset = False

        all_observations = np.empty((num_envs, trial_length + 1, *observations.shape[1:]), dtype=np.float32)
        all_observations[:, 0] = observations
        actions = np.empty((num_envs, trial_length), dtype=np.int64)
        rewards = np.empty((num_envs, trial_length))
        outputs: list[dict[str, Any]] = []
        state = batched_initial_state(self.module, num_envs)
        dist_class = (
            self.module.get_exploration_action_dist_cls() if explore else self.module.get_inference_action_dist_cls()
        )
        with torch.no_grad():
            for t in range(trial_length):
                batch = {Columns.OBS: torch.from_numpy(all_observations[:, t]).unsqueeze(1), Columns.STATE_IN: state}
                out = self.module.forward_exploration(batch) if explore else self.module.forward_inference(batch)
                dist_inputs = out[Columns.ACTION_DIST_INPUTS][:, 0]
                distribution = dist_class.from_logits(dist_inputs)
                if not explore:
                    distribution = distribution.to_deterministic()
                sampled = distribution.sample()
                state = out[Columns.STATE_OUT]
                logp = distribution.logp(sampled)
                outputs.append({Columns.ACTION_DIST_INPUTS: dist_inputs, Columns.ACTION_LOGP: logp})
                actions[:, t] = sampled.numpy()
                observations, rewards[:, t], terminated, truncated, infos = env.step(actions[:, t])
                all_observations[:, t + 1] = observations
                ended = terminated | truncated
                if (ended != (t == trial_length - 1)).any():  # every copy's trial ends at step T, and only there
                    raise RuntimeError(
                        f"{int(ended.sum())} of {num_envs} env copies ended their trial at step {t + 1}, of "
                        f"{trial_length}: TrialEnvRunner needs every trial to last exactly trial_length steps"
                    )
        # (T, N, ...) -> (N, T, ...) numpy per output, then one slice per copy.
        stacked = tree.map_structure(lambda *steps: torch.stack(steps, dim=1).numpy(), *outputs)
        seq_no = np.full(trial_length, self._weights_seq_no)
        episodes = []
        for copy in range(num_envs):
            extra = copy_slice(stacked, copy)
            extra[WEIGHTS_SEQ_NO] = seq_no
            infos_of_copy = [copy_info(reset_infos, copy)] + [{} for _ in range(trial_length - 1)]
            episodes.append(
                SingleAgentEpisode(
                    observations=all_observations[copy],
                    actions=actions[copy],
                    rewards=rewards[copy],
                    infos=[*infos_of_copy, copy_info(infos, copy)],
                    extra_model_outputs=extra,
                    terminated=bool(terminated[copy]),
                    truncated=bool(truncated[copy]),
                    len_lookback_buffer=0,
                )
            )
        for which in ("on_episode_created", "on_episode_start", "on_episode_end"):
            for copy in range(num_envs):
                self._make_on_episode_callback(which, copy, episodes)
        return episodes
