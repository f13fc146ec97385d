"""What a trained agent is, read from its experiment's settings: the recipe results name it by, and whether it is
RL^2.

"RL^2" is a memory core (any of the plugin's) trained by RL alone on the action-reward-timestep inputs, from random
weights. Anything more makes an agent a "Best agent" entry with its recipe spelled out: the trial-statistics inputs,
the reward-prediction loss and a policy that reads its head, supervised memory pretraining, a curriculum, or a start
from another agent's weights (a pretrained agent).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rllib_metarl.tasks import make_agent_env
from rllib_metarl.training.experiment_folder import SETTINGS_FILE
from rllib_metarl.wrappers import action_layout

RL2 = "RL^2"
BEST = "Best agent"


@dataclass(frozen=True)
class Recipe:
    """How an agent was trained: in words, and whether that is RL^2."""

    text: str
    rl2: bool


def recipe_of(settings: dict[str, Any]) -> Recipe:
    """The recipe of an experiment from its ``experiment.json`` settings (training.experiment_folder)."""
    preset = settings.get("preset", {})
    text = f"{preset.get('algo', 'ppo').upper()} + {preset.get('core', 'lstm').upper()}"
    # The heads are the architecture, like the core: an agent with other heads is still RL^2, named so.
    heads = [f"{'-'.join(map(str, preset['head_hiddens']))}-unit heads"] if preset.get("head_hiddens") else []
    if preset.get("core") == "per_action":  # a memory laid out by the task, named where the agent is
        heads.insert(0, f"a memory row per {_rows_of(settings)}, scored by one head shared by all actions")
    heads += ["heads read the input"] if preset.get("heads_read_input") else []
    if heads:
        text += f" ({', '.join(heads)})"
    extras = []
    env_config = settings.get("env_config", {})
    if env_config.get("trial_statistics"):
        uncertain = env_config.get("statistics_uncertainty")
        extras.append("trial-statistics inputs" + (" with visit uncertainty" if uncertain else ""))
    if preset.get("statistics_head"):
        extras.append("per-action statistics head")
    if preset.get("reward_prediction_coeff"):
        extras.append(f"reward-prediction loss (weight {preset['reward_prediction_coeff']:g})")
    if preset.get("reward_logits_weight"):
        extras.append(f"policy reads the reward head (from {preset['reward_logits_weight']:g})")
    if preset.get("pretrain_memory_s"):
        extras.append(f"{preset['pretrain_memory_s']:g} s of supervised memory pretraining")
    if preset.get("curriculum"):
        budgets = ", ".join(str(seconds) for seconds in preset.get("curriculum_stage_s") or ())
        extras.append(f"curriculum {preset['curriculum']}" + (f" ({budgets} s)" if budgets else ""))
    if settings.get("init_from"):
        extras.append(f"started from {_agent_name(settings['init_from'])}")
    return Recipe(", ".join([text, *extras]), rl2=not extras)


def _rows_of(settings: dict[str, Any]) -> str:
    """What the per-action core keys its rows by on the experiment's task: the action, or the state and action."""
    if "task" not in settings:
        return "action"
    _, _, states = action_layout(make_agent_env(settings["task"], settings.get("env_config", {})))
    return "(state, action)" if states > 1 else "action"


def _agent_name(init_from: str) -> str:
    """The experiment whose checkpoint ``init_from`` (an RLModule folder inside a checkpoint) belongs to."""
    for parent in Path(init_from).parents:
        if (parent / SETTINGS_FILE).exists():
            return f"the agent of {parent.name}"
    return f"the checkpoint {init_from}"
