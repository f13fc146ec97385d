"""Load a Tune experiment folder into pandas: per-trial histories and a one-row-per-trial summary.

Reads each trial's ``result.json`` (one JSON line per iteration) rather than ``progress.csv``: the CSV fixes its
columns at the first result, so a metric first reported later (``target_after_informative``) would be lost.

    from rllib_metarl.analysis.load import load_experiment
    experiment = load_experiment("~/ray_results/eleven_arm-20261122-101500")
    experiment.histories.groupby("seed")["return"].max()
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from rllib_metarl.training.metrics import METRICS_GROUP

TASK_PREFIX = "rllib_metarl/"
META_PREFIX = f"env_runners/{METRICS_GROUP}/"  # the per-trial figures the envs report
# The same figures from the periodic held-out evaluation (tasks with held-out overrides, e.g. Harlow's test objects).
HELD_OUT_PREFIX = "evaluation/env_runners/meta/"
RENAMES = {
    "env_runners/episode_return_mean": "return",
    "num_env_steps_sampled_lifetime": "env_steps",
}


@dataclass
class LoadedExperiment:
    path: Path
    task: str | None  # the registered task the trials trained on
    env_config: dict[str, Any]
    histories: pd.DataFrame  # one row per trial and iteration
    summary: pd.DataFrame  # one row per trial
    evaluation: pd.DataFrame | None  # the runner's summary.csv (held-out evaluation), if written


def _trial_dirs(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.is_dir() and (p / "params.json").exists())


def load_trial_history(trial_dir: Path) -> pd.DataFrame:
    """One row per training iteration: iteration, time, env steps, return and every meta-RL metric.

    Figures of the periodic held-out evaluation, where a task has one, appear as ``held_out/<metric>`` (NaN in the
    iterations without an evaluation).
    """
    rows, damaged = [], []
    results_file = trial_dir / "result.json"
    text = results_file.read_text(errors="replace") if results_file.exists() else ""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            result = json.loads(line)
        except json.JSONDecodeError:  # a line cut short by an interrupted write, or otherwise damaged
            damaged.append(number)
            continue
        result.pop("config", None)  # the whole RLlib config, repeated on every line
        rows.append(result)
    if damaged:
        warnings.warn(f"{results_file}: skipped {len(damaged)} damaged line(s) ({', '.join(map(str, damaged[:5]))}"
                      f"{', ...' if len(damaged) > 5 else ''}); kept the {len(rows)} intact", stacklevel=2)  # fmt: skip
    flat = pd.json_normalize(rows, sep="/") if rows else pd.DataFrame()
    keep = ["training_iteration", "time_total_s", *RENAMES]
    keep += sorted(c for c in flat.columns if c.startswith(META_PREFIX))
    held_out = sorted(c for c in flat.columns if c.startswith(HELD_OUT_PREFIX))
    history = flat.reindex(columns=keep + held_out).rename(columns=RENAMES)
    history.columns = [
        f"held_out/{c.removeprefix(HELD_OUT_PREFIX)}" if c in held_out else c.removeprefix(META_PREFIX)
        for c in history.columns
    ]
    if held_out:  # RLlib repeats the last evaluation's figures in the iterations between evaluations: blank them
        interval = json.loads((trial_dir / "params.json").read_text()).get("evaluation_interval") or 1
        between = history["training_iteration"] % interval != 0
        history.loc[between, [c for c in history.columns if c.startswith("held_out/")]] = float("nan")
    return history


def describe_lr(lr: Any) -> Any:
    """A trial's learning rate: the number, or for RLlib's ``[[step, value], ...]`` schedule (``--lr-final``) a
    string such as ``'0.001 -> 0.0001 by step 5000000'``."""
    if not isinstance(lr, list):
        return lr
    (_, first), *_, (last_step, last) = lr
    return f"{first:g} -> {last:g} by step {last_step}"


def load_experiment(path: str | Path) -> LoadedExperiment:
    """Histories and per-trial summary of every trial in a Tune experiment folder."""
    path = Path(path).expanduser()
    trial_dirs = _trial_dirs(path) if path.is_dir() else []
    if not trial_dirs:
        raise FileNotFoundError(f"{str(path)!r} holds no Tune trials (no */params.json)")
    histories, summaries = [], []
    task, env_config = None, {}
    for trial_dir in trial_dirs:
        params = json.loads((trial_dir / "params.json").read_text())
        env = params.get("env")
        if isinstance(env, str) and env.startswith(TASK_PREFIX):
            task, env_config = env[len(TASK_PREFIX) :], dict(params.get("env_config") or {})
        history = load_trial_history(trial_dir)
        history.insert(0, "trial", trial_dir.name)
        history.insert(1, "seed", params.get("seed"))
        history.insert(2, "lr", describe_lr(params.get("lr")))
        histories.append(history)
        summaries.append(_summarize_trial(trial_dir.name, params, history))
    if not any(len(history) for history in histories):
        raise FileNotFoundError(f"{str(path)!r} holds trials but no results yet (no iteration in any result.json)")
    evaluation_file = path / "summary.csv"
    return LoadedExperiment(
        path=path,
        task=task,
        env_config=env_config,
        histories=pd.concat(histories, ignore_index=True),
        summary=pd.DataFrame(summaries),
        evaluation=pd.read_csv(evaluation_file) if evaluation_file.exists() else None,
    )


def _summarize_trial(name: str, params: dict[str, Any], history: pd.DataFrame) -> dict[str, Any]:
    row: dict[str, Any] = {
        "trial": name,
        "seed": params.get("seed"),
        "lr": describe_lr(params.get("lr")),
        "iterations": len(history),
    }
    if history.empty:
        return row
    last = history.iloc[-1]
    returns = history["return"]
    row.update(
        time_total_s=last["time_total_s"],
        env_steps=last["env_steps"],
        final_return=last["return"],
        best_return=returns.max(),
        best_iteration=history.loc[returns.idxmax(), "training_iteration"] if returns.notna().any() else None,
    )
    for column in history.columns.drop(["trial", "seed", "lr", "training_iteration", "time_total_s", "env_steps",
                                        "return"], errors="ignore"):  # fmt: skip
        values = history[column].dropna()  # held-out figures exist only in evaluation iterations
        row[f"final_{column}"] = values.iloc[-1] if len(values) else float("nan")
    return row


def experiment_checkpoint(experiment: str | Path) -> str:
    """The checkpoint the runner evaluated (the best by training return), read from the experiment's summary.csv."""
    summary_file = Path(experiment).expanduser() / "summary.csv"
    if not summary_file.exists():
        raise FileNotFoundError(f"{str(summary_file)!r} does not exist: is this a finished tune_configs experiment?")
    return str(pd.read_csv(summary_file).iloc[0]["checkpoint"])


def find_experiments(storage_path: str | Path, task: str) -> list[Path]:
    """Finished experiments (with a summary.csv) under ``storage_path`` that trained on ``task``, newest first."""
    found = []
    for summary_file in Path(storage_path).expanduser().glob("*/summary.csv"):
        params = sorted(summary_file.parent.glob("*/params.json"))
        env = json.loads(params[0].read_text()).get("env") if params else None
        if env == f"{TASK_PREFIX}{task}":
            found.append(summary_file.parent)
    return sorted(found, key=lambda path: path.stat().st_mtime, reverse=True)


def trained_env_config(checkpoint: str, task: str, env_config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The env_config to play ``checkpoint`` on (``env_config``, else the one it trained with), refusing a checkpoint
    trained on another task than the analysis's ``task``."""
    from rllib_metarl.evaluation import resolve_task

    trained_on, env_config = resolve_task(checkpoint, None, env_config)
    if trained_on != task:
        raise ValueError(f"{checkpoint!r} was trained on {trained_on!r}, not on {task}")
    return env_config
