"""Frozen-weight evaluation of a trained agent on held-out trials of any task (what the originals' test.py did)."""

from __future__ import annotations

import json
import logging
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from rllib_metarl.tasks.registry import get_task, make_agent_vector_env
from rllib_metarl.tasks.vector import copy_info, scalar_info
from rllib_metarl.utils.progress import progress
from rllib_metarl.utils.seeding import HELD_OUT_STREAM, trial_seeds
from rllib_metarl.utils.stats import mean_interval

if TYPE_CHECKING:
    import torch

    from rllib_metarl.baselines.bandits import BanditPolicy

MODULE_SUBDIR = Path("learner_group", "learner", "rl_module", "default_policy")


def module_path(checkpoint: str | Path) -> Path:
    """The RLModule folder inside an algorithm checkpoint (or the folder itself if it already is one)."""
    checkpoint = Path(checkpoint).expanduser()
    if not checkpoint.exists():
        raise FileNotFoundError(f"checkpoint {str(checkpoint)!r} does not exist")
    for candidate in (checkpoint / MODULE_SUBDIR, checkpoint):
        if (candidate / "module_state.pt").exists() or (candidate / "module_state.pkl").exists():
            return candidate
    raise FileNotFoundError(
        f"{str(checkpoint)!r} is not an RLlib algorithm checkpoint: no {MODULE_SUBDIR}/module_state.* inside"
    )


class WeightsUnpickler(pickle.Unpickler):
    """Unpickles weights and nothing else: numpy arrays in dicts and lists. Any other class in the file (a crafted
    checkpoint's payload) is refused instead of imported and run."""

    ALLOWED = {
        ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"), ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"), ("collections", "OrderedDict"),
    }  # fmt: skip

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"a weights file may hold arrays only, not {module}.{name}")
        return super().find_class(module, name)


def saved_module_state(module_folder: str | Path) -> dict[str, Any]:
    """The weights an RLModule checkpoint folder holds, by name: msgpack as RLlib's own restore reads it, or a pickle
    read by :class:`WeightsUnpickler`, which runs no code from the file."""
    state_file = Path(module_folder) / "module_state"
    if state_file.with_suffix(".msgpack").is_file():
        from ray.rllib.utils.checkpoints import try_import_msgpack

        msgpack = try_import_msgpack(error=True)
        return msgpack.unpackb(state_file.with_suffix(".msgpack").read_bytes(), strict_map_key=False)
    with state_file.with_suffix(".pkl").open("rb") as file:
        return WeightsUnpickler(file).load()


def training_env_of(checkpoint: str | Path) -> tuple[str, dict[str, Any]] | None:
    """(task name, env_config) a Tune trial was trained on, read from the trial's params.json; None if unknown."""
    params_file = Path(checkpoint).expanduser().resolve().parent / "params.json"
    if not params_file.exists():
        return None
    params = json.loads(params_file.read_text())
    env = params.get("env", "")
    prefix = "rllib_metarl/"
    if not isinstance(env, str) or not env.startswith(prefix):
        return None
    return env[len(prefix) :], dict(params.get("env_config") or {})


def load_module(checkpoint: str | Path) -> Any:
    """The trained RLModule, frozen (eval mode, no gradients needed)."""
    from ray.rllib.core.rl_module.rl_module import RLModule

    folder = module_path(checkpoint)
    # RLlib's own checkpoint loader trips its deprecation warning about RLModuleConfig; nothing for users to act on.
    rl_module_logger = logging.getLogger("ray.rllib.core.rl_module.rl_module")
    level = rl_module_logger.level
    rl_module_logger.setLevel(logging.ERROR)
    try:
        module = RLModule.from_checkpoint(folder)
    except Exception as error:  # torch, pickle and msgpack each fail in their own way on a damaged file
        reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        raise ValueError(f"checkpoint {str(checkpoint)!r} cannot be loaded ({reason[:200]})") from error
    finally:
        rl_module_logger.setLevel(level)
    module.eval()
    return module


def evaluate_module(
    module: Any,
    task_name: str,
    env_config: dict[str, Any] | None = None,
    num_trials: int = 1000,
    seed: int = 0,
    explore: bool = False,
    batch_size: int = 500,
    *,
    stream: int = HELD_OUT_STREAM,
) -> pd.DataFrame:
    """Play ``num_trials`` held-out trials with frozen weights; one row per trial.

    Trial i starts from ``trial_seeds(num_trials, seed, stream)[i]``, as in the baselines' play (another ``stream``,
    e.g. ``TUNING_STREAM``, gives trials disjoint from the held-out ones). Columns: ``trial``,
    ``return``, ``length``, plus the env's per-trial metrics (``regret``, ``optimal_action_rate``, ...).
    ``explore=False`` takes the most probable action (RLlib's ``explore=False``);
    ``explore=True`` samples from the policy. The LSTM state is carried through each trial and reset between them.
    """
    trials, _ = play_module(
        module, task_name, env_config, num_trials, seed, explore, batch_size, record_steps=False, stream=stream
    )
    return trials


def play_module(
    module: Any,
    task_name: str,
    env_config: dict[str, Any] | None = None,
    num_trials: int = 1000,
    seed: int = 0,
    explore: bool = False,
    batch_size: int = 500,
    record_steps: bool = True,
    *,
    stream: int = HELD_OUT_STREAM,
    record_memory: bool = False,
    driver: BanditPolicy | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`evaluate_module`'s trials, plus one row per step for behavioural analyses (empty unless
    ``record_steps``): ``trial``, ``step``, ``action``, ``reward`` and every scalar the env put in ``info``
    (the two-step task's ``common`` and ``rewarded``, a bandit's running ``regret``, Harlow's ``correct``, ...).
    With ``record_memory`` each row also holds ``memory``: the policy's recurrent state from which it chose the step's
    action (:func:`~rllib_metarl.models.state.policy_memory`, float32), for probes of what the core remembers.
    With a ``driver`` (a bandit baseline) the driver chooses every action and the agent's core reads the trial as it
    goes: what the agent's memory makes of another player's trials. The draws of ``explore=True`` and the driver's
    (its tie-breaks) come from generators of their own, seeded by each batch's first seed: the process's global
    random state is left as it was, so that a run that evaluates between training iterations trains as one that
    does not.
    """
    import torch

    all_seeds = trial_seeds(num_trials, seed, stream)  # the same trials as the baselines' (rllib_metarl.baselines.play)
    trials: list[dict[str, Any]] = []
    steps: list[dict[str, Any]] | None = [] if record_steps else None
    with torch.no_grad(), progress(num_trials, f"{get_task(task_name).name}, frozen weights") as bar:
        for start in range(0, num_trials, batch_size):
            count = min(batch_size, num_trials - start)
            envs = make_agent_vector_env(task_name, count, env_config)
            _check_compatible(module, envs)
            seeds = all_seeds[start : start + count]
            generator = torch.Generator().manual_seed(int(seeds[0]))
            if driver is not None:
                trial_length = get_task(task_name).trial_length_of(env_config)
                driver.reset(count, envs.single_action_space.n, trial_length, np.random.default_rng(int(seeds[0])))
            trials += _play_batch(module, envs, seeds, explore, first_trial=start, steps=steps, generator=generator,
                                  memory=record_memory, driver=driver)  # fmt: skip
            bar.update(count)
    return pd.DataFrame(trials), pd.DataFrame(steps or [])


def _check_compatible(module: Any, envs: Any) -> None:
    obs_space, act_space = module.observation_space, module.action_space
    env_obs_space, env_act_space = envs.single_observation_space, envs.single_action_space
    if obs_space is not None and obs_space.shape != env_obs_space.shape:
        raise ValueError(
            f"the agent takes observations of shape {obs_space.shape}, the task gives {env_obs_space.shape}: "
            "evaluate on a task with the same number of actions and the same reward encoding"
        )
    if act_space is not None and act_space.n != env_act_space.n:
        raise ValueError(f"the agent has {act_space.n} actions, the task has {env_act_space.n}")


def _play_batch(
    module: Any,
    envs: Any,
    seeds: np.ndarray,
    explore: bool,
    first_trial: int,
    steps: list[dict[str, Any]] | None,
    generator: torch.Generator,
    memory: bool = False,
    driver: BanditPolicy | None = None,
) -> list[dict[str, Any]]:
    """One trial in each copy of the vector env ``envs``, copy i reset with ``seeds[i]``; with ``memory`` each step's
    record holds the policy's state after reading the step's input; with a ``driver`` (reset for this batch) the
    driver chooses the actions; ``explore`` samples them with ``generator`` (never the global one)."""
    import torch
    from ray.rllib.core.columns import Columns

    from rllib_metarl.models.state import batched_initial_state, policy_memory

    count = envs.num_envs
    observations, _ = envs.reset(seed=[int(s) for s in seeds])
    state = batched_initial_state(module, count)
    returns = np.zeros(count)
    lengths = np.zeros(count, dtype=int)
    final_infos: list[dict] = [{} for _ in range(count)]
    active = np.ones(count, dtype=bool)
    while active.any():
        batch = {Columns.OBS: torch.as_tensor(observations).unsqueeze(1), Columns.STATE_IN: state}
        out = module.forward_inference(batch)
        logits = out[Columns.ACTION_DIST_INPUTS][:, 0]
        if driver is not None:
            actions = driver.act()
        elif explore:
            probabilities = torch.distributions.Categorical(logits=logits).probs  # as Categorical.sample() draws
            actions = torch.multinomial(probabilities, 1, True, generator=generator)[:, 0].numpy()
        else:
            actions = logits.argmax(-1).numpy()
        state = out[Columns.STATE_OUT]
        memories = policy_memory(state).astype(np.float32) if memory else None
        observations, rewards, terminated, truncated, infos = envs.step(actions)
        if driver is not None:
            driver.update(actions, rewards)
        for i in np.flatnonzero(active):  # a copy that ended is restarted by the vector env: ignore it from then on
            if steps is not None:
                steps.append({"trial": first_trial + i, "step": int(lengths[i]), "action": int(actions[i]),
                              "reward": float(rewards[i]), **scalar_info(copy_info(infos, i)),
                              **({"memory": memories[i]} if memory else {})})  # fmt: skip
        returns[active] += rewards[active]
        lengths[active] += 1
        for i in np.flatnonzero(active & (terminated | truncated)):
            final_infos[i] = copy_info(infos, i)
        active &= ~(terminated | truncated)
    return [
        {
            "trial": first_trial + i,
            "return": returns[i],
            "length": int(lengths[i]),
            **{k: float(v) for k, v in final_infos[i].get("episode_metrics", {}).items()},
        }
        for i in range(count)
    ]


def summarize(trials: pd.DataFrame, task_name: str, env_config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Mean return with a 95% interval (normal approximation), next to the task's optimum and random figures."""
    task = get_task(task_name)
    kwargs = task.env_kwargs(env_config)
    interval = mean_interval(trials["return"])
    summary: dict[str, Any] = {
        "task": task_name,
        "trials": len(trials),
        "mean_return": interval["mean"],
        "ci95_low": interval["ci95_low"],
        "ci95_high": interval["ci95_high"],
        "optimal_return": task.optimal_return(kwargs) if task.optimal_return else float("nan"),
        "random_return": task.random_return(kwargs) if task.random_return else float("nan"),
    }
    summary["fraction_of_optimum"] = summary["mean_return"] / summary["optimal_return"]
    for column in trials.columns.drop(["trial", "return", "length"], errors="ignore"):
        summary[f"mean_{column}"] = float(trials[column].mean())
    return summary


def evaluate_checkpoint(
    checkpoint: str | Path,
    task_name: str | None = None,
    env_config: dict[str, Any] | None = None,
    num_trials: int = 1000,
    seed: int = 0,
    explore: bool = False,
    *,
    stream: int = HELD_OUT_STREAM,
) -> pd.DataFrame:
    """Evaluate a checkpoint with frozen weights on ``num_trials`` held-out trials (``stream``: see
    :func:`evaluate_module`); one row per trial.

    ``task_name``/``env_config`` default to what the checkpoint's Tune trial trained on, so ``task_name`` is only
    needed to test on another task (e.g. train on ``dependent_easy``, test on ``dependent_medium``).
    """
    task_name, env_config = resolve_task(checkpoint, task_name, env_config)
    return evaluate_module(load_module(checkpoint), task_name, env_config, num_trials, seed, explore, stream=stream)


def resolve_task(
    checkpoint: str | Path, task_name: str | None = None, env_config: dict[str, Any] | None = None
) -> tuple[str, dict[str, Any]]:
    """The task and env_config to evaluate on: the given ones, else those the checkpoint was trained on."""
    module_path(checkpoint)  # a missing or wrong folder fails here, with its name
    if task_name is None:
        trained_on = training_env_of(checkpoint)
        if trained_on is None:
            raise ValueError(f"cannot tell which task {str(checkpoint)!r} was trained on: pass the task name")
        task_name, trained_config = trained_on
        env_config = trained_config if env_config is None else env_config
    get_task(task_name).make(**(env_config or {}))  # bad names and values fail here, before the module loads
    return task_name, dict(env_config or {})
