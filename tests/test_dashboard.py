"""The Ray Dashboard of a local run: its URL is printed and its HTTP API answers without tokens (no 401)."""

import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request

from tests.conftest import ROOT


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        return json.loads(response.read())


def test_dashboard_shows_the_runs_env_runners_and_job(tmp_path):
    command = [
        sys.executable, str(ROOT / "tune_configs" / "eleven_arm.py"), "-w", "1", "--num-samples", "1",
        "--stop-time", "45", "--eval-trials", "50", "--storage-path", str(tmp_path), "--name", "dashboard",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "RAY_AUTH_MODE"} | {"PYTHONUNBUFFERED": "1"}
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(run.stdout), daemon=True)
    reader.start()
    try:
        url, actor_classes, jobs = None, set(), []
        deadline = time.time() + 120
        while time.time() < deadline and run.poll() is None:
            time.sleep(2)
            if url is None:
                found = re.search(r"Ray Dashboard: (http://127\.0\.0\.1:\d+)", "".join(lines))
                url = found and found.group(1)
                continue
            actors = get_json(f"{url}/api/v0/actors?limit=200")["data"]["result"]["result"]
            actor_classes = {a["class_name"] for a in actors if a["state"] == "ALIVE"}
            jobs = [j for j in get_json(f"{url}/api/jobs/") if j["status"] == "RUNNING"]
            if "TrialEnvRunner" in actor_classes and jobs:
                break
        assert url, "no dashboard URL printed:\n" + "".join(lines)[-3000:]
        assert "TrialEnvRunner" in actor_classes, actor_classes
        assert "PPO" in actor_classes  # the Tune trial
        assert any(job["type"] == "DRIVER" for job in jobs)
        assert run.wait(timeout=300) == 0, "".join(lines)[-3000:]
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
