"""Curricula: one experiment trained in stages over a task parameter, each stage starting from the best weights of the
stage before (e.g. n = 10, 100, 500 pulls, or n = 10, 25, 50 inner episodes).

    python tune_configs/rl2_bandits.py --k 50 --set curriculum=n=10,100,500 --set curriculum_stage_s=300,600,900

The preset's ``curriculum`` field declares the stages as ``PARAMETER=V1,V2,...`` (a parameter of the task; ``n`` names
its trial size, as the command line's ``-n`` does), and ``curriculum_stage_s`` the seconds of training of each
(default: ``stop_time_s`` for every stage). The experiment's folder holds one folder per stage,
``stage-1-trial_length=10``, ..., each a whole experiment (Tune results, checkpoints, held-out evaluation on that
stage's task, ``summary.csv``); the curriculum's own ``summary.csv`` is its last stage's, with the stages listed and the
training time of all of them. A rerun of the same command skips the stages that have a summary and resumes the one
that was interrupted. An agent trained so is not RL^2: the results name its curriculum.

A stage starts from the weights of the stage before, so every stage must keep the agent's network: the same
observation and action spaces (a curriculum over the number of arms would change both, and is refused before
anything starts), and for the SNAIL core the same number of dense blocks (``ceil(log2(T + 1))`` per TC block).
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, replace
from typing import Any

from rllib_metarl.tasks.task import Task
from rllib_metarl.training.presets import Preset


@dataclass(frozen=True)
class Stage:
    """One stage: the task parameter's value and the seconds of training."""

    parameter: str
    value: Any
    budget_s: float

    @property
    def name(self) -> str:
        return f"{self.parameter}={self.value}"


def curriculum_stages(task: Task, preset: Preset) -> list[Stage]:
    """The preset's stages (none without a curriculum); a ValueError names a bad declaration."""
    if not preset.curriculum:
        if preset.curriculum_stage_s:
            raise ValueError("curriculum_stage_s needs a curriculum: give curriculum=PARAMETER=V1,V2,...")
        return []
    parameter, sep, values_text = preset.curriculum.partition("=")
    parameter = task.trial_size_parameter if parameter.strip() == "n" else parameter.strip()
    if not sep or not values_text.strip():
        raise ValueError(f"curriculum takes PARAMETER=V1,V2,... (e.g. n=10,100,500), got {preset.curriculum!r}")
    if not task.accepts(parameter):
        raise ValueError(f"curriculum: task {task.name!r} has no parameter {parameter!r}")
    values = [_value(text) for text in values_text.split(",")]
    if len(values) < 2:
        raise ValueError(f"a curriculum has at least 2 stages, got {preset.curriculum!r}")
    budgets = preset.curriculum_stage_s or (preset.stop_time_s,) * len(values)
    if len(budgets) != len(values):
        raise ValueError(f"curriculum_stage_s gives {len(budgets)} budgets for {len(values)} stages of "
                         f"{preset.curriculum!r}")  # fmt: skip
    if min(budgets) <= 0:
        raise ValueError(f"curriculum_stage_s must be positive seconds, got {tuple(budgets)}")
    return [Stage(parameter, value, float(budget)) for value, budget in zip(values, budgets, strict=True)]


def check_same_network(stages: list[Stage], spaces: list[tuple[Any, Any]], trial_lengths: list[int],
                       core: str) -> None:  # fmt: skip
    """A ValueError naming the first stage whose network would differ from the first stage's: other observation or
    action spaces (``spaces``: each stage's agent env's), or for SNAIL another depth."""
    for stage, (observation_space, action_space), length in zip(stages[1:], spaces[1:], trial_lengths[1:], strict=True):
        if (observation_space.shape, action_space) != (spaces[0][0].shape, spaces[0][1]):
            raise ValueError(
                f"curriculum stage {stage.name} changes the agent's inputs or actions ({spaces[0][0].shape[0]} inputs, "
                f"{spaces[0][1]} -> {observation_space.shape[0]} inputs, {action_space}); a stage starts from the "
                "stage before's weights, so every stage must keep them (vary n, the trial size)"
            )
        if core == "snail" and _snail_depth(length) != _snail_depth(trial_lengths[0]):
            raise ValueError(f"curriculum stage {stage.name}: SNAIL's depth grows with the trial length "
                             f"({_snail_depth(trial_lengths[0])} -> {_snail_depth(length)} dense blocks per TC block), "
                             "so its weights cannot carry over; use another core")  # fmt: skip


def _snail_depth(trial_length: int) -> int:
    return max(1, math.ceil(math.log2(trial_length + 1)))


def _value(text: str) -> Any:
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return text.strip()  # a plain string such as difficulty=easy


def stage_settings(
    stage: Stage, index: int, env_config: dict[str, Any], preset: Preset
) -> tuple[str, dict[str, Any], Preset]:
    """Stage ``index``'s (from 0) folder name, task parameters and preset: the curriculum's own, with the stage's
    value and budget; only the first stage pretrains (the later ones start from the stage before)."""
    stage_preset = replace(
        preset,
        curriculum="",
        curriculum_stage_s=(),
        stop_time_s=stage.budget_s,
        pretrain_memory_s=preset.pretrain_memory_s if index == 0 else 0.0,
    )
    return f"stage-{index + 1}-{stage.name}", {**env_config, stage.parameter: stage.value}, stage_preset


def describe(stages: list[Stage]) -> str:
    """The stages in words: ``num_arms = 5, 10, 50 (300, 600, 900 s)``."""
    values = ", ".join(str(stage.value) for stage in stages)
    budgets = ", ".join(f"{stage.budget_s:g}" for stage in stages)
    return f"{stages[0].parameter} = {values} ({budgets} s)"
