"""The same script on an existing Ray cluster: a head started with `ray start --head` on 127.0.0.1."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_script

RAY = str(Path(sys.executable).with_name("ray"))  # the CLI installed beside this interpreter


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def ray_head():
    """A head node with Ray's default settings (token authentication on), stopped by its own pid."""
    port, dashboard_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_AUTH_MODE", "RAY_ADDRESS")}
    head = subprocess.Popen(
        [RAY, "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus", "2",
         "--dashboard-host", "127.0.0.1", "--dashboard-port", str(dashboard_port), "--disable-usage-stats"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True,
    )  # fmt: skip
    deadline = time.time() + 60
    while time.time() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert head.poll() is None, head.stdout.read()
        time.sleep(0.5)
    else:
        pytest.fail("the Ray head did not open its port within 60 s")
    yield f"127.0.0.1:{port}", f"http://127.0.0.1:{dashboard_port}", env
    head.send_signal(signal.SIGTERM)  # --block: the head stops the processes it started
    try:
        head.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(head.pid, signal.SIGKILL)
        head.wait()


def test_experiment_runs_on_an_existing_cluster_and_as_a_job(ray_head, tmp_path):
    address, dashboard_url, env = ray_head
    result = run_script(
        "two_armed_dependent.py", "--difficulty", "easy", "--address", address, "--stop-iters", "3",
        "--num-samples", "1", "--eval-trials", "50", "--storage-path", str(tmp_path), "--name", "cluster",
        env=env,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Connecting to existing Ray cluster" in output
    assert "Started a local Ray instance" not in output
    assert "50 trials of dependent_easy" in output
    assert (tmp_path / "cluster" / "summary.csv").exists()

    # The same experiment as a Ray job: its driver runs on the head and finds the cluster through RAY_ADDRESS.
    submit_env = env | {"RAY_AUTH_MODE": "token"}  # the head uses Ray's default token authentication
    job = subprocess.run(
        [RAY, "job", "submit", "--address", dashboard_url, "--working-dir", str(ROOT), "--",
         "python", "tune_configs/two_armed_dependent.py", "--difficulty", "easy", "--stop-iters", "2",
         "--num-samples", "1", "--eval-trials", "20", "--storage-path", str(tmp_path), "--name", "job"],
        capture_output=True, text=True, env=submit_env, timeout=300,
    )  # fmt: skip
    job_output = job.stdout + job.stderr
    assert job.returncode == 0, job_output[-3000:]
    assert "succeeded" in job_output
    assert "20 trials of dependent_easy" in job_output
    assert (tmp_path / "job" / "summary.csv").exists()
