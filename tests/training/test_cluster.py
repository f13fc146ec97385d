"""The same script on an existing Ray cluster: a head started with `ray start --head` on 127.0.0.1."""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_script

RAY = str(Path(sys.executable).with_name("ray"))  # the CLI installed beside this interpreter


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def ray_head(tmp_path_factory):
    """A head node with Ray's default settings, stopped by its own pid. `ray start` turns token authentication on
    when a token exists (a local `ray.init()` saves one in ~/.ray/auth_token): the head gets its own token file, so
    that it uses tokens whatever this machine's ~/.ray holds."""
    port, dashboard_port = free_port(), free_port()
    token_file = tmp_path_factory.mktemp("ray_auth") / "auth_token"
    token_file.write_text(uuid.uuid4().hex)
    unset = ("RAY_AUTH_MODE", "RAY_ADDRESS", "RAY_AUTH_TOKEN")
    env = {k: v for k, v in os.environ.items() if k not in unset} | {"RAY_AUTH_TOKEN_PATH": str(token_file)}
    # Every port the head opens is a free one: a local Ray already running here holds Ray's default agent ports.
    agents = ("dashboard-agent-listen", "dashboard-agent-grpc", "runtime-env-agent", "metrics-export")
    agent_ports = [f"--{name}-port={free_port()}" for name in agents]
    head = subprocess.Popen(
        [RAY, "start", "--head", "--block", "--node-ip-address", "127.0.0.1", "--port", str(port), "--num-cpus", "2",
         "--dashboard-host", "127.0.0.1", "--dashboard-port", str(dashboard_port), *agent_ports,
         "--disable-usage-stats"],
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


@pytest.mark.slow
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
    submit_env = env | {"RAY_AUTH_MODE": "token"}  # a client of the head's dashboard, which checks the token
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
