"""Loading a hand-written Tune folder: a learning-rate schedule (lr_final) is described, not expanded."""

import json

import pytest

from rllib_metarl.analysis.load import describe_lr, load_experiment


def write_trial(trial_dir, lr, returns):
    trial_dir.mkdir(parents=True)
    (trial_dir / "params.json").write_text(json.dumps({"env": "rllib_metarl/k_armed", "seed": 1, "lr": lr}))
    lines = [
        {"training_iteration": i + 1, "time_total_s": 2.0 * (i + 1), "num_env_steps_sampled_lifetime": 100 * (i + 1),
         "env_runners": {"episode_return_mean": value}}
        for i, value in enumerate(returns)
    ]  # fmt: skip
    (trial_dir / "result.json").write_text("\n".join(json.dumps(line) for line in lines) + "\n")


def test_a_learning_rate_schedule_is_one_readable_value_per_row(tmp_path):
    write_trial(tmp_path / "PPO_decay", [[0, 0.001], [5000000, 0.0001]], [50.0, 60.0, 55.0])
    write_trial(tmp_path / "PPO_constant", 0.001, [49.0, 51.0])
    experiment = load_experiment(tmp_path)
    summary = experiment.summary.set_index("trial")
    assert summary.loc["PPO_decay", "lr"] == "0.001 -> 0.0001 by step 5000000"
    assert summary.loc["PPO_constant", "lr"] == 0.001
    assert summary.loc["PPO_decay", "best_return"] == 60.0
    decay_rows = experiment.histories[experiment.histories["trial"] == "PPO_decay"]
    assert decay_rows["lr"].tolist() == ["0.001 -> 0.0001 by step 5000000"] * 3
    assert describe_lr(3e-4) == 3e-4


def test_a_half_written_last_line_is_skipped_with_a_warning_and_the_intact_rows_kept(tmp_path):
    write_trial(tmp_path / "PPO_cut", 0.001, [50.0, 60.0, 55.0])
    results = tmp_path / "PPO_cut" / "result.json"
    results.write_text(results.read_text() + '{"training_iteration": 4, "time_tot')  # interrupted mid-write
    with pytest.warns(UserWarning, match=r"skipped 1 damaged line\(s\) \(4\); kept the 3 intact"):
        experiment = load_experiment(tmp_path)
    assert experiment.histories["training_iteration"].tolist() == [1, 2, 3]


def test_an_experiment_without_results_says_so(tmp_path):
    write_trial(tmp_path / "PPO_empty", 0.001, [])
    (tmp_path / "PPO_empty" / "result.json").write_text("")
    with pytest.raises(FileNotFoundError, match="holds trials but no results yet"):
        load_experiment(tmp_path)
