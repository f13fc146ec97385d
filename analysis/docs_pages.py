"""Write the results pages of docs/ and README's headline table from the data files the analyses and benchmarks write.

python -m analysis.docs_pages            # rewrite docs/results/*.md and the table between README's markers
python -m analysis.docs_pages --check    # write nothing; exit 1 naming every page that differs from its data

Nothing in a results page is typed by hand: each table below is computed from a CSV under analysis/results/ or a
JSONL under benchmarks/results/, and each page names the commands that wrote its data. tests/test_docs_pages.py
runs --check, so a page and its data cannot drift apart.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from rllib_metarl.analysis.bandit_behaviour import OUTPUT_FILE as BEHAVIOUR_FILE
from rllib_metarl.analysis.generalization import as_matrix
from rllib_metarl.analysis.generalization import markdown as generalization_markdown
from rllib_metarl.analysis.memory_probe import OUTPUT_FILE as MEMORY_PROBE_FILE
from rllib_metarl.analysis.regret import BAYES_OPTIMAL
from rllib_metarl.analysis.rl2_tables import agents_markdown as rl2_agents_markdown
from rllib_metarl.analysis.rl2_tables import markdown as rl2_markdown
from rllib_metarl.analysis.rl2_tables import measured_by
from rllib_metarl.analysis.seeds import TRAINED
from rllib_metarl.baselines.bandits import RandomPolicy
from rllib_metarl.cli.main import exit_code
from rllib_metarl.tasks import TASKS
from rllib_metarl.utils.atomic_io import write_text

ROOT = Path(__file__).resolve().parents[1]
ANALYSES = ROOT / "analysis" / "results"
REGRET_TARGET = 1.5  # an agent's regret within this factor of the Bayes-optimal policy's meets the target
BENCHMARKS = ROOT / "benchmarks" / "results"
README_BEGIN = "<!-- headline results: written by python -m analysis.docs_pages -->"
README_END = "<!-- end of headline results -->"
GENERATED = "<!-- Written by `python -m analysis.docs_pages` from the data files named below; do not edit. -->"


def newest(records: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The newest record of every combination of ``keys`` (JSONL results files only ever append)."""
    return records.sort_values("date").groupby(keys, sort=False).tail(1).sort_values(keys)


def read_jsonl(name: str) -> pd.DataFrame:
    """A results file as it is (pandas' own reader would turn dates into timestamps)."""
    lines = (BENCHMARKS / f"{name}.jsonl").read_text().splitlines()
    return pd.DataFrame([json.loads(line) for line in lines if line.strip()])


def optimum(run: Any) -> str:
    """The run's recorded optimum, or its task's exact one where the record predates it (built-in tasks)."""
    value = run.optimal_return
    if pd.isna(value) and run.task in TASKS and TASKS[run.task].optimal_return is not None:
        task = TASKS[run.task]
        value = task.optimal_return(task.env_kwargs())
    return "" if pd.isna(value) else f"{value:.3f}"


def table(frame: pd.DataFrame) -> str:
    """A frame as a Markdown table (pandas' own needs ``tabulate``)."""
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


def interval(mean: float, low: float, high: float, digits: int = 3) -> str:
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


# -- default runs: README's headline table and its page ---------------------------------------------------------------
def default_runs_table(headline: bool = False) -> str:
    """The newest run of every command (a run under ``--scheduler fifo``, which trains every seed its whole budget,
    counts as one of the command's); the headline keeps the built-in tasks' scripts as they ship."""
    runs = read_jsonl("default_runs")
    runs["script"] = runs["command"].str.replace(r" --scheduler \w+", "", regex=True)
    runs = newest(runs, ["script"])
    if headline:
        runs = runs[runs["task"].isin(TASKS) & ~runs["command"].str.contains("--stop-time")]
    rows = [
        {
            "command": f"`{run.command}`",
            "held-out return [95% CI]": interval(run.mean_return, *run.ci95),
            "optimum": optimum(run),
            "random": f"{run.random_return:.3f}",
            "wall time": f"{run.wall_time_s:.0f} s",
            **({} if headline else {"measured": run.date[:10]}),
        }
        for run in runs.itertuples()
    ]
    return table(pd.DataFrame(rows))


def default_runs_page() -> str:
    return f"""{GENERATED}
# Default runs

Each experiment script as it ships (its preset, seeds 0 and 1), trained on the project's 2-core CPU machine and
evaluated with frozen weights and greedy actions on 1000 held-out trials; the wall time counts Ray's start-up and the
evaluation. Data: `benchmarks/results/default_runs.jsonl`, written by `python benchmarks/default_runs.py TASK`
(the newest run of each command; a run with `--scheduler fifo` trains both seeds their whole budget instead of
letting ASHA stop the weaker early, for the behavioural analyses' seeds axis, and counts as a run of its command).

{default_runs_table()}
"""


# -- RL^2's tables ----------------------------------------------------------------------------------------------------
def rl2_tables_page() -> str:
    frame = pd.read_csv(ANALYSES / "rl2_tables.csv")
    behaviour = pd.read_csv(ANALYSES / BEHAVIOUR_FILE)
    memory = pd.read_csv(ANALYSES / MEMORY_PROBE_FILE)
    return f"""{GENERATED}
# RL^2's Tables 1 and 2 (Duan et al. 2016), measured here

Mean return over 1000 held-out trials [95% interval] (the paper's figure; `*` = outside our interval). Every method
plays the same held-out trials; the baselines' parameters were tuned on trials of their own. Two columns hold this
project's agents, each with its training wall time:

- `RL^2`: a memory core trained by RL alone on the action-reward-timestep inputs, from random weights, as the paper
  trained it. Empty where no such agent was measured.
- `Best agent`: the best agent of any recipe the plugin offers (trial-statistics inputs, the reward-prediction loss,
  supervised pretraining, a start from another agent's weights), chosen on the tuning trials; its recipe is named
  below. Both columns compare with the paper's RL^2 figure.

Data: `analysis/results/rl2_tables.csv`, written by {measured_by(frame)}.

## Table 1: bandits, total reward of a trial of n pulls

{rl2_markdown(frame, "bandits")}

## Table 2: tabular MDPs, total reward of a trial of n episodes

{rl2_markdown(frame, "mdps")}

## The agents

Each agent entry's recipe (read from its experiment's settings), its experiment, training wall time and command, and
by how much the top of its interval falls short of the target: the paper's RL^2 figure, or the Bayes-optimal return
where that is lower (on n = 10 the paper's figures exceed it by their noise). Commands are recorded for agents trained
since the runner records them; the commands of the earlier runs ("not recorded") are listed in the
[experiment record](../notes/2026-11-27-experiment-record.md#rl2s-tables-the-agents-and-the-runs-behind-them).
An update of the tables keeps a saved agent unless the new choice scores higher on the same tuning trials (rows
saved before the tables kept the tuning mean: on the same held-out trials), or, with `--replace-unrecorded`, unless
the saved agent's command was not recorded and the new one's was.

{rl2_agents_markdown(frame)}

## How the bandit players choose

Each player of a cell replayed on the table's held-out trials, as the table measured it (its return is the table's
figure): how often it pulls the same arm again after a win and after a loss, how many of the k arms a trial tries,
the best arm's share of the trial's last tenth of pulls, how often a trial changes arm, the share of those changes
that go back to an arm the trial pulled before, the share of pulls that go to the best arm so far (the pulled arm
of highest posterior mean win rate), and the share of pulls that Gittins (with the cell's tuned discount) would make
after the same earlier pulls. An agent whose checkpoint was not on the machine is left
out. Data: `analysis/results/bandit_behaviour.csv`, written by {measured_by(behaviour)}.

{players_table(behaviour, BEHAVIOUR_FIGURES)}

## What the RL^2 agents remember of a trial

Each RL^2 agent replayed on the same trials, its policy's recurrent state recorded at every pull; linear (ridge)
read-outs of that state, fitted on 70% of the trials and scored on the rest, of the tally of the earlier pulls: which
arms were pulled (share of (pull, arm) pairs read right, against the best constant guess per arm), each pulled arm's
posterior mean win rate (R^2), and whether the arm read as best is the best so far (how often the agent pulls that
arm is in the table above). The last two columns replay the trials with Gittins choosing every pull while the agent's
core reads them, and fit a head of one hidden layer of 64 units on 70% of them to choose as Gittins would, from the
core's state and, for reference, from the exact tally: the share of the other trials' pulls where it does (the
agent's own share is the table above's "pulls as Gittins").
Data: `analysis/results/memory_probe.csv`, written by {measured_by(memory)}.

{players_table(memory, MEMORY_PROBE_FIGURES)}
"""


def players_table(frame: pd.DataFrame, figures: dict[str, tuple[str, str]]) -> str:
    """One row per player of a cell: its return and ``figures`` (header: (column, format))."""
    shown = {"cell": frame["task"], "player": frame["method"], "return": frame["return"].map("{:.2f}".format)}
    shown |= {header: frame[column].map(style.format) for header, (column, style) in figures.items()}
    return table(pd.DataFrame(shown))


BEHAVIOUR_FIGURES = {
    "stay after a win": ("stay_after_win", "{:.2f}"),
    "stay after a loss": ("stay_after_loss", "{:.2f}"),
    "arms tried": ("arms_tried", "{:.1f}"),
    "best arm, last tenth": ("best_arm_share_last_tenth", "{:.2f}"),
    "switches": ("switches", "{:.1f}"),
    "switches back": ("switches_back", "{:.2f}"),
    "best arm so far, pulled": ("best_so_far_pulled", "{:.2f}"),
    "pulls as Gittins": ("gittins_pulls", "{:.2f}"),
}
MEMORY_PROBE_FIGURES = {
    "state size": ("state_size", "{:.0f}"),
    "arms pulled, read right": ("tried_accuracy", "{:.3f}"),
    "best constant guess": ("tried_majority", "{:.3f}"),
    "win rates, R^2": ("win_rate_r2", "{:.2f}"),
    "best arm so far, read right": ("best_arm_read", "{:.2f}"),
    "as Gittins, a head on the state": ("gittins_head", "{:.2f}"),
    "as Gittins, a head on the tally": ("gittins_head_tally", "{:.2f}"),
}


# -- Wang et al.'s behavioural analyses -------------------------------------------------------------------------------
def two_step_table() -> str:
    """P(stay) per condition: the trained agent's mean over seeds [t-interval across seeds], the references' own."""
    stay = pd.read_csv(ANALYSES / "two_step_stay.csv")
    references = stay[stay["agent"] != "trained agent"]
    columns = {agent: {r.condition: interval(r.stay_probability, r.ci95_low, r.ci95_high) for r in part.itertuples()}
               for agent, part in references.groupby("agent", sort=False)}  # fmt: skip
    seeds = pd.read_csv(ANALYSES / "two_step_stay_across_seeds.csv")
    if len(seeds):
        trained = f"trained agent, mean of {seeds['seeds'].iloc[0]} seeds"
        columns = {trained: {r.condition: interval(r.mean, r.ci95_low, r.ci95_high) for r in seeds.itertuples()},
                   **columns}  # fmt: skip
    matrix = pd.DataFrame(columns).reindex(list(dict.fromkeys(stay["condition"])))
    return table(matrix.rename_axis("previous trial").reset_index())


def two_step_regression_table() -> str:
    """The lag-1 contrasts: the trained agent's mean over seeds [t-interval], the references' own [95% interval]."""
    weights = pd.read_csv(ANALYSES / "two_step_regression.csv")
    contrasts = ["reward effect", "model-based index"]
    rows = []
    seeds = pd.read_csv(ANALYSES / "two_step_regression_across_seeds.csv")
    if len(seeds):
        at_lag_1 = seeds[seeds["lag"] == 1].set_index("term")
        rows.append({"agent": f"trained agent, mean of {seeds['seeds'].iloc[0]} seeds",
                     **{term: interval(*at_lag_1.loc[term, ["mean", "ci95_low", "ci95_high"]], digits=2)
                        for term in contrasts}})  # fmt: skip
    for agent, part in weights[weights["agent"] != "trained agent"].groupby("agent", sort=False):
        at_lag_1 = part[part["lag"] == 1].set_index("term")
        rows.append({"agent": agent, **{term: interval(*at_lag_1.loc[term, ["estimate", "ci95_low", "ci95_high"]],
                                                       digits=2) for term in contrasts}})  # fmt: skip
    return table(pd.DataFrame(rows))


def restless_table(figure: str, csv: str, digits: int) -> str:
    """``figure`` per regime: the trained agent's mean over seeds [t-interval], the other players' own [95% interval
    where the file has one]."""
    players = pd.read_csv(ANALYSES / csv)

    def cell(row: Any) -> str:
        value = getattr(row, figure)
        return interval(value, row.ci95_low, row.ci95_high, digits) if "ci95_low" in players else f"{value:.{digits}f}"

    references = players[players["agent"] != "trained agent"]
    columns = {agent: {r.regime: cell(r) for r in part.itertuples()}
               for agent, part in references.groupby("agent", sort=False)}  # fmt: skip
    seeds = pd.read_csv(ANALYSES / "restless_across_seeds.csv")
    seeds = seeds[seeds["figure"] == figure] if len(seeds) else seeds
    if len(seeds):
        trained = {r.regime: interval(r.mean, r.ci95_low, r.ci95_high, digits) for r in seeds.itertuples()}
        columns = {f"trained agent, mean of {seeds['seeds'].iloc[0]} seeds": trained, **columns}
    return table(pd.DataFrame(columns).rename_axis("regime").reset_index())


def harlow_table() -> str:
    """Fraction correct per trial index: each seed's agent [95% Wilson interval], then their mean [t-interval]."""
    accuracy = pd.read_csv(ANALYSES / "harlow_accuracy.csv")
    rows = [{"agent": f"seed {seed}"} | {str(r.trial): interval(r.correct, r.ci95_low, r.ci95_high)
            for r in part.itertuples()} for seed, part in accuracy.groupby("seed")]  # fmt: skip
    seeds = pd.read_csv(ANALYSES / "harlow_accuracy_across_seeds.csv")
    if seeds["seeds"].iloc[0] > 1:
        mean = {str(r.trial): interval(r.mean, r.ci95_low, r.ci95_high) for r in seeds.itertuples()}
        rows.append({"agent": f"mean of {seeds['seeds'].iloc[0]} seeds"} | mean)
    return table(pd.DataFrame(rows))


def regret_table() -> str:
    """Per task, the regret after the whole trial: the trained agent's (mean over seeds), the Bayes-optimal policy's,
    the agent's ratio to it against the 1.5x target, and the best classical baseline's."""
    summary = pd.read_csv(ANALYSES / "regret_summary.csv")
    rows = []
    for task, part in summary.groupby("task", sort=False):
        by_method = part.set_index("method")
        agent, bayes = by_method.loc[TRAINED], by_method.loc[BAYES_OPTIMAL]
        classical = by_method.drop([TRAINED, BAYES_OPTIMAL, RandomPolicy.name], errors="ignore")["regret"]
        rows.append({
            "task": task,
            "trained agent": interval(agent.regret, agent.ci95_low, agent.ci95_high, 2),
            "seeds": int(agent.seeds),
            "Bayes-optimal": f"{bayes.regret:.2f}",
            "agent / Bayes-optimal": f"{agent.ratio_to_bayes_optimal:.2f}",
            f"within {REGRET_TARGET}x": "yes" if agent.ratio_to_bayes_optimal <= REGRET_TARGET else "no",
            "best classical": f"{classical.idxmin()} {classical.min():.2f}",
        })  # fmt: skip
    return table(pd.DataFrame(rows))


def generalization_matrices() -> tuple[str, str]:
    """The mean return and the regret matrices, each cell the mean over the row's training seeds."""
    cells = pd.read_csv(ANALYSES / "generalization_across_seeds.csv")
    return (generalization_markdown(as_matrix(cells, "mean_return")),
            generalization_markdown(as_matrix(cells, "regret_vs_bayes_optimal")))  # fmt: skip


def eleven_arm_table() -> str:
    """The final agents' held-out return and strategy rates, per seed and their mean [t-interval]."""
    final = pd.read_csv(ANALYSES / "eleven_arm_final.csv")
    figures = ["return", "informative_first", "target_after_informative"]
    rows = [{"agent": f"seed {r['seed']}", **{f: f"{r[f]:.3f}" for f in figures}} for _, r in final.iterrows()]
    seeds = pd.read_csv(ANALYSES / "eleven_arm_final_across_seeds.csv").set_index("figure")
    if len(final) > 1:
        rows.append({"agent": f"mean of {len(final)} seeds",
                     **{f: interval(*seeds.loc[f, ["mean", "ci95_low", "ci95_high"]]) for f in figures}})  # fmt: skip
    return table(pd.DataFrame(rows))


def behaviour_page() -> str:
    returns, regret = generalization_matrices()
    return f"""{GENERATED}
# Wang et al.'s behavioural analyses, measured here

Each analysis plays the best checkpoint of a default run with frozen weights on held-out episodes; the commands are
in [analysis](../analysis.md). Data and figures: `analysis/results/`.

## Two-step task: stay probabilities

P(repeat the first-stage action) after each kind of trial, the trained agent beside a model-free and a model-based
reference learner playing the same episodes. The agent's figures are the mean over its training seeds with a 95%
t-interval across them (each seed's point is drawn over the bars); the references' have 95% Wilson intervals. Data:
`two_step_stay.csv` (per seed) and `two_step_stay_across_seeds.csv`, written by `python -m analysis.two_step
--experiment EXPERIMENT` on the experiment of `python tune_configs/two_step.py --num-samples 8 --scheduler fifo` (8
seeds, each trained its full budget).

{two_step_table()}

![two-step stay probabilities](../../analysis/results/two_step_stay.png)

## Two-step task: choices regressed on past outcomes

Lag 1 of the logistic regression of each first-stage choice on the four kinds of trial one to five trials back: the
reward effect and the reward x transition interaction (the model-based index). A model-free learner shows the first,
a model-based one the second. Data: `two_step_regression.csv` (every weight, lag and seed) and
`two_step_regression_across_seeds.csv`, written by `python -m analysis.two_step_regression --experiment EXPERIMENT`.

{two_step_regression_table()}

![two-step regression](../../analysis/results/two_step_regression.png)

## Restless bandit: the agent beside the Bayes-optimal player

Return per 100-pull trial in stable and volatile trials (the regime drawn per trial, unseen), every player on the same
held-out trials: the agent (mean of its training seeds [95% t-interval across them]), the exact Bayes-optimal player,
random play [95% intervals] and the oracle that knows the better arm. Data: `restless.csv` (per seed) and
`restless_across_seeds.csv`, written by `python -m analysis.restless --experiment EXPERIMENT` on the experiment of
`python tune_configs/restless.py --num-samples 4 --scheduler fifo`.

{restless_table("mean_return", "restless.csv", 2)}

The effective learning rate per regime: a delta rule fitted to each player's choices by maximum likelihood (see
[analysis](../analysis.md)); a learner that tracks volatility learns faster in volatile trials. Data:
`restless_learning_rates.csv`.

{restless_table("learning_rate", "restless_learning_rates.csv", 3)}

![restless bandit](../../analysis/results/restless.png)

## Harlow task: fraction correct per trial on held-out objects

Each training seed's agent [95% Wilson interval over episodes] and their mean [95% t-interval across seeds]. Data:
`harlow_accuracy.csv` (per seed), `harlow_accuracy_across_seeds.csv` and `harlow_training.csv` (over training),
written by `python -m analysis.harlow --experiment EXPERIMENT` on the experiment of `python tune_configs/harlow.py`.

{harlow_table()}

![Harlow accuracy](../../analysis/results/harlow_accuracy.png)

## Dependent bandits: generalization across difficulties

Mean return per 100-pull trial of the agents trained on each difficulty (rows) on every difficulty (columns), then
their regret against the exact Bayes-optimal return; each cell is the mean over the row's training seeds. Data:
`generalization.csv` (per seed) and `generalization_across_seeds.csv` (with 95% t-intervals), written by
`python -m analysis.generalization --experiment EXPERIMENT ...` on the default runs of the four difficulties, both
seeds trained whole (as in the regret section below).

{returns}

{regret}

![generalization](../../analysis/results/generalization.png)

## Regret within a trial: the two-armed tasks

Cumulative expected regret after the 100-pull trial against an oracle that knows the arms, every player on the same
held-out trials: the default run's agents (the mean over training seeds [95% t-interval across them]), the exact
Bayes-optimal policy, and the best of RL^2's tuned classical baselines. The target is an agent within 1.5x the
Bayes-optimal regret. Data: `regret_summary.csv` (every method, one task per `python -m analysis.regret --experiment
EXPERIMENT --checkpoint-trials 500` on the experiment of `python benchmarks/default_runs.py TASK --scheduler fifo
--storage-path STORAGE`, the task's script with both seeds trained whole; each seed's checkpoint is the one of those
Tune kept that plays best on 500 tuning trials, see
[analysis](../analysis.md#wang-et-als-behavioural-analyses)); the figure and `regret_curves.csv` are the curves of
the last task measured.

{regret_table()}

![regret curves](../../analysis/results/regret_curves.png)

## Eleven-arm: the informative-arm strategy over training

The final agents' held-out return and rates (frozen, greedy), per training seed and their mean [95% t-interval]; the
figure's curves are each seed's rates over training (sampled actions). Data: `eleven_arm_final.csv`,
`eleven_arm_final_across_seeds.csv` and `eleven_arm_strategy.csv`, written by `python -m analysis.eleven_arm
--experiment EXPERIMENT` on the experiment of `python tune_configs/eleven_arm.py`.

{eleven_arm_table()}

![eleven-arm strategy](../../analysis/results/eleven_arm_strategy.png)
"""


# -- performance ------------------------------------------------------------------------------------------------------
def throughput_table() -> str:
    records = read_jsonl("throughput")
    records = newest(records[records["task"] == "eleven_arm"], ["stage", "num_envs"])
    matrix = records.pivot(index="num_envs", columns="stage", values="steps_per_s")
    matrix = matrix.map(lambda v: "" if pd.isna(v) else f"{v:,.0f}")
    return table(matrix.reset_index().rename(columns={"num_envs": "env copies"}))


SPLIT_PARTS = ("sampling", "batch_building", "torch_compute", "learner_other", "weight_sync", "other")


def batch_building_bound(rllib_record: Any) -> float:
    """The most any batch path can speed up RLlib's iteration with the same gradient steps: its batch building at no
    cost, everything else as it is."""
    return rllib_record.iteration_s / (rllib_record.iteration_s - rllib_record.batch_building)


def throughput_split_table() -> str:
    records = newest(read_jsonl("throughput_split"), ["task", "batch_path"])
    rllib = {r.task: r for r in records.itertuples() if r.batch_path == "rllib"}
    rows = [{"task": r.task, "batch path": r.batch_path, "iteration": f"{r.iteration_s:.3f} s",
             "env steps/s": f"{r.steps_per_s:,}", **{part.replace("_", " "): f"{getattr(r, part):.3f}"
                                                      for part in SPLIT_PARTS},
             "learner outside torch": f"{r.learner_outside_torch:.0%}",
             "speed-up": f"{r.speedup_trial_over_rllib:.2f}x" if r.batch_path == "trial" else "",
             "with batch building free": f"{batch_building_bound(rllib[r.task]):.2f}x"
             if r.batch_path == "trial" and r.task in rllib else "",
             "plain-torch floor": "" if pd.isna(getattr(r, "torch_floor", None)) else f"{r.torch_floor:.3f}",
             "speed-up at the floor": "" if r.batch_path == "rllib" or pd.isna(getattr(r, "speedup_bound", None))
             else f"{r.speedup_bound:.2f}x"}
            for r in records.itertuples()]  # fmt: skip
    return table(pd.DataFrame(rows))


def preset_fields_text(fields: Any) -> str:
    """A record's changed preset fields as ``--set`` words; none (or a record from before the field): the preset."""
    if not isinstance(fields, dict) or not fields:
        return "the preset"
    return " ".join(f"{name}={value}" for name, value in fields.items())


def time_to_optimal_table() -> str:
    records = read_jsonl("time_to_optimal")
    records["changes"] = [preset_fields_text(fields) for fields in records.get("preset_fields", [None] * len(records))]
    runs = newest(records[records["benchmark"] == "time_to_optimal"], ["task", "changes", "setting", "seed"])
    rows = [{"task": r.task, "preset": "" if r.setting == "rllib_default" else r.changes, "setting": r.setting,
             "seed": int(r.seed),
             "reached": "yes" if r.reached else "no",
             "training time": f"{r.time_s:.1f} s", "env steps": f"{r.env_steps:,.0f}",
             "held-out": f"{r.held_out:.3f} (threshold {r.threshold:.3f})",
             "measured": r.date[:10]}
            for r in runs.itertuples()]  # fmt: skip
    return table(pd.DataFrame(rows))


def algorithms_table() -> str:
    records = read_jsonl("algorithms")
    records = newest(records[records["budget_s"] == records["budget_s"].max()], ["task", "algo", "core"])
    records["entry"] = [
        "failed" if pd.isna(r.fraction_of_optimum) else
        f"{r.fraction_of_optimum:.1%} ({r.held_out_mean:.2f}, {r.wall_time_s:.0f} s)" for r in records.itertuples()
    ]  # fmt: skip
    matrix = records.pivot(index=["algo", "core"], columns="task", values="entry")
    return table(matrix.reset_index())


def performance_page() -> str:
    budget = read_jsonl("algorithms")["budget_s"].max()
    return f"""{GENERATED}
# Performance, measured here

All on the project's 2-core CPU machine; absolute speeds differ about 3x between machines of this kind, so compare
figures of one run only. The newest record of each setting is shown; the files hold every run.

## Throughput: env steps per second, eleven-arm preset

Sampling alone, and whole PPO iterations, by the number of env copies (one torch thread, as in a 1-CPU Tune trial).
Data: `benchmarks/results/throughput.jsonl`, written by `python benchmarks/throughput.py`.

{throughput_table()}

## An iteration by part: the learner's two batch paths

Seconds per iteration of each preset (k_armed: the RL^2 bandit cell n = 10, k = 5), the learner's batch built from
whole trials (`trial`) or by RLlib's default pipeline (`rllib`), side by side with the same gradient steps; "speed-up"
is the ratio of their iteration times, and "with batch building free" the most any batch path could give (RLlib's
iteration less its batch building: the batch is all that a batch path changes). For the LSTM presets, "plain-torch
floor" is the same minibatch steps (same shapes, same count) of the preset's network and PPO's loss in plain torch,
measured between the paths' iterations: no rewrite of the learner or the module gets torch compute under it, so
"speed-up at the floor" (the trial path's iteration with its torch compute at the floor, against RLlib's pipeline) is
the most any such rewrite could give.
Data: `benchmarks/results/throughput_split.jsonl`, written by `python benchmarks/throughput.py --split`.

{throughput_split_table()}

## Time to the optimum

Training seconds and env steps until the held-out greedy return reaches the threshold (99% of the optimum; 6.60 on
k_armed, the RL^2 bandit n = 10, k = 5), per seed: the project's preset (`ours`), the same with RLlib's default
learner batch pipeline (`ours_rllib_batch`), and RLlib's out-of-the-box PPO (`rllib_default`); "preset" names the
preset fields a run changed (`--set`: an update schedule, or the memory core); compare rows measured the same day. Data:
`benchmarks/results/time_to_optimal.jsonl`, written by `python benchmarks/time_to_optimal.py`.

{time_to_optimal_table()}

## Every algorithm x core, {budget:.0f} s of training each

Held-out return as a fraction of the optimum (the mean, the run's wall time). Data:
`benchmarks/results/algorithms.jsonl`, written by `python benchmarks/algorithms.py --budget {budget:.0f}`.

{algorithms_table()}
"""


PAGES: dict[str, Callable[[], str]] = {
    "docs/results/default_runs.md": default_runs_page,
    "docs/results/rl2_tables.md": rl2_tables_page,
    "docs/results/behaviour.md": behaviour_page,
    "docs/results/performance.md": performance_page,
}


def readme_with_headline(readme: str) -> str:
    """README.md with the default-runs table between its markers."""
    before, begin, rest = readme.partition(README_BEGIN)
    _, end, after = rest.partition(README_END)
    if not begin or not end:
        raise ValueError(f"README.md lacks the markers {README_BEGIN!r} and {README_END!r}")
    return f"{before}{README_BEGIN}\n{default_runs_table(headline=True)}\n{README_END}{after}"


def rendered(root: Path = ROOT) -> dict[Path, str]:
    """Every generated file, path -> text."""
    pages = {root / path: render() for path, render in PAGES.items()}
    readme = root / "README.md"
    pages[readme] = readme_with_headline(readme.read_text())
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a page differs from its data")
    args = parser.parse_args(argv)
    stale = []
    for path, text in rendered().items():
        if path.exists() and path.read_text() == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_text(text, path)
    for path in stale:
        print(f"{'differs from its data' if args.check else 'written'}: {path.relative_to(ROOT)}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(exit_code(main))
