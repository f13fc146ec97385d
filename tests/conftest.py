"""Shared fixtures: a local Ray for in-process tests, and one real (short) run of the main job."""

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from rllib_metarl.training.ray_session import TOKEN_PATH_ENV, prepare_ray_environment, start_ray

# Every local Ray of the suite (here and in the scripts it runs) is closed to the network and uses a token of its own,
# not the user's ~/.ray/auth_token. Set before any test module imports Ray, which reads these variables then.
TOKEN_DIR = tempfile.TemporaryDirectory(prefix="rllib_metarl_tests_")
os.environ[TOKEN_PATH_ENV] = str(Path(TOKEN_DIR.name) / "auth_token")
prepare_ray_environment(None)


# Scripts the suite runs that build an algorithm outside Tune log under RLlib's default, ~/ray_results: they run with
# a home of their own (script_env), removed with the suite.
SCRIPT_HOME = tempfile.TemporaryDirectory(prefix="rllib_metarl_tests_home_")


def script_env() -> dict[str, str]:
    """The environment of a script the suite runs: this one, with the suite's temporary home."""
    return {**os.environ, "HOME": SCRIPT_HOME.name}


@pytest.fixture(scope="session", autouse=True)
def algorithm_logs_in_a_temporary_folder(tmp_path_factory):
    """An algorithm built outside Tune (``config.build_algo()``) logs under RLlib's default, ~/ray_results: the
    suite's go to a temporary folder instead, so that it leaves nothing behind."""
    from ray.tune.trainable import trainable

    trainable.DEFAULT_STORAGE_PATH = str(tmp_path_factory.mktemp("ray_results"))


ROOT = Path(__file__).resolve().parents[1]
# Seconds of training in the end-to-end run: eleven-arm's greedy held-out return passed 20 after 30 s when measured.
E2E_TRAIN_SECONDS = 40


@dataclass
class Run:
    path: Path
    output: str
    returncode: int


def run_script(script: str, *args: str, timeout: float = 400, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, str(ROOT / "tune_configs" / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )


@pytest.fixture(scope="session")
def eleven_arm_run(tmp_path_factory) -> Run:
    """``python tune_configs/eleven_arm.py`` with a short budget and one seed (the default is longer and two)."""
    storage = tmp_path_factory.mktemp("ray_results")
    result = run_script(
        "eleven_arm.py", "--stop-time", str(E2E_TRAIN_SECONDS), "--num-samples", "1",
        "--storage-path", str(storage), "--name", "e2e", "--seed", "7",
    )  # fmt: skip
    output = result.stdout + result.stderr
    if result.returncode != 0:
        print(output[-5000:])
    return Run(storage / "e2e", output, result.returncode)


@pytest.fixture(scope="module")
def local_ray():
    import ray

    start_ray(None, num_cpus=2)
    yield
    ray.shutdown()
