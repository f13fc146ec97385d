"""Supervised memory pretraining (--pretrain-memory): random play, what it trains, and the runner's use of it."""

import numpy as np
import pandas as pd
import pytest
import torch

from rllib_metarl.evaluation import saved_module_state
from rllib_metarl.tasks.registry import make_agent_vector_env
from rllib_metarl.training.command_line import parse_experiment
from rllib_metarl.training.config import build_rl_module
from rllib_metarl.training.initial_weights import PRETRAINED_DIR
from rllib_metarl.training.presets import get_preset
from rllib_metarl.training.pretraining import pretrain_reward_memory, random_play
from tests.conftest import run_script

SMALL = {"num_episodes": 2}


def test_random_play_gives_the_agents_own_input_with_the_actions_and_rewards_it_played():
    envs = make_agent_vector_env("tabular_mdp", 64, SMALL)
    trials = random_play(envs, np.random.default_rng(0))
    envs.close()
    assert trials["obs"].shape[:2] == trials["actions"].shape == trials["rewards"].shape == (64, 20)
    # The wrapper's input at step t carries the action and reward of step t - 1 after the one-hot state.
    previous_actions = trials["obs"][:, 1:, 10:15].argmax(-1)
    assert torch.equal(previous_actions, trials["actions"][:, :-1])
    torch.testing.assert_close(trials["obs"][:, 1:, 15], trials["rewards"][:, :-1])
    counts = np.bincount(trials["actions"].flatten().numpy(), minlength=5)
    assert counts.min() > 0.8 * counts.mean()  # uniform play: 256 expected per action
    assert abs(trials["rewards"].mean().item() - 1.0) < 0.15  # mu ~ N(1, 1): 1 per step in expectation


@pytest.mark.slow
def test_pretraining_trains_the_memory_and_reward_head_only():
    preset = get_preset("tabular_mdp", lstm_cell_size=16, reward_logits_weight=10.0)
    module = pretrain_reward_memory("tabular_mdp", preset, SMALL, seconds=2.0, seed=0)
    stats = module.pretraining_stats
    assert stats["pretrain_trials"] >= 32 and np.isfinite(stats["pretrain_loss"])
    torch.manual_seed(0)  # the module's initial weights, as pretraining drew them
    initial = build_rl_module("tabular_mdp", preset, SMALL, 0).state_dict()
    changed = {k for k, v in module.state_dict().items() if not torch.equal(v, initial[k])}
    assert any(k.startswith("encoder.actor_encoder.") for k in changed) and "reward_head.weight" in changed
    assert not [k for k in changed if not k.startswith(("encoder.actor_encoder.", "reward_head."))]


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--pretrain-memory", "5", "--reward-prediction", "0"], "pretrain_memory_s 5.0 trains the reward"),
     (["--pretrain-memory", "-1"], "--pretrain-memory: expected a number >= 0, got '-1'"),
     (["--pretrain-memory", "5", "--init-from", "."], "give one")],
)  # fmt: skip
def test_bad_pretraining_flags_exit_before_ray(argv, message, capsys, tmp_path):
    if "--init-from" in argv:  # a real checkpoint folder, so that only the clash is wrong
        folder = tmp_path / "module"
        folder.mkdir()
        (folder / "module_state.pkl").write_bytes(b"")
        argv = [a if a != "." else str(folder) for a in argv]
    with pytest.raises(SystemExit) as stop:
        parse_experiment("tabular_mdp", argv)
    assert stop.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_the_runner_pretrains_starts_from_the_pretrained_memory_and_a_rerun_reuses_it(tmp_path):
    args = ["--n", "2", "--pretrain-memory", "3", "--reward-logits", "10", "--stop-iters", "1", "--num-samples", "1",
            "--scheduler", "fifo", "--eval-trials", "20", "--no-dashboard", "--storage-path", str(tmp_path),
            "--name", "pre"]  # fmt: skip
    first = run_script("rl2_mdps.py", *args)
    assert first.returncode == 0, first.stderr[-2000:]
    assert "Pretraining the memory for 3 s on random play" in first.stdout
    folder = tmp_path / "pre" / PRETRAINED_DIR
    summary = pd.read_csv(tmp_path / "pre" / "summary.csv").iloc[0]
    assert summary["pretrain_seconds"] >= 3 and summary["pretrain_trials"] > 0
    saved = saved_module_state(folder)
    assert saved["reward_logits_beta"] == pytest.approx(10.0)
    params = next((tmp_path / "pre").glob("PPO_*/params.json")).read_text()
    assert f"load_state_path='{folder}'" in params  # the Tune trial's module starts from the pretrained one
    rerun = run_script("rl2_mdps.py", *args)  # the same settings resume (other ones are refused: experiment.json)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "Pretraining the memory" not in rerun.stdout and f"Pretrained memory: {folder}" in rerun.stdout


def test_the_preset_pretrains_unless_a_checkpoint_or_zero_seconds_start_the_run(tmp_path, capsys):
    assert parse_experiment("tabular_mdp", []).preset.pretrain_memory_s == 300.0
    assert parse_experiment("tabular_mdp", ["--pretrain-memory", "0"]).preset.pretrain_memory_s == 0.0
    folder = tmp_path / "module"
    folder.mkdir()
    (folder / "module_state.pkl").write_bytes(b"")
    started = parse_experiment("tabular_mdp", ["--init-from", str(folder)])
    assert started.preset.pretrain_memory_s == 0.0 and started.init_from == folder.resolve()
