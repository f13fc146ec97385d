"""How much memory a run would take, from the task's trial sizes and the preset, before anything is built.

A round, generous estimate: a run whose estimate exceeds the machine's memory is refused before Ray starts (it would
otherwise fail inside a Tune trial, three times, or swap the machine to a halt), and one below it is let through.
"""

from __future__ import annotations

import math
import os

from rllib_metarl.tasks.task import TrialSizes
from rllib_metarl.training.presets import Preset

BYTES_PER_FLOAT = 4
# Copies of each sampled observation an iteration holds: the env runner's arrays, RLlib's episodes, the train batch
# and its zero-padded sequences, torch's tensors.
OBSERVATION_COPIES = 16
# Floats per step and core unit kept for the backward pass (gates and states of the policy's and the value's cores).
ACTIVATION_FLOATS = 32
EVALUATION_BATCH = 500  # trials the held-out evaluation plays at once (rllib_metarl.evaluation)
FLOATS_PER_TRIAL_ROW = 64  # the evaluation's table: one row per held-out trial (return, length, the env's metrics)


def run_bytes(sizes: TrialSizes, preset: Preset, eval_trials: int, concurrent_trials: int) -> int:
    """Bytes that ``concurrent_trials`` Tune trials of the preset, then the held-out evaluation, would hold at once."""
    copies = max(preset.num_workers, 1) * preset.envs_per_worker
    steps = copies * preset.trials_per_rollout * sizes.trial_length
    per_step = sizes.observation_size * OBSERVATION_COPIES + preset.lstm_cell_size * ACTIVATION_FLOATS
    training = steps * per_step + copies * sizes.floats_per_copy + sizes.shared_floats
    sequences, length = copies * preset.trials_per_rollout, sizes.trial_length
    if preset.core == "attention":  # every step attends to every earlier one: T x T weights per head and block
        training += sequences * preset.attention_heads * preset.attention_layers * 2 * length**2
    if preset.core == "snail":  # every dense block's input and gates per step, and one T x T attention, actor's and
        # critic's
        layers = 2 * max(1, math.ceil(math.log2(length + 1)))
        channels = sizes.observation_size + layers * preset.snail_filters + preset.snail_key_size
        training += steps * 2 * layers * (channels + 2 * preset.snail_filters) + sequences * 2 * length**2
    batch = min(eval_trials, EVALUATION_BATCH)
    evaluation = batch * (sizes.trial_length * sizes.observation_size * OBSERVATION_COPIES + sizes.floats_per_copy)
    evaluation += eval_trials * FLOATS_PER_TRIAL_ROW
    return BYTES_PER_FLOAT * max(concurrent_trials * training, evaluation + sizes.shared_floats)


def machine_bytes() -> int:
    """This machine's physical memory."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
