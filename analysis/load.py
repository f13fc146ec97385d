"""Load a Tune experiment folder into pandas: per-trial histories and a one-row-per-trial summary.

Reads each trial's ``result.json`` (one JSON line per iteration) rather than ``progress.csv``: the CSV fixes its
columns at the first result, so a metric first reported later (``target_after_informative``) would be lost.

    from analysis.load import load_experiment
    experiment = load_experiment("~/ray_results/eleven_arm-20261122-101500")
    experiment.histories.groupby("seed")["return"].max()
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

TASK_PREFIX = "rllib_metarl/"
META_PREFIX = "env_runners/meta/"  # the per-trial figures the envs report (rllib_metarl.callbacks)
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
    """One row per training iteration: iteration, time, env steps, return and every meta-RL metric."""
    rows = []
    with open(trial_dir / "result.json") as results:
        for line in results:
            if line.strip():
                result = json.loads(line)
                result.pop("config", None)  # the whole RLlib config, repeated on every line
                rows.append(result)
    flat = pd.json_normalize(rows, sep="/") if rows else pd.DataFrame()
    keep = ["training_iteration", "time_total_s", *RENAMES]
    keep += sorted(c for c in flat.columns if c.startswith(META_PREFIX))
    history = flat.reindex(columns=keep).rename(columns=RENAMES)
    history.columns = [c.removeprefix(META_PREFIX) for c in history.columns]
    return history


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
        history.insert(2, "lr", params.get("lr"))
        histories.append(history)
        summaries.append(_summarize_trial(trial_dir.name, params, history))
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
        "lr": params.get("lr"),
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
        row[f"final_{column}"] = last[column]
    return row
