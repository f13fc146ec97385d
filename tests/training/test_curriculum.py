"""Curricula: stages declared and checked before Ray starts, trained in turn from the stage before's weights,
recorded in the experiment's folder, and resumed at the stage that was not finished."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from conftest import run_script, script_env

from rllib_metarl.analysis.recipe import recipe_of
from rllib_metarl.tasks import get_task
from rllib_metarl.training.curriculum import Stage, curriculum_stages, describe, stage_settings
from rllib_metarl.training.presets import get_preset
from rllib_metarl.training.ray_session import AUTH_MODE, LOOPBACK_SWITCH


def test_stages_from_the_preset():
    task = get_task("k_armed")
    preset = get_preset("k_armed", curriculum="n=10,100", stop_time_s=60.0)
    stages = curriculum_stages(task, preset)
    assert stages == [Stage("trial_length", 10, 60.0), Stage("trial_length", 100, 60.0)]  # n: the trial size
    assert describe(stages) == "trial_length = 10, 100 (60, 60 s)"
    name, env_config, stage_preset = stage_settings(stages[1], 1, {"num_arms": 5}, preset)
    assert (name, env_config) == ("stage-2-trial_length=100", {"num_arms": 5, "trial_length": 100})
    assert (stage_preset.curriculum, stage_preset.stop_time_s) == ("", 60.0)
    budgets = get_preset("k_armed", curriculum="num_arms=5,10,50", curriculum_stage_s=(10, 20, 30))
    assert [stage.budget_s for stage in curriculum_stages(task, budgets)] == [10.0, 20.0, 30.0]
    assert curriculum_stages(task, get_preset("k_armed")) == []
    mdp = get_preset("tabular_mdp", curriculum="n=10,25")
    assert stage_settings(curriculum_stages(get_task("tabular_mdp"), mdp)[1], 1, {}, mdp)[2].pretrain_memory_s == 0.0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"curriculum": "num_arms"}, "curriculum takes PARAMETER=V1,V2,..."),
     ({"curriculum": "arms=5,10"}, "task 'k_armed' has no parameter 'arms'"),
     ({"curriculum": "num_arms=5"}, "a curriculum has at least 2 stages"),
     ({"curriculum": "num_arms=5,10", "curriculum_stage_s": (10,)}, "gives 1 budgets for 2 stages"),
     ({"curriculum_stage_s": (10, 20)}, "curriculum_stage_s needs a curriculum")],
)  # fmt: skip
def test_bad_declarations_are_named(overrides, message):
    with pytest.raises(ValueError, match=message):
        curriculum_stages(get_task("k_armed"), get_preset("k_armed", **overrides))


@pytest.mark.slow
def test_curriculum_trains_stage_by_stage_and_resumes_at_its_stage(tmp_path):
    storage = tmp_path / "runs"
    args = ["--k", "3", "--set", "curriculum=n=4,6", "--stop-iters", "1", "--num-samples", "1",
            "--eval-trials", "10", "--storage-path", str(storage), "--name", "steps", "--no-dashboard"]  # fmt: skip
    # As from a user's shell: none of the Ray settings the suite's own process made (each stage makes them again).
    env = {key: value for key, value in script_env().items() if key not in (AUTH_MODE, LOOPBACK_SWITCH)}
    result = run_script("rl2_bandits.py", *args, env=env)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    experiment = storage / "steps"
    first, second = experiment / "stage-1-trial_length=4", experiment / "stage-2-trial_length=6"
    assert "Curriculum stage 2 of 2: trial_length=6" in result.stdout
    assert "| Trial name" in result.stdout.split("Curriculum stage 2 of 2")[1]  # each stage shows its trial table
    # The curriculum resumes as a whole, under its own name, not a stage's.
    assert result.stdout.count("resume with the same command and --resume (or --name steps)") == 1
    assert "--name stage-" not in result.stdout
    # Stage 2 starts from stage 1's best checkpoint, on its own task.
    first_summary = pd.read_csv(first / "summary.csv").iloc[0]
    second_settings = json.loads((second / "experiment.json").read_text())
    assert second_settings["init_from"].startswith(first_summary["checkpoint"])
    assert second_settings["env_config"]["num_arms"] == 3 and second_settings["env_config"]["trial_length"] == 6
    summary = pd.read_csv(experiment / "summary.csv").iloc[0]
    second_summary = pd.read_csv(second / "summary.csv").iloc[0]
    assert summary["checkpoint"] == second_summary["checkpoint"] and summary["curriculum"].startswith(
        "trial_length = 4, 6"
    )
    assert summary["train_wall_time_s"] == pytest.approx(
        first_summary["train_wall_time_s"] + second_summary["train_wall_time_s"], abs=0.11
    )
    recipe = recipe_of(json.loads((experiment / "experiment.json").read_text()))
    assert not recipe.rl2 and recipe.text == "PPO + LSTM, curriculum n=4,6"

    # An interrupted curriculum: stage 2 unfinished. The rerun leaves stage 1 as it was and finishes stage 2.
    (second / "summary.csv").unlink()
    (experiment / "summary.csv").unlink()
    stage_one_before = (first / "summary.csv").read_text()
    rerun = run_script("rl2_bandits.py", *args, env=env)
    assert rerun.returncode == 0, (rerun.stdout + rerun.stderr)[-3000:]
    assert "Stage trial_length=4 done" in rerun.stdout and (first / "summary.csv").read_text() == stage_one_before
    assert (second / "summary.csv").exists() and (experiment / "summary.csv").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--set", "curriculum=n=5,0"], "curriculum stage trial_length=0: trial_length must be a positive integer, got 0"),
     (["--set", "curriculum=num_arms=5,10"], "curriculum stage num_arms=10 changes the agent's inputs or actions"),
     (["--set", "curriculum=n=10,100", "--core", "snail"], "SNAIL's depth grows with the trial length (4 -> 7 dense")],
)  # fmt: skip
def test_a_stage_that_cannot_run_is_a_usage_error(args, message):
    result = run_script("rl2_bandits.py", *args)
    assert result.returncode == 2
    assert message in result.stderr.strip().splitlines()[-1]
