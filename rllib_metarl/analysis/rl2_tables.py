"""RL^2's Tables 1 and 2 (Duan et al. 2016), measured here, beside the paper's figures.

    python -m analysis.rl2_tables                                   # both tables, 1000 held-out trials per cell
    python -m analysis.rl2_tables --table bandits --bandit-cells 10x5 100x5 --trials 1000
    python -m analysis.rl2_tables --table mdps --mdp-cells 10 --update   # re-measure one cell of the saved tables
    python -m analysis.rl2_tables --bandit-cells 100x50 --table bandits --update --agents-only   # its agents only
    python -m analysis.rl2_tables --bandit-cells 10x5 --table bandits --update --agents-only --replace-unrecorded

Every baseline of :mod:`rllib_metarl.baselines.tuning` is tuned on its own trials, then played on the held-out trials;
the trained agents found under ``--storage-path`` (the summaries the ``tune_configs/rl2_*.py`` runs write) are scored on
the tuning trials too, and the best of them (greedy or sampling, :func:`choose_agent`) is evaluated with frozen weights
on the very same held-out trials. Each cell is the mean return with its 95% interval; a
``*`` marks a paper figure outside our interval. Writes ``rl2_tables.md`` and ``rl2_tables.csv`` (one row per
cell and method, with the tuned parameter, the command that measured it, and for agents the training budget and
checkpoint). ``--update`` re-measures only the chosen cells and replaces their rows in the saved tables, keeping the
others as they were measured: after training one new agent, its cell is redone without the other cells' agents.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from rllib_metarl.analysis.recipe import BEST, RL2, Recipe, recipe_of
from rllib_metarl.analysis.seeds import kept_checkpoints
from rllib_metarl.baselines.play import play_baseline
from rllib_metarl.baselines.tuning import BANDIT_BASELINES, MDP_BASELINES, Baseline, tune
from rllib_metarl.cli.arguments import positive_int
from rllib_metarl.tasks.task import wrapper_settings
from rllib_metarl.training.experiment_folder import SETTINGS_FILE
from rllib_metarl.utils.atomic_io import write_csv, write_text
from rllib_metarl.utils.progress import progress
from rllib_metarl.utils.seeding import TUNING_STREAM
from rllib_metarl.utils.stats import mean_interval

# Table 1: bandits, (n, k) -> method -> total reward per trial.
PAPER_BANDITS: dict[tuple[int, int], dict[str, float]] = {
    cell: dict(zip(["Random", "Gittins", "TS", "OTS", "UCB1", "eps-Greedy", "Greedy", RL2], row, strict=True))
    for cell, row in {
        (10, 5): (5.0, 6.6, 5.7, 6.5, 6.7, 6.6, 6.6, 6.7),
        (10, 10): (5.0, 6.6, 5.5, 6.2, 6.7, 6.6, 6.6, 6.7),
        (10, 50): (5.1, 6.5, 5.2, 5.5, 6.6, 6.5, 6.5, 6.8),
        (100, 5): (49.9, 78.3, 74.7, 77.9, 78.0, 75.4, 74.8, 78.7),
        (100, 10): (49.9, 82.8, 76.7, 81.4, 82.4, 77.4, 77.1, 83.5),
        (100, 50): (49.8, 85.2, 64.5, 67.7, 84.3, 78.3, 78.0, 84.9),
        (500, 5): (249.8, 405.8, 402.0, 406.7, 405.8, 388.2, 380.6, 401.6),
        (500, 10): (249.0, 437.8, 429.5, 438.9, 437.1, 408.0, 395.0, 432.5),
        (500, 50): (249.6, 463.7, 427.2, 437.6, 457.6, 413.6, 402.8, 438.9),
    }.items()
}
# Table 2: tabular MDPs, n -> method -> total reward of a trial of n episodes.
PAPER_MDPS: dict[int, dict[str, float]] = {
    n: dict(zip(["Random", "PSRL", "OPSRL", "UCRL2", "BEB", "eps-Greedy", "Greedy", RL2], row, strict=True))
    for n, row in {
        10: (100.1, 138.1, 144.1, 146.6, 150.2, 132.8, 134.8, 156.2),
        25: (250.2, 408.8, 425.2, 424.1, 427.8, 377.3, 368.8, 445.7),
        50: (499.7, 904.4, 930.7, 918.9, 917.8, 823.3, 769.3, 936.1),
        75: (749.9, 1417.1, 1449.2, 1427.6, 1422.6, 1293.9, 1172.9, 1428.8),
        100: (999.4, 1939.5, 1973.9, 1942.1, 1935.1, 1778.2, 1578.5, 1913.7),
    }.items()
}
# The exact Bayes-optimal DP over k arms is only tractable for short trials (see baselines.bayes_optimal).
BAYES_OPTIMAL_MAX_N = 12


@dataclass(frozen=True, order=True)
class Cell:
    """One row of a table: the task and its parameters."""

    table: str  # "bandits" or "mdps"
    n: int
    k: int | None = None

    @property
    def task(self) -> str:
        return "k_armed" if self.table == "bandits" else "tabular_mdp"

    @property
    def env_config(self) -> dict[str, Any]:
        if self.table == "bandits":
            return {"num_arms": self.k, "trial_length": self.n, "meta": True}
        return {"num_episodes": self.n, "meta": True}

    @property
    def label(self) -> str:
        return f"n={self.n}, k={self.k}" if self.table == "bandits" else f"n={self.n}"

    @property
    def argument(self) -> str:
        """The cell as the command line names it: ``10x5`` (``--bandit-cells``), ``MDP n=10`` (``--mdp-cells``)."""
        return f"{self.n}x{self.k}" if self.table == "bandits" else f"MDP n={self.n}"

    @property
    def paper(self) -> dict[str, float]:
        return PAPER_BANDITS.get((self.n, self.k), {}) if self.table == "bandits" else PAPER_MDPS.get(self.n, {})

    @property
    def baselines(self) -> list[Baseline]:
        if self.table == "mdps":
            return list(MDP_BASELINES.values())
        return [b for b in BANDIT_BASELINES.values() if b.name != "Bayes-optimal" or self.n <= BAYES_OPTIMAL_MAX_N]


def bandit_cell(text: str) -> Cell:
    """``"10x5"`` -> the bandit cell n = 10, k = 5."""
    try:
        n, k = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"a bandit cell is NxK, e.g. 10x5, got {text!r}") from None
    if n < 1 or k < 2:
        raise argparse.ArgumentTypeError(f"a bandit cell needs n >= 1 and k >= 2, got {text!r}")
    return Cell("bandits", n, k)


# -- measuring ----------------------------------------------------------------------------------------------------
def measure_cell(
    cell: Cell,
    trials: int,
    tuning_trials: int,
    seed: int,
    agents: dict[Cell, list[dict[str, Any]]],
    baselines: bool = True,
) -> pd.DataFrame:
    """Every baseline (tuned; none without ``baselines``) and the cell's trained agent (:func:`choose_agent`), if
    any, on the same held-out trials."""
    rows = []
    for baseline in cell.baselines if baselines else []:
        started = time.time()
        parameters, _ = tune(baseline, cell.task, cell.env_config, tuning_trials, seed)
        results = play_baseline(baseline.make(**parameters), cell.task, cell.env_config, trials, seed)
        rows.append(_row(cell, baseline.name, results, trials, seed, parameters=parameters))
        print(
            f"  {cell.label:>14}  {baseline.name:<14} {_shown(rows[-1])}   ({time.time() - started:.0f} s)", flush=True
        )
    if cell in agents:
        rows += agent_rows(cell, agents[cell], trials, tuning_trials, seed)
    return pd.DataFrame(rows)


def agent_rows(cell: Cell, candidates: list[dict[str, Any]], trials: int, tuning_trials: int,
               seed: int) -> list[dict[str, Any]]:  # fmt: skip
    """The cell's ``RL^2`` row (the best pure RL^2 agent, if any) and its ``Best agent`` row (the best of all), each
    chosen on the tuning trials (:func:`choose_agent`) and played on the held-out trials."""
    from rllib_metarl.evaluation import evaluate_checkpoint

    scored = score_agents(cell, candidates, tuning_trials, seed)
    rows, measured = [], {}
    for method, entries in ((RL2, [entry for entry in scored if entry[2]["rl2"]]), (BEST, scored)):
        if not entries:
            continue
        agent = choose_agent(entries, tuning_trials)
        key, wrapper_config = (agent["checkpoint"], agent["explore"]), agent.pop("wrapper_config")
        if key not in measured:  # the same agent in both columns is played once
            env_config = {**cell.env_config, **wrapper_config}
            measured[key] = evaluate_checkpoint(agent["checkpoint"], cell.task, env_config, trials, seed,
                                                agent["explore"])  # fmt: skip
        rows.append(_row(cell, method, measured[key], trials, seed, **agent))
        print(f"  {cell.label:>14}  {method:<14} {_shown(rows[-1])}   ({agent['recipe']})", flush=True)
    return rows


def _row(cell: Cell, method: str, results: pd.DataFrame, trials: int, seed: int, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"table": cell.table, "n": cell.n, "k": cell.k, "method": method, "trials": trials,
                           "seed": seed}  # fmt: skip
    row.update(mean_interval(results["return"]))
    row["paper"] = cell.paper.get(RL2 if method == BEST else method, float("nan"))  # agents: the paper's RL^2
    row["paper_in_ci"] = (
        bool(row["ci95_low"] <= row["paper"] <= row["ci95_high"]) if row["paper"] == row["paper"] else None
    )
    if "oracle_return" in results:  # MDPs: the papers' normalized score, mean return / mean oracle return
        row["oracle_return"] = float(results["oracle_return"].mean())
        row["normalized"] = row["mean"] / row["oracle_return"]
    row["parameter"] = parameters_text(extra.pop("parameters", {}))
    row.update(extra)
    return row


def parameters_text(parameters: dict[str, Any]) -> str:
    """A baseline's tuned parameters as its row's ``parameter`` cell: ``"c=0.1"``; empty for none."""
    return ", ".join(f"{key}={value}" for key, value in parameters.items())


def parameters_of(text: Any) -> dict[str, float]:
    """A row's ``parameter`` cell (:func:`parameters_text`) as keyword arguments again; none for an empty cell."""
    if not isinstance(text, str) or not text:
        return {}
    return {key: float(value) for key, value in (part.split("=") for part in text.split(", "))}


def _shown(row: dict[str, Any]) -> str:
    paper = f"   paper {row['paper']:g}" if row["paper"] == row["paper"] else ""
    return f"{row['mean']:8.2f}  [{row['ci95_low']:.2f}, {row['ci95_high']:.2f}]{paper}"


# -- trained agents -----------------------------------------------------------------------------------------------
def find_agents(storage_path: Path, all_checkpoints: bool = False) -> dict[Cell, list[dict[str, Any]]]:
    """Every trained agent under ``storage_path``, by cell: each experiment's best checkpoint (by training return),
    or with ``all_checkpoints`` every checkpoint Tune kept of each of its trials
    (:func:`~rllib_metarl.analysis.seeds.kept_checkpoints`), with its recipe (:mod:`rllib_metarl.analysis.recipe`)
    and the wrapper settings it was trained with."""
    from rllib_metarl.evaluation import training_env_of

    agents: dict[Cell, list[dict[str, Any]]] = {}
    for summary_file in sorted(storage_path.glob("*/summary.csv")):
        summary = pd.read_csv(summary_file).iloc[0].to_dict()
        checkpoint = Path(str(summary.get("checkpoint", "")))
        trained_on = training_env_of(checkpoint) if checkpoint.exists() else None
        if trained_on is None:
            continue
        cell = _cell_of(*trained_on)
        if cell is None:
            continue
        settings_file = summary_file.parent / SETTINGS_FILE
        recipe = (recipe_of(json.loads(settings_file.read_text())) if settings_file.exists()
                  else Recipe(f"unknown (no {SETTINGS_FILE})", rl2=False))  # fmt: skip
        agent = {
            "checkpoint": str(checkpoint),
            "experiment": summary_file.parent.name,
            "recipe": recipe.text,
            "rl2": recipe.rl2,
            "training_command": summary.get("command", ""),
            "train_wall_time_s": summary.get("train_wall_time_s"),
            "checkpoint_iteration": summary.get("checkpoint_iteration"),
            "selection": "best checkpoint by training return",
            "wrapper_config": wrapper_settings(trained_on[1]),
        }
        if not all_checkpoints:
            agents.setdefault(cell, []).append(agent)
            continue
        for kept in kept_checkpoints(checkpoint.parent.parent).values():  # the Tune experiment (a curriculum's stage)
            agents.setdefault(cell, []).extend(
                {**agent, "checkpoint": saved, "checkpoint_iteration": iteration, "selection": "a checkpoint Tune kept"}
                for saved, iteration in kept
            )
    return agents


def score_agents(cell: Cell, candidates: list[dict[str, Any]], tuning_trials: int,
                 seed: int) -> list[tuple[float, bool, dict[str, Any]]]:  # fmt: skip
    """Every run's best checkpoint, greedy and sampling its actions, scored on the tuning trials (as the baselines'
    parameters are chosen, never on the held-out trials, which would favour a choice by their luck):
    ``(mean return, explore, agent)`` for each."""
    from rllib_metarl.evaluation import evaluate_module, load_module

    scored = []
    for agent in candidates:
        module = load_module(agent["checkpoint"])  # once for both ways of acting
        env_config = {**cell.env_config, **agent["wrapper_config"]}
        for explore in (False, True):
            results = evaluate_module(module, cell.task, env_config, tuning_trials, seed, explore,
                                      stream=TUNING_STREAM)  # fmt: skip
            scored.append((float(results["return"].mean()), explore, agent))
            mode = "sampled" if explore else "greedy"
            print(f"  {cell.label:>14}  {agent['experiment']}, {mode}: {scored[-1][0]:.3f} (tuning trials)")
    return scored


def choose_agent(scored: list[tuple[float, bool, dict[str, Any]]], tuning_trials: int) -> dict[str, Any]:
    """The best-scored agent and how it acts (``explore``: whether it samples), with how it was chosen and its mean
    return on the tuning trials (``tuning_mean``, which later updates of the tables compare)."""
    tuning_mean, explore, best = max(scored, key=lambda entry: entry[0])
    runs = len({agent["experiment"] for _, _, agent in scored})
    checkpoints = len({agent["checkpoint"] for _, _, agent in scored})
    among = f"best of {runs} runs" if runs > 1 else "one run"
    among = f"best of {checkpoints} checkpoints of {among.removeprefix('best of ')}" if checkpoints > runs else among
    mode = "sampled" if explore else "greedy"
    selection = f"{best['selection']}; {among}, {mode} actions, chosen on {tuning_trials} tuning trials"
    return {**best, "wrapper_config": dict(best["wrapper_config"]), "explore": explore, "selection": selection,
            "tuning_mean": tuning_mean, "tuning_trials": tuning_trials}  # fmt: skip


def _cell_of(task: str, env_config: dict[str, Any]) -> Cell | None:
    from rllib_metarl.tasks.registry import get_task

    if task not in ("k_armed", "tabular_mdp") or not env_config.get("meta", True):
        return None
    kwargs = get_task(task).env_kwargs(env_config)
    if task == "k_armed":
        return Cell("bandits", kwargs["trial_length"], kwargs["num_arms"])
    if (kwargs["num_states"], kwargs["num_actions"], kwargs["episode_length"]) != (10, 5, 10):
        return None
    return Cell("mdps", kwargs["num_episodes"])


# -- the tables ---------------------------------------------------------------------------------------------------
def markdown(frame: pd.DataFrame, table: str) -> str:
    """One table: rows are cells, columns are methods (the agents' two last); each entry 'ours [95% CI] (paper)',
    the agents' with their training wall time."""
    part = frame[frame["table"] == table]
    if part.empty:
        return ""
    methods = [m for m in dict.fromkeys(part["method"]) if m not in (RL2, BEST)]
    methods += [m for m in (RL2, BEST) if m in set(part["method"])]
    keys = ["n", "k"] if table == "bandits" else ["n"]
    header = "| " + " | ".join([*keys, *methods]) + " |"
    lines = [header, "|" + "---|" * (len(keys) + len(methods))]
    for key, rows in part.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        by_method = {row["method"]: row for row in rows.to_dict("records")}
        cells = [str(int(k)) for k in key]
        for method in methods:
            row = by_method.get(method)
            cells.append("" if row is None else _markdown_entry(row))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _markdown_entry(row: dict[str, Any]) -> str:
    digits = 2 if abs(row["mean"]) < 100 else 1
    entry = f"{row['mean']:.{digits}f} [{row['ci95_low']:.{digits}f}, {row['ci95_high']:.{digits}f}]"
    if row["paper"] == row["paper"]:
        entry += f" ({row['paper']:g}{'' if row['paper_in_ci'] else '*'})"
    if row["method"] in (RL2, BEST):
        entry += f" · {row['train_wall_time_s'] / 60:.0f} min"
    return entry


def agents_markdown(frame: pd.DataFrame) -> str:
    """Every agent entry of the tables: its recipe, experiment, training budget and command, how it was chosen, and
    by how much its interval falls short of the target: the paper's RL^2 figure, or the Bayes-optimal return measured
    in the cell where that is lower (no agent can beat it; the paper's figure there is noise)."""
    lines = ["| cell | column | recipe | experiment | training wall time | short of the target by | training command |"
             " chosen as |", "|" + "---|" * 8]  # fmt: skip
    cells = _cells(frame)
    for index, row in frame[frame["method"].isin((RL2, BEST))].iterrows():
        cell = cells[index]
        bayes = frame.loc[(cells == cell) & (frame["method"] == "Bayes-optimal"), "mean"]
        target = min([cell.paper.get(RL2, float("inf")), *bayes])  # inf: a cell with neither figure
        short = f"{target - row['ci95_high']:.2f}" if row["ci95_high"] < target < float("inf") else "-"
        command = f"`{row['training_command']}`" if _recorded(row) else "not recorded"
        lines.append(f"| {cell.table} {cell.label} | {row['method']} | {row['recipe']} | {row['experiment']} | "
                     f"{row['train_wall_time_s']:.0f} s | {short} | {command} | {row['selection']} |")  # fmt: skip
    return "\n".join(lines)


def scores_lower(new: pd.Series, saved: pd.Series) -> bool:
    """Whether agent row ``new`` scores below agent row ``saved``: on the tuning trials where both rows hold their mean
    on the same ones, as every agent is chosen; else (a row saved before the tables kept it, whose run may be gone and
    cannot be scored again) on the held-out trials. Rows measured on other trials are not compared: False."""
    if new["seed"] != saved["seed"]:
        return False
    if (
        pd.notna(new.get("tuning_mean"))
        and pd.notna(saved.get("tuning_mean"))
        and (new["tuning_trials"] == saved["tuning_trials"])
    ):
        return bool(new["tuning_mean"] < saved["tuning_mean"])
    return bool(new["trials"] == saved["trials"] and new["mean"] < saved["mean"])


def keeps_saved_agent(
    new: pd.Series, saved: pd.Series, scored: frozenset[str], replace_unrecorded: bool = False
) -> bool:
    """Whether the saved agent row stays against ``new``: another agent, not chosen over the saved one on the same
    tuning trials (``scored``: the checkpoints ``new`` was chosen among), that scores lower (:func:`scores_lower`).
    With ``replace_unrecorded``, a saved agent whose training command was not recorded gives way to a new one whose
    command was: an agent anyone can train again, though it may score lower."""
    if new["checkpoint"] == saved["checkpoint"]:
        return False
    if replace_unrecorded and not _recorded(saved) and _recorded(new):
        return False
    if new["seed"] == saved["seed"] and saved["checkpoint"] in scored:
        return False
    return scores_lower(new, saved)


def _recorded(row: pd.Series) -> bool:
    """Whether an agent row names the command that trained it."""
    command = row.get("training_command")
    return isinstance(command, str) and bool(command)


def merge_into_saved(
    frame: pd.DataFrame, output_dir: Path, scored: frozenset[str] = frozenset(), replace_unrecorded: bool = False
) -> pd.DataFrame:
    """The saved tables with ``frame``'s cells measured again, in table and cell order: the baselines' rows replaced
    by ``frame``'s. An agent column keeps the saved agent where ``frame`` has none, or where ``frame`` chose another
    agent that scores lower and was not chosen over it (:func:`keeps_saved_agent`, which ``replace_unrecorded`` is
    passed to); the same agent measured again replaces its row. A baseline ``frame`` has not measured keeps its row.
    Rows saved before the ``command`` column existed take the command named in the saved ``rl2_tables.md``."""
    saved = pd.read_csv(output_dir / "rl2_tables.csv")
    if "command" not in saved:
        markdown_file = output_dir / "rl2_tables.md"
        header = markdown_file.read_text().split("`") if markdown_file.exists() else []
        saved["command"] = header[1] if len(header) > 2 else "unknown"
    redone = _cells(saved).isin(set(_cells(frame)))
    kept = [saved[~redone]]
    for (cell, method), rows in saved[redone].groupby([_cells(saved[redone]), "method"], sort=False):
        new = frame[(_cells(frame) == cell) & (frame["method"] == method)]
        saved_row = rows.iloc[0]
        new_row = None if new.empty else new.iloc[0]
        agent = method in (RL2, BEST)
        if new_row is None or (agent and keeps_saved_agent(new_row, saved_row, scored, replace_unrecorded)):
            kept.append(rows)
            frame = frame.drop(new.index)
    merged = pd.concat([*kept, frame], ignore_index=True)
    merged["k"] = merged["k"].astype("Int64")  # whole arms, empty for MDPs (a float column would write 5.0)
    order = _cells(merged).sort_values(kind="stable").index
    return merged.loc[order].reset_index(drop=True)


def _cells(frame: pd.DataFrame) -> pd.Series:
    """The :class:`Cell` of each row, the same for a saved CSV (k a float, NaN for MDPs) as for a new frame."""
    return frame.apply(
        lambda row: Cell(row["table"], int(row["n"]), int(row["k"]) if pd.notna(row["k"]) else None), axis=1
    )


def measured_by(frame: pd.DataFrame) -> str:
    """Which command measured which cells: one command, or each with its cells."""
    commands = list(dict.fromkeys(frame["command"]))
    if len(commands) == 1:
        return f"`{commands[0]}`"
    parts = []
    for command in commands:
        cells = dict.fromkeys(_cells(frame[frame["command"] == command]))
        parts.append(f"`{command}` ({', '.join(cell.argument for cell in cells)})")
    return "; ".join(parts)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--table", choices=("bandits", "mdps", "both"), default="both")
    all_bandit_cells = [Cell("bandits", *cell) for cell in PAPER_BANDITS]
    parser.add_argument("--bandit-cells", type=bandit_cell, nargs="+", default=all_bandit_cells, metavar="NxK",
                        help="bandit cells (default: the paper's nine)")  # fmt: skip
    parser.add_argument("--mdp-cells", type=positive_int, nargs="+", default=list(PAPER_MDPS), metavar="N",
                        help="MDP cells, episodes per trial (default: the paper's five)")  # fmt: skip
    parser.add_argument("--trials", type=positive_int, default=1000, help="held-out trials per cell and method")
    parser.add_argument("--tuning-trials", type=positive_int, default=500, help="trials per grid value when tuning")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out and tuning trials")
    parser.add_argument("--storage-path", default="~/ray_results", help="where to look for trained agents")
    parser.add_argument("--no-agents", action="store_true", help="baselines only")
    parser.add_argument("--all-checkpoints", action="store_true",
                        help="candidates: every checkpoint Tune kept of every run (default: each run's best by "
                        "training return)")  # fmt: skip
    parser.add_argument("--agents-only", action="store_true",
                        help="with --update: measure the agents only, keep the saved baselines' rows")  # fmt: skip
    parser.add_argument("--output-dir", default="analysis/results", help="where rl2_tables.md and .csv go")
    parser.add_argument("--update", action="store_true",
                        help="replace only these cells' rows in the saved rl2_tables.csv, keep the others")  # fmt: skip
    parser.add_argument("--replace-unrecorded", action="store_true",
                        help="with --update: a saved agent whose training command was not recorded gives way to "
                        "the new choice whose command was, though it may score lower")  # fmt: skip
    args = parser.parse_args(argv)
    if args.replace_unrecorded and not args.update:
        parser.error("--replace-unrecorded replaces saved agents: add --update")
    if args.update and not (Path(args.output_dir) / "rl2_tables.csv").is_file():
        parser.error(f"--update: no rl2_tables.csv in {args.output_dir!r} to update")
    if args.agents_only and not args.update:
        parser.error("--agents-only keeps the saved baselines' rows: add --update")
    if args.agents_only and args.no_agents:
        parser.error("--agents-only and --no-agents together measure nothing: give one")
    return args


def main(argv: list[str] | None = None) -> pd.DataFrame:
    args = parse_args(argv)
    cells = []
    if args.table in ("bandits", "both"):
        cells += args.bandit_cells
    if args.table in ("mdps", "both"):
        cells += [Cell("mdps", n) for n in args.mdp_cells]
    agents = {} if args.no_agents else find_agents(Path(args.storage_path).expanduser(), args.all_checkpoints)
    print(f"Trained agents found: {len(agents)} ({', '.join(c.label for c in agents) or 'none'})")
    frames = []
    with progress(len(cells), "RL^2's tables", unit="cell") as bar:
        for cell in cells:
            frames.append(measure_cell(cell, args.trials, args.tuning_trials, args.seed, agents,
                                       baselines=not args.agents_only))  # fmt: skip
            bar.update()
    frame = pd.concat(frames, ignore_index=True)

    command = "python -m analysis.rl2_tables " + " ".join(sys.argv[1:] if argv is None else argv)
    frame["command"] = command.strip()
    output_dir = Path(args.output_dir)
    if args.update:
        scored = frozenset(agent["checkpoint"] for cell in cells for agent in agents.get(cell, []))
        frame = merge_into_saved(frame, output_dir, scored, args.replace_unrecorded)
    output_dir.mkdir(parents=True, exist_ok=True)
    write_csv(frame, output_dir / "rl2_tables.csv")  # atomic: an interruption never leaves half a file
    trials = "/".join(str(count) for count in sorted(frame["trials"].unique()))
    text = [f"Measured by {measured_by(frame)}: mean return over {trials} held-out trials [95% interval] "
            "(paper's figure; * = outside our interval)."]  # fmt: skip
    for table, title in (("bandits", "Table 1: bandits"), ("mdps", "Table 2: tabular MDPs")):
        if body := markdown(frame, table):
            text += [f"\n### {title}\n", body]
    if frame["method"].isin((RL2, BEST)).any():
        text += ["\n### The agents\n", agents_markdown(frame)]
    write_text("\n".join(text) + "\n", output_dir / "rl2_tables.md")
    print("\n".join(text))
    print(f"\nWritten: {output_dir / 'rl2_tables.md'}, {output_dir / 'rl2_tables.csv'}")
    return frame
