"""The behavioural analyses: hand-made cases with known answers, reference agents, and each command end to end."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_script

from rllib_metarl.analysis import (
    eleven_arm,
    generalization,
    harlow,
    regret,
    restless,
    two_step,
    two_step_regression,
)
from rllib_metarl.analysis.seeds import trial_checkpoints
from rllib_metarl.baselines.two_step import ModelBasedAgent, ModelFreeAgent, play_two_step
from rllib_metarl.evaluation import evaluate_checkpoint
from rllib_metarl.utils.seeding import TUNING_STREAM
from rllib_metarl.utils.stats import wilson_interval


def test_stay_probabilities_on_a_hand_made_trajectory():
    # (first-stage action, rewarded, common) per trial; the next trial's action decides "stay".
    episode_0 = [(0, True, True), (0, True, False), (1, False, True), (0, False, False), (0, True, True)]
    episode_1 = [(1, True, True), (1, False, False), (1, True, True)]
    rows = [
        {"episode": e, "trial_index": i, "first_stage_action": a, "rewarded": r, "common": c}
        for e, trials in enumerate([episode_0, episode_1])
        for i, (a, r, c) in enumerate(trials)
    ]
    stays = two_step.stay_probabilities(pd.DataFrame(rows)[::-1]).set_index("condition")  # order does not matter
    # rewarded-common: ep0 t0 stays (0->0), ep1 t0 stays (1->1); ep0 t4 and ep1 t2 end their episodes.
    assert stays.loc["rewarded, common", ["stay_probability", "count"]].tolist() == [1.0, 2]
    assert stays.loc["rewarded, uncommon", ["stay_probability", "count"]].tolist() == [0.0, 1]  # 0 -> 1
    assert stays.loc["unrewarded, common", ["stay_probability", "count"]].tolist() == [0.0, 1]  # 1 -> 0
    assert stays.loc["unrewarded, uncommon", ["stay_probability", "count"]].tolist() == [1.0, 2]
    assert (stays["ci95_low"] <= stays["stay_probability"]).all()


def test_wilson_interval_matches_the_textbook_value():
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)


def test_reference_agents_show_their_signatures():
    model_free = two_step.signature(two_step.stay_probabilities(play_two_step(ModelFreeAgent(), None, 100, seed=1)))
    model_based = two_step.signature(two_step.stay_probabilities(play_two_step(ModelBasedAgent(), None, 100, seed=1)))
    # Model-free: stays after a reward whatever the transition, little transition x reward interaction.
    assert model_free["reward_effect"] > 0.3
    assert abs(model_free["rewarded_margin"]) < 0.1 and abs(model_free["unrewarded_margin"]) < 0.15
    # Model-based: the interaction, and no main effect of reward.
    assert model_based["model_based_pattern"]
    assert model_based["rewarded_margin"] > 0.3 and model_based["unrewarded_margin"] > 0.3
    assert abs(model_based["reward_effect"]) < 0.1


def test_nearest_reference_pattern():
    frames = [
        two_step.stay_probabilities(play_two_step(agent, None, 30, seed=2)).assign(agent=name)
        for agent, name in [(ModelBasedAgent(alpha=0.7), "trained agent"), (ModelFreeAgent(), "model-free"),
                            (ModelBasedAgent(), "model-based")]
    ]  # fmt: skip
    assert two_step.nearest_reference(pd.concat(frames)) == "model-based"


def test_reference_agents_play_the_full_input_form_too():
    trials = play_two_step(ModelBasedAgent(), {"input_form": "full", "num_trials": 50}, 20, seed=0)
    assert len(trials) == 1000 and set(trials["trial_index"]) == set(range(50))
    assert two_step.signature(two_step.stay_probabilities(trials))["rewarded_margin"] > 0.2


def test_harlow_accuracy_by_trial_on_hand_made_steps():
    steps = pd.DataFrame({"trial_index": [0, 1, 2, 0, 1, 2], "correct": [True, True, True, False, True, False]})
    accuracy = harlow.accuracy_by_trial(steps)
    assert accuracy["trial"].tolist() == [1, 2, 3]
    assert accuracy["correct"].tolist() == [0.5, 1.0, 0.5] and (accuracy["episodes"] == 2).all()


def test_regret_curve_mean_and_interval():
    frame = regret.curve("x", np.array([[0.0, 1.0, 1.0], [0.0, 0.0, 2.0]]))
    assert frame["pull"].tolist() == [1, 2, 3]
    assert frame["mean_regret"].tolist() == [0.0, 0.5, 1.5]
    assert frame["ci95_low"].iloc[0] == frame["ci95_high"].iloc[0] == 0.0


def regret_frame(agent_finals: dict[int, float], baselines: dict[str, float]) -> pd.DataFrame:
    """Two-pull curves: each seed's agent and each baseline ending at the given regret."""
    rows = [
        {
            "method": "trained agent",
            "seed": s,
            "pull": pull,
            "mean_regret": final * pull / 2,
            "ci95_low": 0.0,
            "ci95_high": final,
        }
        for s, final in agent_finals.items()
        for pull in (1, 2)
    ]
    rows += [
        {"method": m, "pull": pull, "mean_regret": final * pull / 2, "ci95_low": final - 0.1, "ci95_high": final + 0.1}
        for m, final in baselines.items()
        for pull in (1, 2)
    ]
    return pd.DataFrame(rows)  # fmt: skip


def test_regret_summary_takes_the_agents_mean_over_seeds_and_its_ratio_to_bayes_optimal():
    frame = regret_frame({0: 2.0, 1: 4.0}, {"Bayes-optimal": 1.5, "Greedy": 2.5})
    table = regret.summary(frame, "dependent_uniform").set_index("method")
    assert table.loc["trained agent", "regret"] == 3.0 and table.loc["trained agent", "seeds"] == 2
    low, high = table.loc["trained agent", ["ci95_low", "ci95_high"]]
    assert low < 2.0 and high > 4.0  # t with one degree of freedom: wider than the two seeds' spread
    assert table["ratio_to_bayes_optimal"].to_dict() == {
        "trained agent": 2.0,
        "Bayes-optimal": 1.0,
        "Greedy": 2.5 / 1.5,
    }
    seeds = regret.seeds_curve(frame)
    assert seeds["mean"].tolist() == [1.5, 3.0] and (seeds["seeds"] == 2).all()


def test_regret_summary_merges_one_task_at_a_time(tmp_path):
    path = tmp_path / regret.SUMMARY_FILE
    first = regret.summary(regret_frame({0: 2.0}, {"Bayes-optimal": 1.0}), "dependent_easy")
    regret.merge_summary(first, path)
    regret.merge_summary(regret.summary(regret_frame({0: 3.0}, {"Bayes-optimal": 1.0}), "dependent_hard"), path)
    again = regret.merge_summary(regret.summary(regret_frame({0: 1.2}, {"Bayes-optimal": 1.0}), "dependent_easy"), path)
    assert sorted(again["task"]) == ["dependent_easy"] * 2 + ["dependent_hard"] * 2
    easy = pd.read_csv(path).query("task == 'dependent_easy' and method == 'trained agent'")
    assert easy["regret"].tolist() == [1.2]


def test_regret_task_label_names_what_differs_from_the_defaults():
    assert regret.task_label("dependent_uniform", {"difficulty": "uniform", "trial_length": 100, "meta": True}) == (
        "dependent_uniform"
    )
    assert regret.task_label("k_armed", {"num_arms": 10, "trial_length": 100}) == "k_armed num_arms=10,trial_length=100"


def test_generalization_cells_are_means_over_seeds():
    frame = pd.DataFrame(
        [{"agent": "trained agent", "trained_on": "easy", "seed": seed, "tested_on": tested_on,
          "mean_return": 80.0 + seed, "regret_vs_bayes_optimal": 2.0 - seed}
         for seed in (0, 1) for tested_on in generalization.ORDER]
    )  # fmt: skip
    cells = generalization.cells_across_seeds(frame)
    assert len(cells) == 4 and (cells["seeds"] == 2).all()
    assert (cells["mean_return"] == 80.5).all() and (cells["regret_vs_bayes_optimal"] == 1.5).all()
    assert (cells["ci95_low"] < 80.0).all() and (cells["regret_ci95_high"] > 2.0).all()


def test_eleven_arm_final_figures_across_seeds():
    final = pd.DataFrame(
        [{"agent": "trained agent", "seed": seed, "return": 18.0 + seed, "informative_first": 0.9 + 0.1 * seed,
          "target_after_informative": 1.0, "trials": 10} for seed in (0, 1)]
    )  # fmt: skip
    seeds = eleven_arm.final_across_seeds(final).set_index("figure")
    assert seeds.loc["return", "mean"] == 18.5 and seeds.loc["informative_first", "mean"] == pytest.approx(0.95)
    assert seeds.loc["target_after_informative", "ci95_low"] == seeds.loc["target_after_informative", "mean"] == 1.0


def test_generalization_matrix_layout():
    frame = pd.DataFrame(
        [{"trained_on": t, "tested_on": s, "mean_return": 10 * i + j}
         for i, t in enumerate(["uniform", "easy"]) for j, s in enumerate(generalization.ORDER)]
    )  # fmt: skip
    matrix = generalization.as_matrix(frame, "mean_return")
    assert matrix.index.tolist() == ["easy", "uniform"] and matrix.columns.tolist() == generalization.ORDER
    assert generalization.markdown(matrix, digits=0).splitlines()[2] == "| easy | 10 | 11 | 12 | 13 |"


# -- the commands, end to end on tiny trained agents ------------------------------------------------------------------
def train(script: str, storage, *args: str, seeds: int = 1) -> None:
    result = run_script(script, *args, "--num-samples", str(seeds), "--eval-trials", "20", "--storage-path",
                        str(storage), "--no-dashboard")  # fmt: skip
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]


@pytest.mark.slow
def test_two_step_commands_take_every_seed_of_an_experiment(tmp_path):
    train("two_step.py", tmp_path, "--stop-iters", "2", "--name", "ts", seeds=2)
    frame = two_step.main(["--experiment", str(tmp_path / "ts"), "--episodes", "20"])
    assert list(dict.fromkeys(frame["agent"])) == ["trained agent", "model-free", "model-based"]
    agent = frame[frame["agent"] == "trained agent"]
    assert sorted(agent["seed"].unique()) == [0, 1]
    assert agent["count"].sum() == 2 * 20 * 99  # every trial but each episode's last, per seed
    assert (tmp_path / "ts" / "two_step_stay.png").stat().st_size > 0
    assert len(pd.read_csv(tmp_path / "ts" / "two_step_stay.csv")) == 16
    seeds = pd.read_csv(tmp_path / "ts" / "two_step_stay_across_seeds.csv")
    assert len(seeds) == 4 and (seeds["seeds"] == 2).all()
    per_seed = agent.pivot(index="condition", columns="seed", values="stay_probability")
    assert np.allclose(seeds.set_index("condition")["mean"], per_seed.mean(axis=1).loc[seeds["condition"]])
    assert (seeds["ci95_low"] <= seeds["mean"]).all() and (seeds["mean"] <= seeds["ci95_high"]).all()

    weights = two_step_regression.main(["--experiment", str(tmp_path / "ts"), "--episodes", "20"])
    assert set(weights.loc[weights["agent"] == "trained agent", "seed"]) == {0, 1}
    assert set(weights["term"]) >= {"reward effect", "model-based index"} and set(weights["lag"]) == {1, 2, 3, 4, 5}
    across = pd.read_csv(tmp_path / "ts" / "two_step_regression_across_seeds.csv")
    assert len(across) == 6 * 5 and (across["seeds"] == 2).all()
    assert (tmp_path / "ts" / "two_step_regression.png").stat().st_size > 0
    with pytest.raises(SystemExit) as exit_info:  # one experiment twice: its seeds would count double
        two_step.main(["--experiment", str(tmp_path / "ts"), str(tmp_path / "ts"), "--episodes", "2"])
    assert exit_info.value.code == 2


@pytest.mark.slow
def test_restless_command_sets_every_seeds_agent_beside_the_bayes_optimal_player(tmp_path):
    train("restless.py", tmp_path, "--stop-iters", "2", "--name", "r", seeds=2)
    frame = restless.main(["--experiment", str(tmp_path / "r"), "--trials", "40"])
    assert list(dict.fromkeys(frame["agent"])) == ["trained agent", "Bayes-optimal", "Random", "oracle"]
    assert set(frame["regime"]) == {"stable", "volatile"}
    agent = frame[frame["agent"] == "trained agent"]
    assert sorted(agent["seed"].unique()) == [0, 1] and (agent.groupby("seed")["trials"].sum() == 40).all()
    bayes = frame[frame["agent"] == "Bayes-optimal"].set_index("regime")["mean_return"]
    oracle = frame[frame["agent"] == "oracle"].set_index("regime")["mean_return"]
    assert (bayes < oracle).all() and bayes["stable"] > 60  # barely trained agents aside, the reference plays well
    rates = pd.read_csv(tmp_path / "r" / "restless_learning_rates.csv")
    assert set(rates["agent"]) == {"trained agent", "Bayes-optimal"} and rates["learning_rate"].between(0, 1).all()
    across = pd.read_csv(tmp_path / "r" / "restless_across_seeds.csv")
    assert len(across) == 4 and (across["seeds"] == 2).all()  # return and learning rate, per regime
    assert (tmp_path / "r" / "restless.png").stat().st_size > 0


@pytest.mark.slow
def test_harlow_command_takes_every_seed(tmp_path):
    train("harlow.py", tmp_path, "--stop-iters", "7", "--name", "h", seeds=2)  # the preset evaluates every 5 iterations
    final = harlow.main(["--experiment", str(tmp_path / "h"), "--episodes", "40"])
    assert sorted(final["seed"].unique()) == [0, 1] and (final["episodes"] == 40).all()
    assert final.groupby("seed")["trial"].apply(list).tolist() == [[1, 2, 3, 4, 5, 6]] * 2
    seeds = pd.read_csv(tmp_path / "h" / "harlow_accuracy_across_seeds.csv")
    assert seeds["trial"].tolist() == [1, 2, 3, 4, 5, 6] and (seeds["seeds"] == 2).all()
    assert np.allclose(seeds["mean"], final.groupby("trial")["correct"].mean())
    training = pd.read_csv(tmp_path / "h" / "harlow_training.csv")
    # iteration 5 of each seed; not 6 and 7, where RLlib repeats iteration 5's figures
    assert sorted(training["seed"]) == [0, 1] and (training["training_iteration"] == 5).all()
    assert training[[f"trial_{i}" for i in range(1, 7)]].apply(lambda c: c.between(0, 1)).all().all()
    assert (tmp_path / "h" / "harlow_accuracy.png").stat().st_size > 0


@pytest.mark.slow
def test_generalization_and_regret_commands_take_every_seed(tmp_path):
    train("two_armed_dependent.py", tmp_path, "--difficulty", "easy", "--stop-iters", "2", "--name", "easy",
          "--set", "checkpoint_every=1", seeds=2)  # fmt: skip
    # each seed's checkpoint: by training return, or the kept one that plays best on the tuning trials
    by_score = dict(trial_checkpoints([tmp_path / "easy"]))
    by_play = dict(trial_checkpoints([tmp_path / "easy"], checkpoint_trials=40))
    assert sorted(by_score) == sorted(by_play) == [0, 1]
    for seed, chosen in by_play.items():
        kept = sorted(str(path) for path in Path(chosen).parent.glob("checkpoint_*"))
        assert len(kept) == 2 and by_score[seed] in kept
        returns = [evaluate_checkpoint(path, "dependent_easy", {}, 40, stream=TUNING_STREAM)["return"].mean()
                   for path in kept]  # fmt: skip
        assert chosen == kept[int(np.argmax(returns))]
    frame = generalization.main(["--storage-path", str(tmp_path), "--trials", "20", "--output-dir", str(tmp_path)])
    assert set(frame["trained_on"]) == {"easy"} and sorted(frame["seed"].unique()) == [0, 1]
    assert frame[frame["seed"] == 0]["tested_on"].tolist() == generalization.ORDER
    expected = frame["bayes_optimal_return"] - frame["mean_return"]
    assert np.allclose(frame["regret_vs_bayes_optimal"], expected)
    assert frame.set_index("tested_on")["bayes_optimal_return"]["easy"].iloc[0] == pytest.approx(89.375, abs=0.01)
    cells = pd.read_csv(tmp_path / "generalization_across_seeds.csv")
    assert len(cells) == 4 and (cells["seeds"] == 2).all()
    assert "| easy |" in (tmp_path / "generalization.md").read_text()

    curves = regret.main(["--experiment", str(tmp_path / "easy"), "--trials", "30", "--tuning-trials", "10"])
    methods = list(dict.fromkeys(curves["method"]))
    assert methods[0] == "trained agent" and "Bayes-optimal" in methods and "UCB1" in methods
    assert sorted(curves.loc[curves["method"] == "trained agent", "seed"].unique()) == [0, 1]
    summary = pd.read_csv(tmp_path / "easy" / regret.SUMMARY_FILE).set_index("method")
    assert (summary["task"] == "dependent_easy").all() and summary.loc["trained agent", "seeds"] == 2
    assert summary.loc["Bayes-optimal", "ratio_to_bayes_optimal"] == 1.0
    assert summary.loc["Bayes-optimal", "regret"] < summary.loc["Random", "regret"]
    agent = curves[curves["method"] != "trained agent"]
    assert (agent.groupby("method")["mean_regret"].apply(lambda r: r.is_monotonic_increasing)).all()
    with pytest.raises(SystemExit) as exit_info:  # no agent and no task: nothing to measure
        regret.main(["--trials", "3"])
    assert exit_info.value.code == 2


def test_two_step_commands_name_a_missing_experiment(tmp_path, capsys):
    for command in (two_step, two_step_regression):
        with pytest.raises(SystemExit) as exit_info:
            command.main(["--experiment", str(tmp_path / "nowhere")])
        assert exit_info.value.code == 2 and "is not an experiment folder" in capsys.readouterr().err


def test_generalization_command_names_a_missing_storage(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        generalization.main(["--storage-path", str(tmp_path / "nowhere")])
    assert exit_info.value.code == 2 and "no finished dependent-bandit experiment" in capsys.readouterr().err


@pytest.mark.slow
def test_eleven_arm_strategy_command(eleven_arm_run, tmp_path):
    assert eleven_arm_run.returncode == 0, eleven_arm_run.output[-3000:]
    arguments = ["--experiment", str(eleven_arm_run.path), "--trials", "50", "--output-dir", str(tmp_path)]
    history = eleven_arm.main(arguments)
    assert history["informative_first"].between(0, 1).all()
    assert history["informative_first"].iloc[-1] > history["informative_first"].iloc[0]  # the strategy is learned
    final = pd.read_csv(tmp_path / "eleven_arm_final.csv")
    assert final["seed"].tolist() == [7] and (final["trials"] == 50).all()
    assert final["informative_first"].between(0, 1).all() and final["return"].iloc[0] > 10  # random play: 7.0
    seeds = pd.read_csv(tmp_path / "eleven_arm_final_across_seeds.csv")
    assert set(seeds["figure"]) == {"return", "informative_first", "target_after_informative"}
    assert (tmp_path / "eleven_arm_strategy.png").stat().st_size > 0


@pytest.mark.slow
def test_two_step_command_rejects_a_checkpoint_of_another_task(eleven_arm_run, capsys):
    with pytest.raises(SystemExit) as exit_info:
        two_step.main(["--experiment", str(eleven_arm_run.path), "--episodes", "2"])
    assert exit_info.value.code == 2 and "not on two_step" in capsys.readouterr().err
