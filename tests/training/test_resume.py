"""An interrupted experiment (driver killed mid-run) continues with --resume; no finished result is lost."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, run_script

ARGS = ["--stop-iters", "40", "--checkpoint-every", "5", "--num-samples", "1", "--eval-trials", "50", "--no-dashboard"]


def iterations(result_file):
    return [json.loads(line)["training_iteration"] for line in result_file.read_text().splitlines() if line]


@pytest.mark.slow
def test_killed_driver_resumes_from_its_last_checkpoint(tmp_path):
    run = subprocess.Popen(
        [sys.executable, str(ROOT / "tune_configs" / "eleven_arm.py"), *ARGS, "--storage-path", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True, cwd=ROOT,
    )  # fmt: skip
    deadline = time.time() + 180
    result_files = []
    while time.time() < deadline and run.poll() is None:
        result_files = list(tmp_path.glob("eleven_arm-*/PPO_*/result.json"))
        if result_files and len(iterations(result_files[0])) >= 13:  # past the checkpoint at iteration 10
            break
        time.sleep(0.5)
    assert run.poll() is None, "the run ended before it could be interrupted"
    os.killpg(run.pid, signal.SIGKILL)  # the driver and the Ray processes it started
    run.wait()
    [result_file] = result_files
    before = result_file.read_text().splitlines()
    assert 13 <= len(before) < 40

    result = run_script("eleven_arm.py", *ARGS, "--storage-path", str(tmp_path), "--resume")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert f"Resuming experiment {result_file.parent.parent}" in output
    done = iterations(result_file)
    # Training went on to the stop criterion, every iteration's result is there, the earlier ones unchanged.
    assert max(done) == 40
    assert set(done) == set(range(1, 41))
    assert result_file.read_text().splitlines()[: len(before)] == before


def test_resume_without_an_experiment_is_a_usage_error(tmp_path):
    result = run_script("eleven_arm.py", "--resume", "--storage-path", str(tmp_path))
    assert result.returncode == 2
    assert f"--resume: no experiment of eleven_arm to resume in '{tmp_path}'" in result.stderr
