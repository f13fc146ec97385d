"""The learner's train batch from whole trials, built with array operations: one learner connector for every algorithm.

Our env runner (:class:`rllib_metarl.training.env_runner.TrialEnvRunner`) hands the learner whole trials, all of one
length T and started at the trial's first step. RLlib's default learner pipeline builds the batch episode by
episode: it extends each episode by one step (the bootstrap step), gathers every column per episode, splits each into
sequences of ``max_seq_len`` and zero-pads them, looks up each sequence's starting recurrent state, batches, converts
to tensors and, for PPO and A2C, computes GAE advantages and value targets. With every trial of length T and
``max_seq_len = T + 1`` (one trial, one sequence), that batch is a [trials, T + 1] layout, and :class:`TrialBatch`
builds it directly:

- every column stacked over the trials, the bootstrap step a copy of the last real one (reward 0, out of the loss
  mask, its observation the trial's last one), ``seq_lens = T + 1``, ``state_in`` the module's initial state;
- for PPO and A2C, the values of all steps in one forward pass, then GAE over the [trials, T + 1] array: each trial's
  real steps by the backward recursion within the trial, and the bootstrap step as RLlib's flat recursion over the
  concatenated trials leaves it (it reaches into the next trial; the loss mask drops it, but it counts in the
  advantages' mean and standard deviation, as in RLlib); advantages standardised over all steps.

It also logs ``value_explained_variance``: how much of the value targets' variance the values explain over every real
step of the batch (CleanRL's ``explained_variance``). RLlib's own ``vf_explained_var`` takes the variance over the
batch axis of a [sequences, steps] batch and reports its first step only, where every trial starts from the same
state and input: for these agents it is always 0.

The batch equals RLlib's, column by column (``tests/algorithms/test_trial_batch.py``). ``batch_path="rllib"`` in a
preset switches back to RLlib's own pipeline, for comparison (``benchmarks/throughput.py`` times both).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import tree  # dm-tree, an RLlib dependency
from ray.rllib.connectors.connector_v2 import ConnectorV2
from ray.rllib.core import DEFAULT_MODULE_ID
from ray.rllib.core.columns import Columns
from ray.rllib.evaluation.postprocessing import Postprocessing

ADVANTAGE_STD_FLOOR = 1e-4  # as RLlib's GeneralAdvantageEstimation: advantages / max(floor, std)
EXPLAINED_VARIANCE_KEY = "value_explained_variance"  # in the learner's results of the module


class TrialBatch(ConnectorV2):
    """Learner connector: the train batch of whole trials of equal length (see the module docstring).

    With ``gamma`` and ``lambda_`` it adds GAE advantages and value targets (PPO, A2C); without, the batch stops
    before them (IMPALA and APPO compute V-trace in their loss).
    """

    def __init__(
        self,
        input_observation_space: Any = None,
        input_action_space: Any = None,
        *,
        gamma: float | None = None,
        lambda_: float | None = None,
    ):
        super().__init__(input_observation_space, input_action_space)
        self.gamma, self.lambda_ = gamma, lambda_

    def __call__(
        self,
        *,
        rl_module: Any,
        batch: dict[str, Any],
        episodes: list[Any],
        shared_data: dict | None = None,
        metrics: Any = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        module = rl_module[DEFAULT_MODULE_ID]
        trial_length = check_whole_trials(episodes, module.model_config["max_seq_len"])
        columns = trial_columns(episodes, trial_length)
        columns[Columns.STATE_IN] = tree.map_structure(
            lambda state: state.unsqueeze(0).expand(len(episodes), *state.shape).clone(), module.get_initial_state()
        )
        if self.gamma is not None:
            with torch.no_grad():
                values = module.compute_values(columns).numpy()
            advantages, value_targets = generalized_advantages(
                values, columns[Columns.REWARDS].numpy(), columns[Columns.TERMINATEDS].numpy(), self.gamma, self.lambda_
            )
            columns[Postprocessing.ADVANTAGES] = torch.from_numpy(advantages)
            columns[Postprocessing.VALUE_TARGETS] = torch.from_numpy(value_targets)
            if metrics is not None:
                real = columns[Columns.LOSS_MASK].numpy()
                explained = explained_variance(value_targets[real], values[real])
                metrics.log_value((DEFAULT_MODULE_ID, EXPLAINED_VARIANCE_KEY), explained, window=1)
        if shared_data is not None:  # as RLlib's pipeline: the learner then slices the batch by sequences
            shared_data[f"_zero_padded_for_mid={DEFAULT_MODULE_ID}"] = True
            shared_data["_added_loss_mask_for_valid_episode_ts"] = True
        batch[DEFAULT_MODULE_ID] = columns
        return batch


def check_whole_trials(episodes: list[Any], max_seq_len: int) -> int:
    """The trials' common length T; a ValueError unless every episode is one whole trial of T steps, T + 1 steps
    fitting one sequence (what TrialEnvRunner samples and the presets configure)."""
    lengths = {len(episode) for episode in episodes}
    if len(lengths) != 1 or any(episode.t_started != 0 for episode in episodes):
        raise ValueError(f"the trial batch needs whole trials of one length, got episode lengths {sorted(lengths)}: "
                         "sample with TrialEnvRunner, or set the preset's batch_path='rllib'")  # fmt: skip
    (trial_length,) = lengths
    if trial_length + 1 != max_seq_len:
        raise ValueError(f"the trial batch needs max_seq_len = trial length + 1 = {trial_length + 1}, got "
                         f"{max_seq_len}: set the preset's batch_path='rllib' for other sequence lengths")  # fmt: skip
    return trial_length


def with_bootstrap_step(steps: np.ndarray, last: np.ndarray | float | None = None) -> np.ndarray:
    """[trials, T, ...] -> [trials, T + 1, ...]: the extra step repeats the last one, or takes ``last``."""
    extra = steps[:, -1:] if last is None else np.full_like(steps[:, -1:], last)
    return np.concatenate([steps, extra], axis=1)


def trial_columns(episodes: list[Any], trial_length: int) -> dict[str, Any]:
    """The batch's columns as tensors, [trials, T + 1, ...] (the bootstrap step last), and seq_lens."""
    num_trials = len(episodes)
    observations = np.stack([episode.get_observations(slice(0, trial_length + 1)) for episode in episodes])
    actions = np.stack([episode.get_actions() for episode in episodes])
    rewards = np.stack([episode.get_rewards() for episode in episodes]).astype(np.float32)
    ends = np.zeros((num_trials, trial_length + 1), dtype=bool)
    terminateds, truncateds = ends.copy(), ends.copy()
    terminateds[:, trial_length - 1] = [episode.is_terminated for episode in episodes]
    # A trial that did not end is cut here: RLlib's pipeline marks it truncated (the value at T bootstraps it).
    truncateds[:, trial_length - 1] = [episode.is_truncated or not episode.is_done for episode in episodes]
    loss_mask = np.ones((num_trials, trial_length + 1), dtype=bool)
    loss_mask[:, trial_length] = False
    columns = {
        Columns.LOSS_MASK: loss_mask,
        Columns.TERMINATEDS: terminateds,
        Columns.TRUNCATEDS: truncateds,
        Columns.OBS: observations.astype(np.float32, copy=False),
        Columns.ACTIONS: with_bootstrap_step(actions),
        Columns.REWARDS: with_bootstrap_step(rewards, last=0.0),
    }
    for column in episodes[0].extra_model_outputs:
        if column != Columns.STATE_OUT:  # sequences start from the initial state (above); RLlib's runner keeps these
            stacked = np.stack([episode.get_extra_model_outputs(column) for episode in episodes])
            columns[column] = with_bootstrap_step(stacked)
    columns = {key: torch.from_numpy(to_torch_dtype(value)) for key, value in columns.items()}
    columns[Columns.SEQ_LENS] = torch.full((num_trials,), trial_length + 1, dtype=torch.int64)
    return columns


def to_torch_dtype(array: np.ndarray) -> np.ndarray:
    """float64 to float32, as RLlib's NumpyToTensor does; contiguous for torch.from_numpy."""
    return np.ascontiguousarray(array, dtype=np.float32 if array.dtype == np.float64 else array.dtype)


def generalized_advantages(
    values: np.ndarray, rewards: np.ndarray, terminateds: np.ndarray, gamma: float, lambda_: float
) -> tuple[np.ndarray, np.ndarray]:
    """(standardised advantages, value targets), float32 [trials, T + 1], equal to RLlib's GeneralAdvantageEstimation
    on the same trials (its flat recursion over the concatenated trials, written over the trial axis at once).

    Real steps t < T: td_t = r_t + gamma (1 - terminated_t) V_{t+1} - V_t, and the advantage A_t = td_t + gamma lambda
    A_{t+1}, cut at the trial's last real step (terminated or truncated). The bootstrap step T of trial i continues
    into trial i + 1 as RLlib's flat recursion does: A_T = 0 + gamma V_0(i + 1) - V_T + gamma lambda A_0(i + 1).
    """
    num_trials, steps = values.shape
    values64, rewards64 = values.astype(np.float64), rewards.astype(np.float64)
    advantages = np.zeros((num_trials, steps))
    running = np.zeros(num_trials)
    for t in reversed(range(steps - 1)):  # the real steps; at T - 1 the trial ends, so nothing runs on from T
        next_values = values64[:, t + 1] * (1.0 - terminateds[:, t])
        td = rewards64[:, t] + gamma * next_values - values64[:, t]
        running = td + (gamma * lambda_ * running if t < steps - 2 else 0.0)
        advantages[:, t] = running
    next_first_values = np.append(values64[1:, 0], 0.0)  # trial i + 1's first value; 0 after the last trial
    next_first_advantages = np.append(advantages[1:, 0], 0.0)
    advantages[:, -1] = (rewards64[:, -1] + gamma * next_first_values - values64[:, -1]
                         + gamma * lambda_ * next_first_advantages)  # fmt: skip
    # In float32 from here, as RLlib: targets = A + V, then A = targets - V standardised over every step.
    value_targets = advantages.astype(np.float32) + values.astype(np.float32)
    centred = (value_targets - values.astype(np.float32)).reshape(-1)
    standardised = (centred - centred.mean()) / max(ADVANTAGE_STD_FLOOR, centred.std())
    return standardised.reshape(num_trials, steps), value_targets


def explained_variance(targets: np.ndarray, values: np.ndarray) -> float:
    """1 - Var(targets - values) / Var(targets) over all entries: 1 for exact values, 0 for a constant guess, NaN
    when the targets do not vary."""
    spread = float(np.var(targets))
    return 1.0 - float(np.var(targets - values)) / spread if spread > 0 else float("nan")
