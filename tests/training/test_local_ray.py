"""The local Ray of a run: closed to the network, closed to clients without its token, and watchable in the dashboard.

One real run of the main job (short budget, one remote env runner) is inspected while it trains.
"""

import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest
import ray  # noqa: F401  (imported, as in every test process: a setting made after this warns that it comes late)

from rllib_metarl.training.ray_session import (
    AUTH_MODE,
    LOOPBACK_SWITCH,
    TOKEN_ENV,
    TOKEN_PATH_ENV,
    ensure_private_token,
    prepare_ray_environment,
)
from tests.conftest import ROOT

LOOPBACK = ("127.0.0.1", "::1", "::ffff:127.0.0.1")
REFUSAL = "Authentication token is missing or incorrect"


class OutputReader:
    """Collects a process's output lines in a thread, so that a test can wait for one without blocking."""

    def __init__(self, process: subprocess.Popen):
        self.lines: list[str] = []
        threading.Thread(target=lambda: self.lines.extend(process.stdout), daemon=True).start()

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: str, process: subprocess.Popen, timeout: float) -> re.Match | None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = re.search(pattern, self.text)
            if found or process.poll() is not None:
                return found
            time.sleep(0.5)
        return None


def http_status(url: str, token: str | None = None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""


def listening_sockets(root_pid: int) -> list[tuple[str, str, int]]:
    """(process name, address, port) of every listening TCP socket of a process and all its descendants."""
    root = psutil.Process(root_pid)
    sockets = []
    for process in [root, *root.children(recursive=True)]:
        try:
            connections = process.net_connections(kind="tcp")
            name = process.name()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        sockets += [(name, c.laddr.ip, c.laddr.port) for c in connections if c.status == psutil.CONN_LISTEN]
    return sockets


def client_is_refused(gcs_address: str, env: dict[str, str]) -> tuple[bool, str]:
    """Try to run a task on the cluster as a driver with ``env``; True if the GCS refused it for its token."""
    script = (f"import ray; ray.init(address={gcs_address!r}, log_to_driver=False); "
              "print('RAN', ray.get(ray.remote(lambda: 1).remote()), flush=True)")  # fmt: skip
    client = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, env=env)  # fmt: skip
    reader = OutputReader(client)
    try:
        found = reader.wait_for(f"{REFUSAL}|RAN", client, timeout=60)
    finally:
        client.kill()
        client.wait()
    return bool(found and found.group(0) == REFUSAL), reader.text[-2000:]


@pytest.mark.slow
def test_a_local_run_listens_on_loopback_only_and_refuses_clients_without_its_token(tmp_path):
    token_file = tmp_path / "token" / "auth_token"  # not there yet: the run creates it
    command = [
        sys.executable, str(ROOT / "tune_configs" / "eleven_arm.py"), "-w", "1", "--num-samples", "1",
        "--stop-time", "45", "--eval-trials", "50", "--storage-path", str(tmp_path / "results"), "--name", "local",
    ]  # fmt: skip
    unset = (AUTH_MODE, LOOPBACK_SWITCH, TOKEN_ENV, "RAY_ADDRESS")  # the runner must set them up itself
    env = {k: v for k, v in os.environ.items() if k not in unset}
    env |= {TOKEN_PATH_ENV: str(token_file), "PYTHONUNBUFFERED": "1"}
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
    output = OutputReader(run)
    try:
        started = output.wait_for(r"local Ray on 127\.0\.0\.1 .* at (127\.0\.0\.1:\d+)", run, timeout=120)
        assert started, "no local Ray announced:\n" + output.text[-3000:]
        gcs_address = started.group(1)
        url = output.wait_for(r"Ray Dashboard: (http://127\.0\.0\.1:\d+)", run, timeout=10).group(1)
        assert token_file.is_file() and stat.S_IMODE(token_file.stat().st_mode) == 0o600
        token = token_file.read_text().strip()
        assert "ray get-auth-token" in output.text

        actor_classes: set[str] = set()
        deadline = time.time() + 120
        while time.time() < deadline and run.poll() is None and not {"TrialEnvRunner", "PPO"} <= actor_classes:
            time.sleep(2)
            status, body = http_status(f"{url}/api/v0/actors?limit=200", token)
            assert status == 200
            actors = json.loads(body)["data"]["result"]["result"]
            actor_classes = {a["class_name"] for a in actors if a["state"] == "ALIVE"}
        assert {"TrialEnvRunner", "PPO"} <= actor_classes, actor_classes  # the env runner and the Tune trial

        # Every server of the run (GCS, raylet, workers, agents, dashboard, metrics) is on loopback.
        sockets = listening_sockets(run.pid)
        names = {name for name, _, _ in sockets}
        assert {"gcs_server", "raylet"} <= names and len(sockets) >= 8, sockets
        assert [s for s in sockets if s[1] not in LOOPBACK] == []

        # The dashboard's API answers only with the token; its jobs list shows the run's driver.
        assert http_status(f"{url}/api/jobs/")[0] == 401
        assert http_status(f"{url}/api/jobs/", "0" * 64)[0] == 403  # a wrong token: forbidden
        status, body = http_status(f"{url}/api/jobs/", token)
        assert status == 200 and any(job["type"] == "DRIVER" for job in json.loads(body))

        # A driver over 127.0.0.1 without the token, or with another, cannot run anything.
        client = {k: v for k, v in env.items() if k != TOKEN_PATH_ENV} | {LOOPBACK_SWITCH: "0"}
        client["HOME"] = str(tmp_path / "stranger")  # no ~/.ray/auth_token to fall back on
        for credentials in ({AUTH_MODE: "disabled"}, {AUTH_MODE: "token", TOKEN_ENV: "0" * 64}):
            refused, client_output = client_is_refused(gcs_address, client | credentials)
            assert refused, (credentials, client_output)

        assert run.wait(timeout=300) == 0, output.text[-3000:]
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()


@pytest.mark.parametrize("mode", [0o644, 0o600])
def test_the_token_file_is_made_private(tmp_path, mode):
    path = tmp_path / "auth_token"
    path.write_text("secret")
    path.chmod(mode)
    ensure_private_token(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.read_text() == "secret"
    fresh = tmp_path / "new" / "auth_token"
    ensure_private_token(fresh)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600 and len(fresh.read_text()) == 64


def test_a_local_run_sets_loopback_and_tokens_and_a_cluster_run_keeps_the_users_mode(tmp_path, monkeypatch):
    for name in (AUTH_MODE, LOOPBACK_SWITCH, TOKEN_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(TOKEN_PATH_ENV, str(tmp_path / "auth_token"))
    with pytest.warns(UserWarning, match="imported before"):  # this test process has imported Ray already
        assert prepare_ray_environment(None) == Path(tmp_path / "auth_token")
    assert os.environ[LOOPBACK_SWITCH] == "0" and os.environ[AUTH_MODE] == "token"
    monkeypatch.delenv(AUTH_MODE)
    monkeypatch.setenv(TOKEN_PATH_ENV, str(tmp_path / "absent"))
    assert prepare_ray_environment("127.0.0.1:6379") is None
    assert AUTH_MODE not in os.environ  # no token here: the driver keeps Ray's default
    monkeypatch.setenv(AUTH_MODE, "disabled")
    assert prepare_ray_environment(None) is None and os.environ[AUTH_MODE] == "disabled"  # the user's choice
