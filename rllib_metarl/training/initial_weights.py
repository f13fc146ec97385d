"""Where a run's weights start: an earlier checkpoint (``--init-from``), checked before Ray starts, or a memory
pretrained on random play (``--pretrain-memory``), kept in the experiment's folder."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import torch

from rllib_metarl.evaluation import saved_module_state
from rllib_metarl.models import WEIGHTS_STARTED_AFRESH
from rllib_metarl.training.command_line import Experiment
from rllib_metarl.training.config import build_rl_module
from rllib_metarl.training.pretraining import pretrain_reward_memory

PRETRAINED_DIR = "pretrained_memory"  # in the experiment's folder: the RLModule that --pretrain-memory trained
PRETRAINING_STATS = "pretraining.json"  # in PRETRAINED_DIR: its seconds, trials and final loss


def check_initial_weights(experiment: Experiment) -> None:
    """Load ``--init-from``'s weights into this experiment's network, here and before Ray starts, so that a checkpoint
    of another task, core or width is named at once (ValueError) rather than inside a Tune trial.

    Every weight must match by name and shape, except that a reward-prediction agent's checkpoint may lack
    ``WEIGHTS_STARTED_AFRESH`` (the policy's weight on its predictions: ``--reward-logits`` sets where it starts).
    RLlib's own restore would skip the names that do not match without a word, half-loading another core.
    """
    module = build_rl_module(experiment.task, experiment.preset, experiment.env_config)
    network = f"this experiment's network ({experiment.task}, {experiment.preset.core} core, width " \
              f"{experiment.preset.lstm_cell_size})"  # fmt: skip
    try:
        saved = {k: torch.as_tensor(v) for k, v in saved_module_state(experiment.init_from).items()}
        missing, unexpected = module.load_state_dict(saved, strict=False)  # a size mismatch still raises
    except Exception as error:  # torch lists the mismatched sizes, one per line; pickle and msgpack fail otherwise
        reason = f"{type(error).__name__}: {str(error).strip().splitlines()[-1][:300]}"
        raise ValueError(f"--init-from {str(experiment.init_from)!r} does not fit {network}: {reason}") from error
    missing = [name for name in missing if name not in WEIGHTS_STARTED_AFRESH]
    if missing or unexpected:
        examples = "; ".join(f"{label}: {len(names)}, e.g. {names[0]!r}"
                             for label, names in (("not in the checkpoint", missing),
                                                  ("not in the network", unexpected)) if names)  # fmt: skip
        raise ValueError(f"--init-from {str(experiment.init_from)!r} does not fit {network}: weights {examples}")


def pretrained(experiment: Experiment) -> Experiment:
    """The experiment, starting from its memory pretrained ``preset.pretrain_memory_s`` (``--pretrain-memory``).

    The pretrained module is written into the experiment's folder, under a temporary name first, so a rerun
    (``--resume``) starts from the same weights instead of pretraining again, and an interrupted pretraining leaves
    nothing that could be taken for a finished one.
    """
    folder = experiment.path / PRETRAINED_DIR  # exists only complete: it is renamed into place at the end
    if not folder.exists():
        seconds, threads = experiment.preset.pretrain_memory_s, torch.get_num_threads()
        print(f"Pretraining the memory for {seconds:.0f} s on random play ...", flush=True)
        torch.set_num_threads(1)  # as a Tune trial's own learner: the pretraining's seconds count alike
        try:
            module = pretrain_reward_memory(experiment.task, experiment.preset, experiment.env_config, seconds,
                                            experiment.seed)  # fmt: skip
        finally:
            torch.set_num_threads(threads)
        partial = folder.with_name(folder.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        module.save_to_path(str(partial))
        (partial / PRETRAINING_STATS).write_text(json.dumps(module.pretraining_stats))
        partial.rename(folder)
    stats = json.loads((folder / PRETRAINING_STATS).read_text())
    print(f"Pretrained memory: {folder} ({stats['pretrain_seconds']:.0f} s, {stats['pretrain_trials']} trials of "
          f"random play, reward-prediction loss {stats['pretrain_loss']:.3f})", flush=True)  # fmt: skip
    return replace(experiment, init_from=folder)
