"""Disk space of an experiment: checked before Ray starts, watched while Tune trains.

A run does not fill its disk: while it trains, :class:`SpaceWatch` stops it, as an interrupted run stops, once the
free space falls under the run's reserve. The reserve is room for the writes that stopping itself makes (each trial's
last checkpoint and result lines, Tune's experiment state), so everything a resume reads is written whole. After
space is freed, the same command resumes the run.

A disk filled at once by something else can still cut Tune's state files short (Tune writes them in place). The
watch keeps a copy of each state file's last complete version, and :func:`repair_tune_state` puts it back before a
resume.
"""

from __future__ import annotations

import json
import os
import pickletools
import shutil
import signal
import threading
from pathlib import Path

from rllib_metarl.utils.atomic_io import write_atomically

MIB = 2**20
# Room one trial's last writes take: a checkpoint (about 1 MiB for the presets' networks; larger ones seen in the
# run count three times over) and its result lines (about 20 kB per iteration).
RESERVE_PER_TRIAL = 16 * MIB
RESERVE_SHARED = 16 * MIB  # Tune's experiment state (under 1 MiB), the summary and the held-out evaluation's table
START_FACTOR = 2  # a run starts only with twice its reserve free: room to train a while before stopping
CHECK_EVERY_S = 1.0
SLOW_CHECKS_EVERY = 3  # checkpoints' sizes and the copies of Tune's state (written every 10 s or more)
TUNE_STATE_FILES = ("experiment_state-*.json", "basic-variant-state-*.json")  # what Tune's resume reads
INTACT_DIR = ".intact"  # in the experiment's folder: the last complete version of each of Tune's state files


def reserve_bytes(trials: int, checkpoint_bytes: int = 0) -> int:
    """Free bytes below which a run of ``trials`` concurrent Tune trials stops."""
    return trials * max(RESERVE_PER_TRIAL, 3 * checkpoint_bytes) + RESERVE_SHARED


def free_bytes(path: Path) -> int:
    """Bytes an unprivileged process may still write on ``path``'s file system."""
    return shutil.disk_usage(path).free


def check_free_space(path: Path, trials: int) -> None:
    """A ValueError, naming the free and the needed space, unless ``path`` has room for a run of ``trials``."""
    needed, free = START_FACTOR * reserve_bytes(trials), free_bytes(path)
    if free < needed:
        raise ValueError(
            f"{str(path)!r} has {free / MIB:,.1f} MiB free and a run of {trials} trial(s) needs at least "
            f"{needed / MIB:,.0f} MiB to start (it stops, resumable, when less than {needed / START_FACTOR / MIB:,.0f} "
            "MiB are left); free some space or give another --storage-path"
        )


def checkpoint_bytes(experiment_path: Path) -> int:
    """Size of the largest of the experiment's newest checkpoints (one per trial folder); 0 before the first."""
    sizes = [0]
    for trial in experiment_path.iterdir():
        checkpoints = sorted(trial.glob("checkpoint_*")) if trial.is_dir() else []
        if checkpoints:
            try:
                sizes.append(sum(f.stat().st_size for f in checkpoints[-1].rglob("*") if f.is_file()))
            except FileNotFoundError:  # Tune deleted it meanwhile (it keeps the best few)
                continue
    return max(sizes)


def is_complete(path: Path) -> bool:
    """Whether a Tune state file (JSON, or a pickle despite its .json name) was written to its end. A pickle's opcodes
    are read, not run."""
    try:
        data = path.read_bytes()
        if data[:1] == b"\x80":  # a pickle's protocol opcode
            return [op.name for op, _, _ in pickletools.genops(data)][-1] == "STOP"
        json.loads(data)
    except (OSError, ValueError, IndexError):
        return False
    return True


def keep_intact_state(experiment_path: Path) -> None:
    """Copy each of Tune's state files that is complete and changed since its last copy into ``.intact/``."""
    intact = experiment_path / INTACT_DIR
    for pattern in TUNE_STATE_FILES:
        for state in experiment_path.glob(pattern):
            copy = intact / state.name
            if copy.exists() and copy.stat().st_mtime >= state.stat().st_mtime:
                continue
            if is_complete(state):
                intact.mkdir(exist_ok=True)
                write_atomically(copy, lambda partial, state=state: shutil.copy2(state, partial))


def repair_tune_state(experiment_path: Path) -> list[str]:
    """Before a resume: put back the last complete copy of each of Tune's state files that is damaged, and cut each
    trial's result files back to their last complete line (a resumed trial appends to them). The files repaired."""
    repaired = []
    for copy in sorted((experiment_path / INTACT_DIR).glob("*.json")):
        state = experiment_path / copy.name
        if not is_complete(state) and is_complete(copy):
            write_atomically(state, lambda partial, copy=copy: shutil.copy2(copy, partial))
            repaired.append(state.name)
    for results in sorted(experiment_path.glob("*/result.json")) + sorted(experiment_path.glob("*/progress.csv")):
        if cut_to_last_line(results):
            repaired.append(str(results.relative_to(experiment_path)))
    return repaired


def cut_to_last_line(path: Path) -> bool:
    """Drop a last line written in part (no newline at its end); whether there was one."""
    with open(path, "rb+") as file:
        data = file.read()
        if not data or data.endswith(b"\n"):
            return False
        file.truncate(data.rfind(b"\n") + 1)
    return True


class SpaceWatch:
    """Stops a Tune run, while space remains, once its disk's free space falls under the run's reserve.

    A thread checks the free space every second and sends this process SIGUSR1, Tune's signal to end a run as an
    interrupted one: trials stay unfinished, and Tune writes its experiment state one last time, into the reserve.
    Used as ``with SpaceWatch(path, trials) as watch: tuner.fit()``; ``watch.stopped`` then says why it stopped.
    """

    def __init__(self, experiment_path: Path, trials: int):
        self.experiment_path = experiment_path
        self.trials = trials
        self.stopped: str | None = None  # why the watch stopped the run
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="rllib-metarl-space-watch", daemon=True)

    def __enter__(self) -> SpaceWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        checks, largest_checkpoint = 0, 0
        while not self._done.wait(CHECK_EVERY_S):
            checks += 1
            if checks % SLOW_CHECKS_EVERY == 0:
                try:
                    largest_checkpoint = max(largest_checkpoint, checkpoint_bytes(self.experiment_path))
                    keep_intact_state(self.experiment_path)
                except OSError:  # a full disk, or a file Tune replaced meanwhile: the next round tries again
                    pass
            reserve, free = reserve_bytes(self.trials, largest_checkpoint), free_bytes(self.experiment_path)
            # Only while Tune's handler is installed: SIGUSR1's default action would end the process.
            if free < reserve and signal.getsignal(signal.SIGUSR1) not in (signal.SIG_DFL, None):
                self.stopped = (f"{str(self.experiment_path)!r} has {free / MIB:,.1f} MiB free, less than the run's "
                                f"reserve of {reserve / MIB:,.0f} MiB")  # fmt: skip
                os.kill(os.getpid(), signal.SIGUSR1)
                return
