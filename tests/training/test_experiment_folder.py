"""A name is one experiment: a rerun with other settings is refused with the differences, two processes never run one
experiment at once (and a crashed one leaves no stuck lock), and an interrupted run says so and leaves no result."""

import os
import signal
import subprocess
import sys
import time

import pytest

from rllib_metarl.training.command_line import parse_experiment
from rllib_metarl.training.experiment_folder import (
    LOCK_FILE,
    SETTINGS_FILE,
    ExperimentBusy,
    SettingsDiffer,
    check_same_experiment,
    running,
)
from rllib_metarl.training.runner import SUMMARY_FILE, main
from tests.conftest import ROOT

VARIANTS = {"easy": "dependent_easy", "hard": "dependent_hard"}


def experiment(tmp_path, *flags):
    return parse_experiment("dependent_easy", [*flags, "--name", "one", "--storage-path", str(tmp_path)], VARIANTS)


def test_a_rerun_with_other_settings_is_refused_with_the_differences_and_the_same_settings_pass(tmp_path):
    first = experiment(tmp_path, "--difficulty", "easy")
    with running(first):
        pass
    assert (first.path / SETTINGS_FILE).exists()
    check_same_experiment(experiment(tmp_path, "--difficulty", "easy"))  # the same: it would resume
    with pytest.raises(SettingsDiffer) as refused:
        check_same_experiment(experiment(tmp_path, "--difficulty", "hard", "--set", "gamma=0.99"))
    message = str(refused.value)
    assert "task: 'dependent_easy' -> 'dependent_hard'" in message and "preset.gamma: 0.9 -> 0.99" in message
    assert "preset.stop_time_s: 240.0 -> 900.0" in message  # each task brings its own preset


def test_the_runner_refuses_a_differing_rerun_before_ray_starts(tmp_path, capsys):
    with running(parse_experiment("eleven_arm", ["--name", "one", "--storage-path", str(tmp_path)])):
        pass
    assert main("eleven_arm", ["--name", "one", "--lr", "0.1", "--storage-path", str(tmp_path)]) == 2
    assert "was run with other settings (preset.lr: 0.003 -> 0.1)" in capsys.readouterr().err


def test_one_process_at_a_time_and_a_killed_one_leaves_no_stuck_lock(tmp_path):
    held = experiment(tmp_path)
    busy = pytest.raises(ExperimentBusy, match=f"another process \\(pid {os.getpid()}\\)")
    with running(held), busy, running(held):
        pass
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import fcntl, sys, time; lock = open(sys.argv[1], 'a+'); fcntl.flock(lock, fcntl.LOCK_EX); "
                "print('held', flush=True); time.sleep(60)"
            ),
            str(held.path / LOCK_FILE),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ExperimentBusy), running(held):
            pass
    finally:
        holder.kill()
        holder.wait()
    with running(held):  # the kernel freed the killed process's lock
        pass


@pytest.mark.slow
def test_ctrl_c_interrupts_the_run_exits_130_and_writes_no_result(tmp_path):
    command = [sys.executable, str(ROOT / "tune_configs" / "eleven_arm.py"), "--num-samples", "1", "--stop-time", "120",
               "--no-dashboard", "--storage-path", str(tmp_path), "--name", "cut"]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # Ctrl-C's default action, also where this suite runs in the background (a shell starts background jobs with
    # SIGINT ignored, and Python then never installs its KeyboardInterrupt handler).
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    lines = []
    try:
        for line in run.stdout:  # wait until training runs: Tune's table shows the trial RUNNING
            lines.append(line)
            if "RUNNING" in line:
                break
        time.sleep(3)
        run.send_signal(signal.SIGINT)
        lines += run.stdout.readlines()
        assert run.wait(timeout=120) == 130, "".join(lines)[-3000:]
    finally:
        if run.poll() is None:
            run.kill()
    output = "".join(lines)
    assert "Interrupted:" in output and "resume with the same command and --name cut" in output
    assert "Held-out evaluation" not in output and not (tmp_path / "cut" / SUMMARY_FILE).exists()
