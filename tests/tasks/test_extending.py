"""A Gymnasium env defined here, outside the package, becomes a meta-task with one call and then trains with the
runner (remote env runner included), evaluates with frozen weights and is listed, in-process and from an entry point.
"""

import os
import subprocess
import sys
import textwrap

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest

from rllib_metarl import TASKS, Preset, algorithm_config, get_preset, make_agent_env, register_task
from rllib_metarl.tasks.registry import ENTRY_POINT_GROUP
from tests.conftest import ROOT, script_env

TRIAL_LENGTH = 10


class CoinFlipBandit(gym.Env):
    """Two arms, one pays 1 and the other 0; which one is drawn at every reset."""

    def __init__(self, pulls: int = TRIAL_LENGTH):
        self.pulls = pulls
        self.action_space = gym.spaces.Discrete(2)
        self.observation_space = gym.spaces.Box(0.0, 1.0, shape=(0,), dtype=np.float32)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.good_arm, self.t = int(self.np_random.integers(2)), 0
        return np.zeros(0, dtype=np.float32), {}

    def step(self, action):
        self.t += 1
        return np.zeros(0, dtype=np.float32), float(action == self.good_arm), self.t == self.pulls, False, {}


@pytest.fixture(autouse=True)
def registry_as_it_was():
    """The tasks registered here leave the registry with the test."""
    saved = dict(TASKS)
    yield
    for name in set(TASKS) - set(saved):
        gym.registry.pop(TASKS.pop(name).gym_id, None)


def register_coin_flip():
    """What a user's package names as its entry point; also called directly below."""
    if "coin_flip" not in TASKS:
        register_task("coin_flip", CoinFlipBandit, trial_length=TRIAL_LENGTH, optimal_return=TRIAL_LENGTH - 0.5,
                      random_return=TRIAL_LENGTH / 2, preset={"envs_per_worker": 8, "num_samples": 1})  # fmt: skip


def run_python(code: str, *, env_path: str = "", timeout: float = 400) -> subprocess.CompletedProcess:
    env = {"PYTHONUNBUFFERED": "1", "PYTHONPATH": f"{env_path}:{ROOT}" if env_path else str(ROOT)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env={**os.environ, **env})  # fmt: skip


def test_a_registered_task_is_listed_made_and_gets_its_preset_and_config():
    register_coin_flip()
    task = TASKS["coin_flip"]
    assert gym.make("rllib_metarl/coin_flip-v0").unwrapped.pulls == TRIAL_LENGTH
    observation, _ = make_agent_env("coin_flip").reset(seed=0)
    assert observation.shape == (2 + 1 + 1,)  # previous action (one-hot), reward, t / T
    assert task.optimal_return({}) == TRIAL_LENGTH - 0.5 and task.description.startswith("Two arms")
    preset = get_preset("coin_flip")
    assert preset.envs_per_worker == 8 and preset.lr == Preset().lr  # its own field, and the default of the others
    config = algorithm_config("coin_flip")
    assert config.env == "rllib_metarl/coin_flip" and config.train_batch_size_per_learner == 8 * 4 * TRIAL_LENGTH


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: register_task("eleven_arm", CoinFlipBandit, trial_length=5), "registered already"),
        (lambda: register_task("bad name", CoinFlipBandit, trial_length=5), "letters, digits and _"),
        (lambda: register_task("not_an_env", dict, trial_length=5), "gymnasium.Env subclass"),
        (lambda: register_task("zero_length", CoinFlipBandit, trial_length=0), "trial_length"),
    ],
)
def test_bad_registrations_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_an_unknown_preset_field_of_a_registered_task_is_named():
    register_task("typo_preset", CoinFlipBandit, trial_length=TRIAL_LENGTH, preset={"learning_rate": 1e-3})
    with pytest.raises(ValueError, match="unknown preset field 'learning_rate'"):
        get_preset("typo_preset")


@pytest.mark.slow
def test_an_entry_point_task_trains_on_a_remote_env_runner_and_evaluates_with_frozen_weights(tmp_path):
    # An installed distribution offering the task: its metadata on the path is all that importlib.metadata reads.
    dist = tmp_path / "site" / "coin_flip_tasks-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: coin-flip-tasks\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\ncoin_flip = tests.tasks.test_extending:register_coin_flip\n"
    )
    site = str(tmp_path / "site")

    listed = run_python("from rllib_metarl.cli.main import main; main(['list'])", env_path=site)
    assert listed.returncode == 0 and "coin_flip" in listed.stdout, listed.stderr[-2000:]

    storage = tmp_path / "results"
    trained = run_python(f"""
        import sys
        from rllib_metarl.training.runner import main
        sys.exit(main("coin_flip", ["-w", "1", "--stop-iters", "3", "--eval-trials", "40", "--scheduler", "fifo",
                                    "--storage-path", {str(storage)!r}, "--name", "own", "--no-dashboard"]))
    """, env_path=site)  # fmt: skip
    output = trained.stdout + trained.stderr
    assert trained.returncode == 0, output[-3000:]
    assert "40 trials of coin_flip" in output
    summary = pd.read_csv(storage / "own" / "summary.csv").iloc[0]
    assert summary["trials"] == 40 and summary["optimal_return"] == TRIAL_LENGTH - 0.5
    assert 0 <= summary["mean_return"] <= TRIAL_LENGTH

    checkpoint = summary["checkpoint"]
    evaluated = run_python(f"""
        from rllib_metarl.cli.main import main
        main(["evaluate", {checkpoint!r}, "--trials", "30"])
    """, env_path=site)  # fmt: skip
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert "coin_flip: 30 held-out trials, frozen weights" in evaluated.stdout


@pytest.mark.slow
def test_the_rllib_config_script_trains_the_plugins_config_with_rllibs_own_loop():
    result = subprocess.run([sys.executable, str(ROOT / "tune_configs" / "rllib_config.py"), "--iterations", "2"],
                            capture_output=True, text=True, timeout=300, cwd=ROOT, env=script_env())  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "local Ray on 127.0.0.1" in result.stdout
    returns = [float(line.split()[-1]) for line in result.stdout.splitlines() if line.startswith("iteration")]
    assert len(returns) == 2 and all(0 < r < 25 for r in returns)  # eleven-arm pays at most 5 a pull, 5 pulls


def test_a_registered_task_too_large_for_memory_is_refused_before_ray_starts_and_a_small_one_passes(tmp_path, capsys):
    from rllib_metarl.training.command_line import parse_experiment

    register_task("long_coin_flip", CoinFlipBandit, defaults={"pulls": 10**9})  # the env's own length, below
    CoinFlipBandit.trial_length = property(lambda env: env.pulls)
    try:
        with pytest.raises(SystemExit) as exit_info:
            parse_experiment("long_coin_flip", ["--storage-path", str(tmp_path)])
        assert parse_experiment("long_coin_flip", ["--env-arg", "pulls=20", "--storage-path", str(tmp_path)])
    finally:
        del CoinFlipBandit.trial_length
    assert exit_info.value.code == 2
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert "long_coin_flip: a run would need about" in message and "(1,000,000,000 steps per trial" in message


def test_a_registered_task_without_a_trial_length_is_named(tmp_path, capsys):
    from rllib_metarl.training.command_line import parse_experiment

    register_task("lengthless", CoinFlipBandit)
    with pytest.raises(SystemExit):
        parse_experiment("lengthless", ["--storage-path", str(tmp_path)])
    assert "task 'lengthless' has no trial length" in capsys.readouterr().err.strip().splitlines()[-1]
