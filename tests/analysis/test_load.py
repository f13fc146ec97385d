"""Loading a hand-written Tune folder: a learning-rate schedule (lr_final) is described, not expanded."""

import json

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
