"""Training presets, one per task: hyperparameters and budget of each task's default experiment.

A preset is checked as a whole by :func:`get_preset` before Ray starts, and
:func:`rllib_metarl.training.config.algorithm_config` turns it into an RLlib config. How the presets' values were
chosen is in ``docs/training.md``; their measured results are in ``docs/results/``.
"""

from __future__ import annotations

import ast
import dataclasses
import math
from dataclasses import dataclass, field, replace
from typing import Any

from rllib_metarl.algorithms import ALGORITHMS, BATCH_PATHS
from rllib_metarl.models import ATTENTION_WINDOWS, CORES, CORES_WITHOUT_TOKENIZER
from rllib_metarl.tasks import get_task

USES_OF_THE_REWARD_HEAD = ("reward_logits_weight", "pretrain_memory_s")  # need reward_prediction_coeff > 0


@dataclass(frozen=True)
class Preset:
    """Hyperparameters and budget of one task's default experiment."""

    lr: float = 1e-3
    # With both set, the learning rate falls linearly from ``lr`` to ``lr_final`` over the first ``lr_decay_steps``
    # sampled env steps, then stays there (RLlib's piecewise schedule over the run's sampled steps).
    lr_final: float | None = None
    lr_decay_steps: int | None = None
    gamma: float = 0.9
    lambda_: float = 0.95
    entropy_coeff: float = 0.01
    # With both set, the entropy bonus falls linearly from ``entropy_coeff`` to ``entropy_final`` over the first
    # ``entropy_decay_steps`` sampled env steps, then stays there: late in a run the policy's own scores, not the
    # bonus's randomness, have to do the exploring.
    entropy_final: float | None = None
    entropy_decay_steps: int | None = None
    vf_loss_coeff: float = 0.5
    # PPO only: weight of the reward-prediction auxiliary loss on the memory core (models.reward_prediction); 0: none.
    reward_prediction_coeff: float = 0.0
    # With reward prediction: the policy's logits add the predicted rewards times a learned weight starting here.
    reward_logits_weight: float = 0.0
    # PPO with trial-statistics inputs only: the policy adds a per-action score from each action's statistics, one
    # MLP shared by all actions (models.statistics_head).
    statistics_head: bool = False
    # With reward prediction: seconds of supervised training of the memory and reward head on random play before the
    # RL run (rllib_metarl.training.pretraining); 0: none. Part of the training budget, like stop_time_s.
    pretrain_memory_s: float = 0.0
    # RLlib clips each squared value error at 10, which stops the value net learning returns far from 0 (a 100-step
    # trial's discounted return at gamma 0.99 is ~60): such tasks lift the clip.
    vf_clip_param: float = 10.0
    num_epochs: int = 6
    algo: str = "ppo"
    batch_path: str = "trial"  # the learner's train batch: "trial" (array operations) or "rllib" (RLlib's pipeline)
    core: str = "lstm"  # memory core; its width is lstm_cell_size whatever the core
    attention_layers: int = 2
    attention_heads: int = 2
    attention_window: int = 1  # steps per attention token (2: each step with the one before; models.py)
    snail_filters: int = 32  # SNAIL: filters of each dense block (the paper's D)
    snail_key_size: int = 32  # SNAIL: the attention block's key and value size (the paper's K and V)
    lstm_cell_size: int = 48
    # MLP before the core (RLlib's default is [256, 256]); the attention and SNAIL cores may have none: ().
    tokenizer_hiddens: tuple[int, ...] = (64,)
    vf_share_layers: bool = False
    # The policy and value heads: hidden layers (RLlib's default: none, a linear head), and whether they read the
    # step's input beside the core's output (models.input_skip).
    head_hiddens: tuple[int, ...] = ()
    heads_read_input: bool = False
    envs_per_worker: int = 64
    trials_per_rollout: int = 4  # trials each env copy plays per iteration
    minibatches: int = 5
    num_workers: int = 0  # remote env runners per Tune trial; 0 samples in the trial's own process
    num_samples: int = 2  # Tune trials (seeds seed, seed+1, ...)
    stop_time_s: float = 240.0
    # Train in stages over a task parameter, "PARAMETER=V1,V2,..." ("n": the trial size), each stage starting from the
    # stage before's best weights, with curriculum_stage_s seconds each (default: stop_time_s); training.curriculum.
    curriculum: str = ""
    curriculum_stage_s: tuple[int, ...] = ()
    stop_return: float | None = None
    stop_iters: int | None = None
    grace_period_s: float = 60.0  # ASHA: meta-RL returns stay flat for a while first
    checkpoint_every: int = 20  # iterations
    # Tasks with held-out overrides (Harlow's test objects) are also evaluated during training, greedily, every
    # ``evaluation_every`` iterations on ``evaluation_trials`` trials: the "over training" curves of the analyses.
    evaluation_every: int = 10
    evaluation_trials: int = 200
    # Settings that hold for one algorithm or one memory core only, e.g. ``{"impala": {"entropy_coeff": 0.15}}``:
    # they apply when that algorithm or core is chosen, and an explicit override (a flag) wins over them.
    by_algo: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_core: dict[str, dict[str, Any]] = field(default_factory=dict)


PRESET_FIELDS = frozenset(f.name for f in dataclasses.fields(Preset))
_FIELD_TYPES = {f.name: str(f.type) for f in dataclasses.fields(Preset)}
_TRUE, _FALSE = ("true", "yes", "1"), ("false", "no", "0")


def parse_field(name: str, text: str) -> Any:
    """The value of preset field ``name`` written as ``text`` (``--set FIELD=VALUE``), typed as the field is.

    Numbers must be finite; ``none`` clears a field that may be unset; a tuple is a comma-separated list (empty: none);
    ``by_algo`` and ``by_core`` are Python dict literals. A ValueError names the field and what it takes.
    """
    if name not in PRESET_FIELDS:
        raise ValueError(f"unknown preset field {name!r}; allowed: {', '.join(sorted(PRESET_FIELDS))}")
    kind = _FIELD_TYPES[name]
    if kind.endswith("| None") and text.strip().lower() == "none":
        return None
    base = kind.removesuffix(" | None")
    try:
        if base == "bool":
            if text.lower() not in _TRUE + _FALSE:
                raise ValueError
            return text.lower() in _TRUE
        if base in ("int", "float"):
            value = int(text) if base == "int" else float(text)
            if not math.isfinite(value):
                raise ValueError
            return value
        if base == "tuple[int, ...]":
            return tuple(int(part) for part in text.replace("(", "").replace(")", "").split(",") if part.strip())
        if base.startswith("dict"):
            value = ast.literal_eval(text)
            if not isinstance(value, dict):
                raise ValueError
            return value
        return text
    except (ValueError, SyntaxError):
        wanted = {"bool": "true or false", "int": "an integer", "float": "a finite number",
                  "tuple[int, ...]": "comma-separated integers, e.g. 64,64"}.get(base, "a dict literal")  # fmt: skip
        wanted += " or none" if base != kind else ""
        raise ValueError(f"preset field {name} takes {wanted}, got {text!r}") from None


# Where each numeric field may lie: (lowest, highest, whether the lowest itself is allowed).
FIELD_RANGES: dict[str, tuple[float, float, bool]] = {
    **dict.fromkeys(("lr", "lr_final", "stop_time_s", "grace_period_s", "vf_clip_param"), (0.0, math.inf, False)),
    **dict.fromkeys(
        (
            "entropy_coeff",
            "entropy_final",
            "vf_loss_coeff",
            "reward_prediction_coeff",
            "reward_logits_weight",
            "pretrain_memory_s",
        ),
        (0.0, math.inf, True),
    ),  # fmt: skip
    **dict.fromkeys(
        (
            "num_epochs",
            "envs_per_worker",
            "trials_per_rollout",
            "minibatches",
            "num_samples",
            "lstm_cell_size",
            "attention_layers",
            "attention_heads",
            "snail_filters",
            "snail_key_size",
            "checkpoint_every",
            "evaluation_every",
            "evaluation_trials",
            "stop_iters",
            "lr_decay_steps",
            "entropy_decay_steps",
        ),
        (1, math.inf, True),
    ),  # fmt: skip
    "num_workers": (0, math.inf, True),
    "gamma": (0.0, 1.0, False),
    "lambda_": (0.0, 1.0, True),
}


def check_ranges(preset: Preset) -> None:
    """A ValueError naming the first numeric field that is not a finite number in its range (None: unset)."""
    for name, (low, high, low_allowed) in FIELD_RANGES.items():
        value = getattr(preset, name)
        if value is None and _FIELD_TYPES[name].endswith("| None"):
            continue
        number = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if not number or not (low < value <= high or (low_allowed and value == low)):
            interval = f"{'[' if low_allowed else '('}{low:g}, {high:g}{')' if high == math.inf else ']'}"
            raise ValueError(f"preset field {name} must be a finite number in {interval}, got {value!r}")
        if _FIELD_TYPES[name].startswith("int") and not isinstance(value, int):
            raise ValueError(f"preset field {name} must be an integer, got {value!r}")


def get_preset(task_name: str, **overrides: Any) -> Preset:
    """The task's preset (``Task.preset`` over the defaults) with ``overrides`` applied, then the settings of the
    chosen algorithm and core (``by_algo``, ``by_core``) that ``overrides`` does not set; checked as a whole."""
    task = get_task(task_name)
    unknown = sorted(set(task.preset) - PRESET_FIELDS) or sorted(set(overrides) - PRESET_FIELDS)
    if unknown:
        raise ValueError(f"unknown preset field {unknown[0]!r}; allowed: {', '.join(sorted(PRESET_FIELDS))}")
    preset = replace(Preset(), **{**task.preset, **overrides})
    if preset.algo not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {preset.algo!r}; allowed: {', '.join(ALGORITHMS)}")
    if preset.core not in CORES:
        raise ValueError(f"unknown core {preset.core!r}; allowed: {', '.join(CORES)}")
    if preset.batch_path not in BATCH_PATHS:
        raise ValueError(f"unknown batch_path {preset.batch_path!r}; allowed: {', '.join(BATCH_PATHS)}")
    own_settings = {**preset.by_algo.get(preset.algo, {}), **preset.by_core.get(preset.core, {})}
    if overrides.get("reward_prediction_coeff") == 0:  # switched off: so are the preset's uses of the reward head
        own_settings = {k: v for k, v in own_settings.items() if k not in USES_OF_THE_REWARD_HEAD}
    preset = replace(preset, **{k: v for k, v in own_settings.items() if k not in overrides})
    check_ranges(preset)
    if preset.core != "attention" and preset.attention_window != 1:
        raise ValueError(f"only the attention core reads several steps per token, got core={preset.core!r} with "
                         f"attention_window={preset.attention_window!r}")  # fmt: skip
    if preset.core not in CORES_WITHOUT_TOKENIZER and not preset.tokenizer_hiddens:
        raise ValueError(f"only the {' and '.join(CORES_WITHOUT_TOKENIZER)} cores may have no tokenizer, got "
                         f"core={preset.core!r} with tokenizer_hiddens=()")  # fmt: skip
    if preset.statistics_head and (preset.algo != "ppo" or preset.reward_prediction_coeff):
        raise ValueError(f"statistics_head needs algo='ppo' and no reward prediction, got algo={preset.algo!r} and "
                         f"reward_prediction_coeff={preset.reward_prediction_coeff!r}")  # fmt: skip
    if preset.core == "per_action" and (
        preset.algo != "ppo" or preset.reward_prediction_coeff or preset.statistics_head or preset.heads_read_input
    ):
        raise ValueError(
            f"the per_action core comes with its own PPO head: it needs algo='ppo', no reward prediction, "
            f"no statistics_head and no heads_read_input, got algo={preset.algo!r}, "
            f"reward_prediction_coeff={preset.reward_prediction_coeff!r}, "
            f"statistics_head={preset.statistics_head!r}, heads_read_input={preset.heads_read_input!r}"
        )
    if preset.heads_read_input and (preset.statistics_head or preset.reward_prediction_coeff):
        raise ValueError("heads_read_input needs no statistics head and no reward prediction (they read the core's "
                         f"output alone), got statistics_head={preset.statistics_head!r} and "
                         f"reward_prediction_coeff={preset.reward_prediction_coeff!r}")  # fmt: skip
    for name in ("tokenizer_hiddens", "head_hiddens"):
        if any(width < 1 for width in getattr(preset, name)):
            raise ValueError(f"{name} takes positive layer widths, got {getattr(preset, name)!r}")
    if preset.reward_prediction_coeff and preset.algo != "ppo":
        raise ValueError(
            f"reward_prediction_coeff {preset.reward_prediction_coeff!r} needs algo='ppo', got algo={preset.algo!r}"
        )
    if preset.pretrain_memory_s and not preset.reward_prediction_coeff:
        raise ValueError(
            f"pretrain_memory_s {preset.pretrain_memory_s!r} trains the reward-prediction head: it needs "
            "reward_prediction_coeff > 0"
        )
    if preset.reward_logits_weight and not preset.reward_prediction_coeff:
        raise ValueError(
            f"reward_logits_weight {preset.reward_logits_weight!r} reads the reward-prediction head: it needs "
            "reward_prediction_coeff > 0"
        )
    if preset.attention_window not in ATTENTION_WINDOWS:
        raise ValueError(f"attention_window must be one of {ATTENTION_WINDOWS}, got {preset.attention_window!r}")
    for decayed, name in (("lr", "a learning-rate"), ("entropy", "an entropy")):
        final, steps = getattr(preset, f"{decayed}_final"), getattr(preset, f"{decayed}_decay_steps")
        if (final is None) != (steps is None):
            raise ValueError(
                f"{name} decay needs both {decayed}_final and {decayed}_decay_steps, got {decayed}_final={final!r} "
                f"and {decayed}_decay_steps={steps!r}"
            )
    return preset
