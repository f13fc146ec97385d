"""One experiment per folder: its settings are recorded at the first run, a rerun must bring the same ones (it then
resumes), and one process at a time runs it."""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rllib_metarl.training.command_line import Experiment
from rllib_metarl.utils.atomic_io import write_text

SETTINGS_FILE = "experiment.json"  # in the experiment's folder: what was asked for, compared on every rerun
LOCK_FILE = ".lock"  # held (flock) while a process runs the experiment; the kernel frees it when that process dies


class SettingsDiffer(ValueError):
    """A rerun of an experiment's name with other settings."""


class ExperimentBusy(RuntimeError):
    """The experiment is being run by another process."""


def settings_of(experiment: Experiment) -> dict[str, Any]:
    """What makes the experiment this one: the task and its parameters, the preset, the seed and the scheduler."""
    settings = {
        "task": experiment.task,
        "env_config": experiment.env_config,
        "preset": dataclasses.asdict(experiment.preset),
        "seed": experiment.seed,
        "scheduler": experiment.scheduler,
        "init_from": None if experiment.init_from is None else str(experiment.init_from),
    }
    return json.loads(json.dumps(settings))  # as they read back from the file (tuples become lists)


def differences(saved: dict[str, Any], current: dict[str, Any], prefix: str = "") -> list[str]:
    """``name: saved -> current`` for every setting that differs, nested ones by their dotted name."""
    found = []
    for key in sorted(set(saved) | set(current)):
        old, new = saved.get(key), current.get(key)
        if isinstance(old, dict) and isinstance(new, dict) and key not in ("by_algo", "by_core"):
            found += differences(old, new, f"{prefix}{key}.")
        elif old != new:
            found.append(f"{prefix}{key}: {old!r} -> {new!r}")
    return found


def check_same_experiment(experiment: Experiment) -> None:
    """SettingsDiffer, listing the differences, if the experiment's folder holds a run with other settings."""
    saved_file = experiment.path / SETTINGS_FILE
    if not saved_file.exists():
        return
    changed = differences(json.loads(saved_file.read_text()), settings_of(experiment))
    if changed:
        raise SettingsDiffer(f"experiment {experiment.name!r} was run with other settings ({'; '.join(changed)}): "
                             "rerun it with its own settings to resume it, or give another --name")  # fmt: skip


@contextmanager
def running(experiment: Experiment) -> Iterator[None]:
    """Hold the experiment for this process, recording its settings at the first run; ExperimentBusy if another
    process holds it. A crashed run leaves no stale lock: the kernel frees a dead process's lock."""
    experiment.path.mkdir(parents=True, exist_ok=True)
    with open(experiment.path / LOCK_FILE, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            raise ExperimentBusy(f"experiment {experiment.name!r} is being run by another process (pid {holder}); "
                               "wait for it, or give another --name") from None  # fmt: skip
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        if not (experiment.path / SETTINGS_FILE).exists():
            write_text(json.dumps(settings_of(experiment), indent=1) + "\n", experiment.path / SETTINGS_FILE)
        yield
