"""A full or read-only disk loses nothing: a run without room is refused before Ray starts, a run whose disk fills
stops in time and resumes after space is freed, and what Tune's resume reads is never left cut short."""

import errno
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rllib_metarl.training import storage
from rllib_metarl.training.command_line import parse_experiment
from rllib_metarl.training.runner import SUMMARY_FILE
from rllib_metarl.training.storage import (
    INTACT_DIR,
    MIB,
    SpaceWatch,
    check_free_space,
    cut_to_last_line,
    is_complete,
    keep_intact_state,
    repair_tune_state,
    reserve_bytes,
)
from tests.conftest import ROOT


def test_a_storage_path_without_room_for_the_run_is_refused_naming_the_space(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(storage, "free_bytes", lambda path: 5 * MIB)
    with pytest.raises(SystemExit) as exit_info:
        parse_experiment("eleven_arm", ["--storage-path", str(tmp_path), "--num-samples", "1"])
    assert exit_info.value.code == 2
    message = capsys.readouterr().err.strip().splitlines()[-1]
    needed = 2 * reserve_bytes(1) / MIB
    assert f"--storage-path {str(tmp_path)!r} has 5.0 MiB free" in message and f"at least {needed:,.0f} MiB" in message


def test_the_reserve_grows_with_the_trials_and_with_large_checkpoints():
    assert reserve_bytes(2) > reserve_bytes(1)
    assert reserve_bytes(1, checkpoint_bytes=100 * MIB) >= 300 * MIB
    with pytest.raises(ValueError, match="free some space or give another --storage-path"):
        check_free_space(Path("/"), trials=10**9)


def test_complete_state_files_are_told_from_cut_ones_json_and_pickle(tmp_path):
    state = tmp_path / "experiment_state-1.json"
    text = json.dumps({"trial_data": [[1, 2]] * 50})
    state.write_text(text)
    assert is_complete(state)
    state.write_text(text[:-7])
    assert not is_complete(state)
    pickled = tmp_path / "basic-variant-state-1.json"  # Tune pickles this one despite its name
    data = pickle.dumps({"iterators": list(range(100))})
    pickled.write_bytes(data)
    assert is_complete(pickled)
    pickled.write_bytes(data[:-3])
    assert not is_complete(pickled)
    assert not is_complete(tmp_path / "missing.json")


def test_a_cut_state_file_is_put_back_from_its_last_complete_copy_and_result_lines_are_cut_to_whole(tmp_path):
    state, variant = tmp_path / "experiment_state-1.json", tmp_path / "basic-variant-state-1.json"
    state.write_text(json.dumps({"step": 1}))
    variant.write_bytes(pickle.dumps([1, 2, 3]))
    keep_intact_state(tmp_path)
    assert (tmp_path / INTACT_DIR / state.name).read_text() == state.read_text()
    state.write_text('{"step": 2, "trial_d')  # the disk filled while Tune rewrote it
    keep_intact_state(tmp_path)  # a cut file is never kept
    trial = tmp_path / "PPO_trial_0"
    trial.mkdir()
    (trial / "result.json").write_text('{"iter": 1}\n{"iter": 2}\n{"it')
    (trial / "progress.csv").write_text("iter\n1\n2\n")
    assert repair_tune_state(tmp_path) == [state.name, "PPO_trial_0/result.json"]
    assert json.loads(state.read_text()) == {"step": 1} and pickle.loads(variant.read_bytes()) == [1, 2, 3]
    assert (trial / "result.json").read_text() == '{"iter": 1}\n{"iter": 2}\n'
    assert (trial / "progress.csv").read_text() == "iter\n1\n2\n"
    assert repair_tune_state(tmp_path) == []  # nothing left to repair


def test_cut_to_last_line_keeps_whole_files_and_empties_a_file_of_one_cut_line(tmp_path):
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    whole.write_text("a\nb\n")
    cut.write_text("partial")
    assert not cut_to_last_line(whole) and whole.read_text() == "a\nb\n"
    assert cut_to_last_line(cut) and cut.read_text() == ""


def test_the_watch_stops_the_run_by_tunes_signal_when_free_space_falls_under_the_reserve(tmp_path, monkeypatch):
    received = []
    previous = signal.signal(signal.SIGUSR1, lambda *_: received.append(time.time()))  # Tune's handler, in a run
    free = {"bytes": 10**12}
    monkeypatch.setattr(storage, "free_bytes", lambda path: free["bytes"])
    monkeypatch.setattr(storage, "CHECK_EVERY_S", 0.05)
    try:
        with SpaceWatch(tmp_path, trials=2) as watch:
            time.sleep(0.3)
            assert watch.stopped is None and not received
            free["bytes"] = reserve_bytes(2) - 1
            deadline = time.time() + 5
            while not received and time.time() < deadline:
                time.sleep(0.05)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert len(received) == 1
    assert f"{str(tmp_path)!r} has" in watch.stopped
    assert f"reserve of {reserve_bytes(2) / MIB:,.0f} MiB" in watch.stopped


def test_the_watch_sends_no_signal_while_tune_has_no_handler_for_it(tmp_path, monkeypatch):
    previous = signal.signal(signal.SIGUSR1, signal.SIG_DFL)  # the default action would end this process
    monkeypatch.setattr(storage, "free_bytes", lambda path: 0)
    monkeypatch.setattr(storage, "CHECK_EVERY_S", 0.05)
    try:
        with SpaceWatch(tmp_path, trials=1) as watch:
            time.sleep(0.3)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert watch.stopped is None


@pytest.fixture
def small_disk(tmp_path):
    """A 80 MiB file system of its own (tmpfs; mounting needs root), unmounted afterwards."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=80m", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"a small file system needs root to mount: {mounted.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(path: Path) -> None:
    """Write zeros until the file system is full."""
    with open(path, "wb") as filler:
        try:
            while True:
                filler.write(bytes(MIB))
                filler.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC


@pytest.mark.slow
def test_a_disk_filled_at_once_stops_the_run_in_one_line_and_the_run_resumes_after_space_is_freed(small_disk):
    flags = ["--num-samples", "1", "--stop-time", "30", "--eval-trials", "50", "--no-dashboard"]
    command = [sys.executable, str(ROOT / "tune_configs" / "eleven_arm.py"), *flags, "--storage-path", str(small_disk),
               "--name", "full"]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    experiment = small_disk / "full"
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        deadline = time.time() + 180  # wait for a checkpoint and a complete copy of Tune's state, then fill the disk
        while not (list(experiment.glob("*/checkpoint_*")) and list(experiment.glob(f"{INTACT_DIR}/experiment_*"))):
            assert run.poll() is None and time.time() < deadline, run.communicate()[1][-3000:]
            time.sleep(0.5)
        fill(small_disk / "filler")
        _, errors = run.communicate(timeout=180)
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 1, errors[-3000:]
    last = errors.strip().splitlines()[-1]
    assert last.startswith("error: the run stopped:") and "MiB free" in last and "--name full" in last
    assert not (experiment / SUMMARY_FILE).exists()

    refused = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)  # still full
    assert refused.returncode == 2 and "MiB free" in refused.stderr.strip().splitlines()[-1]

    (small_disk / "filler").unlink()
    resumed = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=400)
    assert resumed.returncode == 0, (resumed.stdout + resumed.stderr)[-3000:]
    assert "Resuming experiment" in resumed.stdout and (experiment / SUMMARY_FILE).exists()
    for results in experiment.glob("*/result.json"):  # every line whole, those after the resume included
        assert len([json.loads(line) for line in results.read_text().splitlines()]) > 1

    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    read_only = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    assert read_only.returncode == 2 and "is not writable" in read_only.stderr.strip().splitlines()[-1]
