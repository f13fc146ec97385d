"""The RL^2 tables command on a small budget: baselines tuned and played, trained agents found and evaluated."""

import argparse

import numpy as np
import pandas as pd
import pytest
from conftest import run_script

from rllib_metarl.analysis import bandit_behaviour, memory_probe, rl2_tables
from rllib_metarl.analysis.recipe import Recipe, recipe_of
from rllib_metarl.baselines.bandits import GittinsPolicy, GreedyPolicy, UCB1Policy
from rllib_metarl.baselines.play import baseline_steps, play_baseline


def test_markdown_marks_paper_figures_outside_our_interval():
    frame = pd.DataFrame(
        [
            {"table": "mdps", "n": 10, "k": None, "method": "Greedy", "mean": 153.2, "ci95_low": 151.6,
             "ci95_high": 154.8, "paper": 134.8, "paper_in_ci": False},
            {"table": "mdps", "n": 10, "k": None, "method": "Random", "mean": 100.1, "ci95_low": 98.8,
             "ci95_high": 101.4, "paper": 100.1, "paper_in_ci": True},
        ]
    )  # fmt: skip
    lines = rl2_tables.markdown(frame, "mdps").splitlines()
    assert lines[0] == "| n | Greedy | Random |"
    assert lines[2] == "| 10 | 153.2 [151.6, 154.8] (134.8*) | 100.1 [98.8, 101.4] (100.1) |"
    assert rl2_tables.markdown(frame, "bandits") == ""


def test_bandit_cells_parse_and_reject_bad_text():
    assert rl2_tables.bandit_cell("100x5") == rl2_tables.Cell("bandits", 100, 5)
    for bad in ("100", "10x1", "ax5"):
        with pytest.raises(argparse.ArgumentTypeError, match=bad):
            rl2_tables.bandit_cell(bad)


@pytest.mark.slow
def test_tables_command_with_trained_agents(tmp_path):
    storage = tmp_path / "runs"
    mdp_args = ["--n", "2", "--pretrain-memory", "2"]  # the preset's recipe, with 2 s of pretraining, not 300
    runs = [
        ("rl2_bandits.py", ["--n", "4", "--k", "3", "--name", "plain"]),
        ("rl2_bandits.py", ["--n", "4", "--k", "3", "--name", "statistics", "--env-arg", "trial_statistics=True"]),
        ("rl2_mdps.py", mdp_args),
    ]
    for script, args in runs:
        result = run_script(
            script, *args, "--stop-iters", "2", "--num-samples", "1", "--eval-trials", "10",
            "--storage-path", str(storage), "--no-dashboard",
        )  # fmt: skip
        assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    agents = rl2_tables.find_agents(storage)[rl2_tables.Cell("bandits", 4, 3)]
    plain, statistics = sorted(agents, key=lambda agent: agent["experiment"] != "plain")
    kept = rl2_tables.find_agents(storage, all_checkpoints=True)[rl2_tables.Cell("bandits", 4, 3)]
    kept_plain = [agent for agent in kept if agent["experiment"] == "plain"]
    assert [agent["checkpoint"] for agent in kept_plain] == [plain["checkpoint"]]  # 2 iterations: one checkpoint
    assert kept_plain[0]["checkpoint_iteration"] == 2 and kept_plain[0]["selection"] == "a checkpoint Tune kept"
    assert (plain["rl2"], plain["recipe"], plain["wrapper_config"]) == (True, "PPO + LSTM", {})
    assert (statistics["rl2"], statistics["recipe"]) == (False, "PPO + LSTM, trial-statistics inputs")
    assert statistics["wrapper_config"] == {"trial_statistics": True}
    assert statistics["training_command"].endswith(
        f"--env-arg trial_statistics=True --stop-iters 2 --num-samples 1 --eval-trials 10 --storage-path {storage} "
        "--no-dashboard"
    )
    output = tmp_path / "tables"
    frame = rl2_tables.main(
        ["--bandit-cells", "4x3", "10x5", "--mdp-cells", "2", "--trials", "60", "--tuning-trials", "20",
         "--storage-path", str(storage), "--output-dir", str(output)]
    )  # fmt: skip
    methods = frame.groupby(["table", "n"])["method"].apply(set)
    bandit_methods = {"Random", "Gittins", "TS", "OTS", "UCB1", "eps-Greedy", "Greedy", "Bayes-optimal"}
    assert methods[("bandits", 4)] == bandit_methods | {"RL^2", "Best agent"}  # the trained agents were found
    assert methods[("bandits", 10)] == bandit_methods  # no agent trained for it
    # The MDP preset adds the reward-prediction loss and pretraining: a Best agent, not RL^2.
    assert methods[("mdps", 2)] == {"Random", "PSRL", "OPSRL", "UCRL2", "BEB", "eps-Greedy", "Greedy", "Best agent"}
    assert (frame["trials"] == 60).all() and (frame["ci95_low"] < frame["mean"]).all()
    paper = frame.set_index(["table", "n", "method"])["paper"]
    assert paper[("bandits", 10, "Gittins")] == 6.6 and pd.isna(paper[("bandits", 4, "Gittins")])
    tuned = frame.set_index(["table", "n", "method"])["parameter"]
    assert tuned[("bandits", 10, "UCB1")].startswith("c=") and tuned[("mdps", 2, "BEB")].startswith("beta=")
    rl2 = frame[(frame["method"] == "RL^2") & (frame["table"] == "bandits")].iloc[0]
    assert rl2["experiment"] == "plain" and rl2["recipe"] == "PPO + LSTM"
    agent = frame[(frame["method"] == "Best agent") & (frame["table"] == "mdps")].iloc[0]
    assert (
        "reward-prediction loss (weight 1)" in agent["recipe"]
        and "2 s of supervised memory pretraining" in agent["recipe"]
    )
    assert agent["checkpoint"].startswith(str(storage)) and agent["train_wall_time_s"] > 0
    assert 0 < agent["normalized"] < 1.5  # mean return over the mean oracle return
    text = (output / "rl2_tables.md").read_text()
    assert "### Table 1: bandits" in text and "### Table 2: tabular MDPs" in text and "| 4 | 3 |" in text
    assert "### The agents" in text and "| mdps n=2 | Best agent | PPO + ATTENTION, reward-prediction loss" in text
    pd.testing.assert_frame_equal(pd.read_csv(output / "rl2_tables.csv")[["n", "mean"]], frame[["n", "mean"]])
    # Each player of the cell replayed as the table measured it (the Best agent with its statistics inputs): the same
    # returns, now with how it played.
    behaviour = bandit_behaviour.main(["--bandit-cells", "4x3", "--output-dir", str(output)]).set_index("method")
    measured = frame[(frame["table"] == "bandits") & (frame["n"] == 4)].set_index("method")["mean"]
    assert set(behaviour.index) == set(measured.index)
    np.testing.assert_allclose(behaviour["return"], measured[behaviour.index], rtol=0, atol=1e-9)
    assert behaviour["arms_tried"].between(1, 3).all() and behaviour["stay_after_win"].between(0, 1).all()
    # The RL^2 agent's memory probed on the same trials: its states recorded step by step as it played them.
    probed = memory_probe.main(["--bandit-cells", "4x3", "--output-dir", str(output)]).set_index("method")
    assert probed.index.tolist() == ["RL^2"] and probed.loc["RL^2", "return"] == pytest.approx(measured["RL^2"])
    assert probed.loc["RL^2", "state_size"] > 0
    assert probed.loc["RL^2", ["tried_accuracy", "tried_majority", "best_arm_read"]].between(0, 1).all()
    assert probed.loc["RL^2", ["gittins_head", "gittins_head_tally"]].between(0, 1).all()  # fitted on Gittins' play


def test_behaviour_pools_stays_after_wins_and_losses_over_trials():
    # Trial 0 pulls arms 0 0 1 1 (rewards 1 0 0 1), trial 1 pulls 2 2 2 2 (rewards 1 1 0 0); arm 2 is the best.
    actions, rewards = [0, 0, 1, 1, 2, 2, 2, 2], [1, 0, 0, 1, 1, 1, 0, 0]
    steps = pd.DataFrame({"trial": [0] * 4 + [1] * 4, "step": [0, 1, 2, 3] * 2, "action": actions, "reward": rewards,
                          "optimal_action": [2] * 8})  # fmt: skip
    figures = bandit_behaviour.behaviour(steps, num_arms=3, gittins_discount=0.9)
    assert figures["stay_after_win"] == 1.0  # wins (trial/pull) 0/0, 1/0, 1/1: each followed by the same arm
    assert figures["stay_after_loss"] == 2 / 3  # losses 0/1 (left), 0/2 and 1/2 (stayed)
    assert figures["arms_tried"] == 1.5 and figures["best_arm_share_last_tenth"] == 0.5
    assert figures["switches"] == 0.5 and figures["switches_back"] == 0.0  # one change, 0/1 -> 0/2, to a new arm


def test_behaviour_counts_switches_back_to_an_arm_pulled_before():
    # One trial pulls 0 1 0 2 2 1: changes 0->1 (new), 1->0 (back), 0->2 (new), 2->1 (back).
    steps = pd.DataFrame({"trial": [0] * 6, "step": range(6), "action": [0, 1, 0, 2, 2, 1],
                          "reward": [0, 0, 0, 1, 0, 0], "optimal_action": [2] * 6})  # fmt: skip
    figures = bandit_behaviour.behaviour(steps, num_arms=3, gittins_discount=0.9)
    assert figures["switches"] == 4 and figures["switches_back"] == 0.5
    # The best arm so far (wins/pulls) before pulls 1-5: arm 0 (0/1); arms 0 and 1 tied (0/1 each); arm 1 (0/1 beats
    # arm 0's 0/2); arm 2 (1/1); arm 2 (1/2). Pulled: 1 (new), 0 (best), 2 (new), 2 (best), 1 (worse).
    assert figures["best_so_far_pulled"] == 2 / 5


def test_the_tally_counts_the_earlier_pulls_only():
    # Pulls 0 0 1 1 paying 1 0 0 1: before step 2 arm 0 has 1 win in 2 pulls, arm 1 none.
    counts = bandit_behaviour.counts_before_each_step(np.array([[0, 0, 1, 1]]), np.array([[1, 0, 0, 1]]), 2)
    tried, win_rate = bandit_behaviour.tried_and_win_rate(*counts)
    assert tried[0].tolist() == [[False, False], [True, False], [True, False], [True, True]]
    np.testing.assert_allclose(win_rate[0], [[0.5, 0.5], [2 / 3, 0.5], [0.5, 0.5], [0.5, 1 / 3]])


def test_gittins_would_pull_the_arms_of_highest_index_after_the_earlier_pulls():
    # Arm 0 pays, then arm 1 fails (trial 0); arm 0 fails, then arm 1 pays (trial 1). Every arm is untried before the
    # first pull; after it a winning arm (index above 1/2) beats the untried ones, and untried ones beat a losing arm.
    actions, rewards = np.array([[0, 1, 2], [0, 1, 2]]), np.array([[1, 0, 0], [0, 1, 0]])
    counts = bandit_behaviour.counts_before_each_step(actions, rewards, 3)
    choices = bandit_behaviour.gittins_choices(*counts, discount=0.9)
    assert choices[:, 0].all()
    assert choices[0, 1].tolist() == [True, False, False] and choices[0, 2].tolist() == [True, False, False]
    assert choices[1, 1].tolist() == [False, True, True] and choices[1, 2].tolist() == [False, True, False]


def test_the_gittins_player_plays_as_gittins_and_greedy_does_not_always():
    env_config = {"num_arms": 10, "trial_length": 30, "meta": True}
    figures = {
        policy.name: bandit_behaviour.behaviour(baseline_steps(policy, "k_armed", env_config, 200, seed=4)[1], 10, 0.9)
        for policy in (GittinsPolicy(discount=0.9), GreedyPolicy())
    }
    assert figures["Gittins"]["gittins_pulls"] == 1.0
    # Greedy values an untried arm at its prior mean, 1/2: it stays on an arm as good as that, where Gittins, which
    # values what a pull teaches, tries a new one.
    assert figures["Greedy"]["gittins_pulls"] < 0.95


def test_a_player_that_always_pulls_the_best_arm_so_far_scores_one():
    # A greedy player on the posterior means: every pull after the first goes to the best tried arm.
    rng = np.random.default_rng(2)
    trials, length, arms = 50, 10, 3
    chances = rng.random((trials, arms))
    actions, rewards = np.zeros((trials, length), dtype=int), np.zeros((trials, length))
    rewards[:, 0] = rng.random(trials) < chances[:, 0]
    for step in range(1, length):
        counts = bandit_behaviour.counts_before_each_step(actions, rewards, arms)
        tried, win_rate = bandit_behaviour.tried_and_win_rate(*counts)
        actions[:, step] = np.where(tried[:, step], win_rate[:, step], -1).argmax(axis=1)
        rewards[:, step] = rng.random(trials) < chances[np.arange(trials), actions[:, step]]
    steps = pd.DataFrame({"trial": np.repeat(np.arange(trials), length), "step": np.tile(np.arange(length), trials),
                          "action": actions.ravel(), "reward": rewards.ravel(), "optimal_action": 0})  # fmt: skip
    assert bandit_behaviour.behaviour(steps, arms, gittins_discount=0.9)["best_so_far_pulled"] == 1.0


def test_behaviour_reads_the_tables_rows_and_names_what_it_cannot_play(tmp_path, capsys):
    assert rl2_tables.parameters_of(rl2_tables.parameters_text({"c": 0.1})) == {"c": 0.1}
    assert rl2_tables.parameters_of(np.nan) == {} and rl2_tables.parameters_text({}) == ""
    rows = [{"table": "bandits", "n": 10, "k": 5, "method": method, "trials": 40, "seed": 3, "mean": 0.0,
             "parameter": parameter, "checkpoint": checkpoint, "explore": explore}
            for method, parameter, checkpoint, explore in (("UCB1", "c=0.1", None, None),
                                                           ("RL^2", None, str(tmp_path / "gone"), False))]  # fmt: skip
    pd.DataFrame(rows).to_csv(tmp_path / "rl2_tables.csv", index=False)
    with pytest.raises(SystemExit) as exit_info:  # the Gittins choices need the discount the table tuned
        bandit_behaviour.main(["--bandit-cells", "10x5", "--output-dir", str(tmp_path)])
    assert exit_info.value.code == 2 and "no Gittins row for bandit cell 10x5" in capsys.readouterr().err
    rows.append({**rows[0], "method": "Gittins", "parameter": "discount=0.5"})
    pd.DataFrame(rows).to_csv(tmp_path / "rl2_tables.csv", index=False)
    with pytest.raises(SystemExit) as exit_info:
        bandit_behaviour.main(["--bandit-cells", "10x5", "100x50", "--output-dir", str(tmp_path)])
    assert exit_info.value.code == 2 and "no bandit cell 100x50" in capsys.readouterr().err
    assert not (tmp_path / bandit_behaviour.OUTPUT_FILE).exists()  # nothing played before the bad cell was named
    frame = bandit_behaviour.main(["--bandit-cells", "10x5", "--output-dir", str(tmp_path)])
    assert frame["method"].tolist() == ["UCB1", "Gittins"] and "RL^2           left out" in capsys.readouterr().out
    ucb = play_baseline(UCB1Policy(c=0.1), "k_armed", {"num_arms": 5, "trial_length": 10, "meta": True}, 40, seed=3)
    assert frame["return"].iloc[0] == pytest.approx(ucb["return"].mean())  # the row's trials, seed and parameter
    assert frame["gittins_pulls"].tolist()[1] == 1.0


def test_recipes_name_everything_beyond_rl2():
    plain = {"preset": {"algo": "ppo", "core": "gru", "reward_prediction_coeff": 0.0}, "env_config": {}}
    assert recipe_of(plain) == Recipe("PPO + GRU", rl2=True)
    heads = {**plain, "preset": {**plain["preset"], "head_hiddens": [64], "heads_read_input": True}}
    assert recipe_of(heads) == Recipe("PPO + GRU (64-unit heads, heads read the input)", rl2=True)
    assert recipe_of({**plain, "env_config": {"trial_statistics": True}}).text == "PPO + GRU, trial-statistics inputs"
    uncertain = {**plain, "env_config": {"trial_statistics": True, "statistics_uncertainty": True}}
    assert recipe_of(uncertain).text == "PPO + GRU, trial-statistics inputs with visit uncertainty"
    head = {"preset": {**plain["preset"], "statistics_head": True}, "env_config": {"trial_statistics": True}}
    assert recipe_of(head).text == "PPO + GRU, trial-statistics inputs, per-action statistics head"
    started = recipe_of({**plain, "init_from": "/nowhere/exp/PPO_x/checkpoint_000001"})
    assert started == Recipe("PPO + GRU, started from the checkpoint /nowhere/exp/PPO_x/checkpoint_000001", rl2=False)
    pretrained = {"preset": {"algo": "ppo", "core": "attention", "reward_prediction_coeff": 1.0,
                             "reward_logits_weight": 10.0, "pretrain_memory_s": 300.0}}  # fmt: skip
    assert recipe_of(pretrained).text == (
        "PPO + ATTENTION, reward-prediction loss (weight 1), policy reads the "
        "reward head (from 10), 300 s of supervised memory pretraining"
    )


def test_the_agent_and_its_action_mode_are_chosen_on_the_tuning_trials_not_the_held_out_ones(monkeypatch):
    from rllib_metarl import evaluation
    from rllib_metarl.utils.seeding import TUNING_STREAM

    calls = []
    means = {("weak", False): 5.0, ("weak", True): 5.5, ("strong", False): 6.0, ("strong", True): 5.8}

    def fake_evaluate(module, task, env_config, num_trials, seed, explore=False, *, stream):
        calls.append((module, explore, stream, num_trials))
        return pd.DataFrame({"return": np.full(num_trials, means[module, explore])})

    loaded = []
    monkeypatch.setattr(evaluation, "load_module", lambda checkpoint: loaded.append(checkpoint) or checkpoint)
    monkeypatch.setattr(evaluation, "evaluate_module", fake_evaluate)
    cell = rl2_tables.Cell("bandits", 10, 5)
    candidates = [{"checkpoint": name, "experiment": name, "selection": "best checkpoint by training return",
                   "wrapper_config": {}} for name in ("weak", "strong")]  # fmt: skip
    scored = rl2_tables.score_agents(cell, candidates, tuning_trials=30, seed=0)
    chosen = rl2_tables.choose_agent(scored, tuning_trials=30)
    assert (chosen["checkpoint"], chosen["explore"], chosen["tuning_trials"]) == ("strong", False, 30)
    assert chosen["tuning_mean"] == means["strong", False]
    assert chosen["selection"].endswith("best of 2 runs, greedy actions, chosen on 30 tuning trials")
    assert {(c, e) for c, e, _, _ in calls} == set(means)
    assert {(stream, trials) for _, _, stream, trials in calls} == {(TUNING_STREAM, 30)}
    assert loaded == ["weak", "strong"]  # each checkpoint loaded once, for both ways of acting
    means["weak", True] = 7.0  # sampling can beat acting greedily, and then it is chosen
    scored = rl2_tables.score_agents(cell, candidates[:1], tuning_trials=30, seed=0)
    assert rl2_tables.choose_agent(scored, tuning_trials=30)["explore"] is True
    # several checkpoints of one run (--all-checkpoints): the row says so
    kept = [{**candidates[0], "checkpoint": name, "selection": "a checkpoint Tune kept"} for name in ("weak", "strong")]
    chosen = rl2_tables.choose_agent(rl2_tables.score_agents(cell, kept, tuning_trials=30, seed=0), tuning_trials=30)
    assert chosen["checkpoint"] == "weak" and chosen["selection"] == (
        "a checkpoint Tune kept; best of 2 checkpoints of one run, sampled actions, chosen on 30 tuning trials"
    )


@pytest.mark.slow
def test_update_replaces_only_the_cells_it_measures(tmp_path):
    common = ["--table", "bandits", "--trials", "30", "--tuning-trials", "10", "--no-agents",
              "--output-dir", str(tmp_path)]  # fmt: skip
    with pytest.raises(SystemExit) as stop:  # nothing saved yet to update
        rl2_tables.main(["--bandit-cells", "5x3", "--update", *common])
    assert stop.value.code == 2
    first = rl2_tables.main(["--bandit-cells", "4x3", "5x3", *common])
    rl2_tables.main(["--bandit-cells", "5x3", "--seed", "1", "--update", *common])
    saved = pd.read_csv(tmp_path / "rl2_tables.csv")
    assert saved[["n", "method"]].values.tolist() == first[["n", "method"]].values.tolist()  # same rows, same order
    kept, redone = saved["n"] == 4, saved["n"] == 5
    assert saved.loc[kept, "mean"].tolist() == first.loc[first["n"] == 4, "mean"].tolist()
    assert saved.loc[redone, "mean"].tolist() != first.loc[first["n"] == 5, "mean"].tolist()  # other trials (seed 1)
    assert saved.loc[redone, "command"].str.contains("--seed 1 --update").all()
    assert not saved.loc[kept, "command"].str.contains("--update").any()
    assert "\nbandits,4,3,Random," in (tmp_path / "rl2_tables.csv").read_text()  # cells written as before
    header = (tmp_path / "rl2_tables.md").read_text().splitlines()[0]
    assert "(4x3)" in header and "--update" in header and "(5x3)" in header


def test_update_keeps_a_saved_agent_the_new_measurement_does_not_beat(tmp_path):
    def row(method, mean, n=100, checkpoint=""):
        return {"table": "bandits", "n": n, "k": 50, "method": method, "trials": 1000, "seed": 0, "mean": mean,
                "command": "python -m analysis.rl2_tables", "checkpoint": checkpoint}  # fmt: skip

    agent = {"checkpoint": "a"}
    saved = pd.DataFrame([row("Random", 50.0), row("RL^2", 52.3, **agent), row("Best agent", 52.3, **agent),
                          row("Random", 5.0, n=10)])  # fmt: skip
    saved.to_csv(tmp_path / "rl2_tables.csv", index=False)
    better = pd.DataFrame([row("Random", 50.1), row("Best agent", 57.5, checkpoint="b")])  # a new recipe, no RL^2
    merged = rl2_tables.merge_into_saved(better, tmp_path).set_index(["n", "method"])["mean"]
    assert merged.to_dict() == {(100, "Random"): 50.1, (100, "RL^2"): 52.3, (100, "Best agent"): 57.5,
                                (10, "Random"): 5.0}  # fmt: skip
    worse = pd.DataFrame([row("Random", 50.1), row("Best agent", 51.0, checkpoint="b")])
    assert rl2_tables.merge_into_saved(worse, tmp_path).set_index(["n", "method"])["mean"][(100, "Best agent")] == 52.3
    again = pd.DataFrame([row("Random", 50.1), row("Best agent", 51.0, checkpoint="a")])  # the same agent, re-measured
    assert rl2_tables.merge_into_saved(again, tmp_path).set_index(["n", "method"])["mean"][(100, "Best agent")] == 51.0


def test_update_compares_agents_on_their_tuning_trials_where_both_rows_hold_them(tmp_path):
    def row(method, mean, tuning_mean, checkpoint, tuning_trials=500):
        return {"table": "bandits", "n": 100, "k": 50, "method": method, "trials": 1000, "seed": 0, "mean": mean,
                "tuning_mean": tuning_mean, "tuning_trials": tuning_trials, "checkpoint": checkpoint,
                "command": "python -m analysis.rl2_tables"}  # fmt: skip

    pd.DataFrame([row("Best agent", 84.1, 83.0, "a")]).to_csv(tmp_path / "rl2_tables.csv", index=False)

    def merged_mean(new_row):
        return rl2_tables.merge_into_saved(pd.DataFrame([new_row]), tmp_path)["mean"].item()

    # Chosen over the saved agent on the tuning trials: it replaces it, although its held-out mean is lower.
    assert merged_mean(row("Best agent", 83.9, 83.4, "b")) == 83.9
    # Lower on the tuning trials: the saved agent stays, although the held-out mean is higher.
    assert merged_mean(row("Best agent", 84.5, 82.9, "b")) == 84.1
    # Tuning means of other tuning trials are not compared: the held-out means are.
    assert merged_mean(row("Best agent", 84.0, 83.4, "b", tuning_trials=200)) == 84.1
    # A saved row without a tuning mean (measured before the tables kept it) is compared on the held-out trials.
    pd.DataFrame([{**row("Best agent", 84.1, None, "a")}]).drop(columns=["tuning_mean", "tuning_trials"]).to_csv(
        tmp_path / "rl2_tables.csv", index=False
    )
    assert merged_mean(row("Best agent", 83.9, 83.4, "b")) == 84.1
    assert merged_mean(row("Best agent", 84.3, 83.4, "b")) == 84.3
    # Unless the saved agent was among the candidates the new one was chosen over on the tuning trials.
    chosen_over_saved = rl2_tables.merge_into_saved(pd.DataFrame([row("Best agent", 83.9, 83.4, "b")]), tmp_path,
                                                    scored=frozenset({"a", "b"}))  # fmt: skip
    assert chosen_over_saved["mean"].item() == 83.9


def test_replace_unrecorded_gives_a_saved_agent_without_its_command_way_to_one_with_it(tmp_path):
    def row(mean, checkpoint, training_command):
        return {"table": "bandits", "n": 500, "k": 10, "method": "RL^2", "trials": 1000, "seed": 0, "mean": mean,
                "checkpoint": checkpoint, "training_command": training_command,
                "command": "python -m analysis.rl2_tables"}  # fmt: skip

    pd.DataFrame([row(372.3, "a", None)]).to_csv(tmp_path / "rl2_tables.csv", index=False)
    rerun = pd.DataFrame([row(365.0, "b", "python tune_configs/rl2_bandits.py -n 500 --k 10")])
    assert rl2_tables.merge_into_saved(rerun, tmp_path)["mean"].item() == 372.3  # lower: kept by default
    assert rl2_tables.merge_into_saved(rerun, tmp_path, replace_unrecorded=True)["mean"].item() == 365.0
    unrecorded = pd.DataFrame([row(365.0, "b", None)])  # no better for being rerun without its command
    assert rl2_tables.merge_into_saved(unrecorded, tmp_path, replace_unrecorded=True)["mean"].item() == 372.3
    pd.DataFrame([row(372.3, "a", "python tune_configs/rl2_bandits.py -n 500 --k 10 --seed 1")]).to_csv(
        tmp_path / "rl2_tables.csv", index=False
    )
    assert rl2_tables.merge_into_saved(rerun, tmp_path, replace_unrecorded=True)["mean"].item() == 372.3


def test_replace_unrecorded_needs_update():
    with pytest.raises(SystemExit) as exit_info:
        rl2_tables.parse_args(["--replace-unrecorded"])
    assert exit_info.value.code == 2


def test_agents_only_keeps_the_saved_baselines_rows(tmp_path, monkeypatch):
    saved = pd.DataFrame([{"table": "bandits", "n": 100, "k": 50, "method": method, "trials": 1000, "seed": 0,
                           "mean": mean, "ci95_low": mean - 1, "ci95_high": mean + 1, "paper": 84.9,
                           "paper_in_ci": False, "command": "python -m analysis.rl2_tables", "checkpoint": checkpoint}
                          for method, mean, checkpoint in (("Random", 50.0, ""), ("Gittins", 85.4, ""),
                                                           ("Best agent", 63.0, "a"))])  # fmt: skip
    saved.to_csv(tmp_path / "rl2_tables.csv", index=False)
    measured = []

    def fake_agent_rows(cell, candidates, trials, tuning_trials, seed):
        measured.append(cell)
        return [{**saved.iloc[2].to_dict(), "mean": 80.0, "checkpoint": "b", "paper": 84.9, "recipe": "PPO + LSTM",
                 "experiment": "b", "train_wall_time_s": 1800.0, "selection": "one run"}]  # fmt: skip

    found = {rl2_tables.Cell("bandits", 100, 50): [{"checkpoint": "b"}]}
    monkeypatch.setattr(rl2_tables, "find_agents", lambda path, all_checkpoints: found)
    monkeypatch.setattr(rl2_tables, "agent_rows", fake_agent_rows)
    rl2_tables.main(["--table", "bandits", "--bandit-cells", "100x50", "--agents-only", "--update",
                     "--output-dir", str(tmp_path)])  # fmt: skip
    merged = pd.read_csv(tmp_path / "rl2_tables.csv").set_index("method")["mean"].to_dict()
    assert merged == {"Random": 50.0, "Gittins": 85.4, "Best agent": 80.0} and len(measured) == 1
    for bad in (["--agents-only"], ["--agents-only", "--update", "--no-agents"]):
        with pytest.raises(SystemExit) as stop:
            rl2_tables.parse_args([*bad, "--output-dir", str(tmp_path)])
        assert stop.value.code == 2


def test_an_agent_falls_short_of_the_papers_figure_or_of_the_bayes_optimal_where_that_is_lower():
    def row(n, k, method, mean, high):
        return {"table": "bandits", "n": n, "k": k, "method": method, "mean": mean, "ci95_high": high,
                "recipe": "PPO + LSTM", "experiment": "x", "train_wall_time_s": 60.0,
                "selection": "one run"}  # fmt: skip

    frame = pd.DataFrame([row(10, 50, "Bayes-optimal", 6.72, 6.85), row(10, 50, "RL^2", 6.56, 6.70),
                          row(100, 50, "Best agent", 62.0, 63.0), row(10, 5, "RL^2", 6.6, 6.75)])  # fmt: skip
    lines = rl2_tables.agents_markdown(frame).splitlines()[2:]
    shorts = [line.split(" | ")[5] for line in lines]
    assert shorts == ["0.02", "21.90", "-"]  # 6.72 (not the paper's 6.8) - 6.70; 84.9 - 63.0; 6.75 reaches 6.7
