"""How the RL^2 table's bandit players choose: stays after a win and after a loss, arms tried, the best arm's share.

    python -m analysis.bandit_behaviour --bandit-cells 100x50 100x10

A table figure says how much a player earned; this analysis says how. Every row of the chosen cells in
``rl2_tables.csv`` is played again as the table measured it (the baselines with their tuned parameter, the agents with
their checkpoint and their greedy or sampled actions, on the row's held-out trials and seed), so each player's return
equals its table figure, and each pull is recorded. Per player, pooled over its trials:

- ``stay_after_win``: how often the arm just pulled is pulled again after it paid 1;
- ``stay_after_loss``: the same after it paid 0 (a player that never leaves a losing arm stays stuck on it);
- ``arms_tried``: how many of the k arms a trial pulls at least once;
- ``best_arm_share_last_tenth``: the share of the trial's last tenth of pulls that go to the best arm;
- ``switches``: how many times a trial changes arm;
- ``switches_back``: the share of those changes that go back to an arm the trial has pulled before (an index policy
  such as Gittins' leaves an arm only for a better one, and with many arms that is almost always an untried arm);
- ``best_so_far_pulled``: the share of pulls (after the first) that go to the best arm so far, the pulled arm of
  highest posterior mean win rate (ties count); the others try a new arm or go back to a worse one;
- ``gittins_pulls``: the share of pulls (after the first) that the Gittins index policy would make after the same
  earlier pulls (one of its arms of highest index, with the discount the table tuned for the cell). Gittins scores 1;
  a player that only exploits agrees with it where exploiting is what the index says.

An agent row whose checkpoint is not on this machine is left out, with a line saying so. Writes
``bandit_behaviour.csv`` beside the tables (with the command that measured each row), one cell's rows replaced by the
next measurement of that cell.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from rllib_metarl.analysis.recipe import BEST, RL2
from rllib_metarl.analysis.regret import merge_summary
from rllib_metarl.analysis.rl2_tables import Cell, bandit_cell, parameters_of
from rllib_metarl.baselines.bandits import BanditPolicy, gittins_indices
from rllib_metarl.baselines.bayes_optimal import posterior_mean
from rllib_metarl.baselines.play import baseline_steps
from rllib_metarl.baselines.tuning import BANDIT_BASELINES
from rllib_metarl.evaluation import load_module, module_path, play_module, training_env_of
from rllib_metarl.tasks.task import wrapper_settings

OUTPUT_FILE = "bandit_behaviour.csv"
BEHAVIOUR_COLUMNS = (
    "stay_after_win",
    "stay_after_loss",
    "arms_tried",
    "best_arm_share_last_tenth",
    "switches",
    "switches_back",
    "best_so_far_pulled",
    "gittins_pulls",
)
GITTINS = "Gittins"  # the table row whose tuned discount the Gittins choices use


def counts_before_each_step(actions: np.ndarray, rewards: np.ndarray, num_arms: int) -> tuple[np.ndarray, np.ndarray]:
    """Per (trial, step, arm): how often the arm was pulled before the step, and how often it paid."""
    pulled = np.eye(num_arms)[actions]  # (trial, step, arm)
    paid = pulled * rewards[..., None]
    return pulled.cumsum(axis=1) - pulled, paid.cumsum(axis=1) - paid


def tried_and_win_rate(pulls: np.ndarray, wins: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """From the counts of :func:`counts_before_each_step`: whether each arm was pulled before the step, and its
    posterior mean win rate."""
    return pulls > 0, posterior_mean(wins, pulls)


def gittins_choices(pulls: np.ndarray, wins: np.ndarray, discount: float) -> np.ndarray:
    """Per (trial, step, arm), from the counts of :func:`counts_before_each_step`: whether the Gittins index policy
    with ``discount`` would pull the arm after the trial's pulls before the step, i.e. whether the arm is one of those
    of highest index (``GittinsPolicy`` draws among them)."""
    wins = wins.astype(int)
    index = gittins_indices(discount, pulls.shape[1])[wins, pulls.astype(int) - wins]
    return index == index.max(axis=-1, keepdims=True)


def behaviour(steps: pd.DataFrame, num_arms: int, gittins_discount: float) -> dict[str, float]:
    """:data:`BEHAVIOUR_COLUMNS` of one player from its per-pull records (``trial``, ``step``, ``action``, ``reward``,
    ``optimal_action``: :func:`~rllib_metarl.evaluation.play_module`'s or
    :func:`~rllib_metarl.baselines.play.baseline_steps`'), pooled over its trials."""
    actions, rewards, best = (
        steps.pivot(index="trial", columns="step", values=column).to_numpy()
        for column in ("action", "reward", "optimal_action")
    )
    actions = actions.astype(int)
    stayed = actions[:, 1:] == actions[:, :-1]
    won = rewards[:, :-1] > 0
    distinct = 1 + (np.diff(np.sort(actions, axis=1), axis=1) != 0).sum(axis=1)
    last_tenth = max(1, actions.shape[1] // 10)
    switched = ~stayed
    pulls, wins = counts_before_each_step(actions, rewards, num_arms)
    tried, win_rate = tried_and_win_rate(pulls, wins)
    trial, step = np.indices(actions.shape)
    as_gittins = gittins_choices(pulls, wins, gittins_discount)[trial, step, actions]
    pulled_before = tried[trial, step, actions]
    best_so_far = pulled_before & (win_rate[trial, step, actions] == np.where(tried, win_rate, -np.inf).max(axis=-1))
    return {
        "stay_after_win": float(stayed[won].mean()) if won.any() else float("nan"),
        "stay_after_loss": float(stayed[~won].mean()) if (~won).any() else float("nan"),
        "arms_tried": float(distinct.mean()),
        "best_arm_share_last_tenth": float((actions == best)[:, -last_tenth:].mean()),
        "switches": float(switched.sum(axis=1).mean()),
        "switches_back": float(pulled_before[:, 1:][switched].mean()) if switched.any() else float("nan"),
        "best_so_far_pulled": float(best_so_far[:, 1:].mean()),
        "gittins_pulls": float(as_gittins[:, 1:].mean()),
    }


def player_steps(
    row: pd.Series, cell: Cell, record_memory: bool = False, driver: BanditPolicy | None = None
) -> pd.DataFrame | None:
    """The per-pull records of one table row played as the table measured it, for an agent with its policy's state
    at each pull if ``record_memory``, and with a ``driver`` (a bandit baseline) choosing the agent's pulls
    (:func:`~rllib_metarl.evaluation.play_module`); None for an agent whose checkpoint is not on this machine."""
    trials, seed = int(row["trials"]), int(row["seed"])
    if row["method"] in (RL2, BEST):
        try:
            module_path(row["checkpoint"])
        except FileNotFoundError:
            print(f"  {cell.label:>14}  {row['method']:<14} left out: {row['checkpoint']} is not on this machine")
            return None
        env_config = {**cell.env_config, **wrapper_settings((training_env_of(row["checkpoint"]) or ("", {}))[1])}
        _, steps = play_module(load_module(row["checkpoint"]), cell.task, env_config, trials, seed,
                               explore=bool(row["explore"]), record_memory=record_memory, driver=driver)  # fmt: skip
        return steps
    policy = BANDIT_BASELINES[row["method"]].make(**parameters_of(row["parameter"]))
    _, steps = baseline_steps(policy, cell.task, cell.env_config, trials, seed)
    return steps


def cell_rows(table: pd.DataFrame, cell: Cell) -> pd.DataFrame:
    """``cell``'s rows of ``table`` (the saved ``rl2_tables.csv``); a cell the table lacks, or whose Gittins row it
    lacks, is a ValueError."""
    rows = table[(table["table"] == "bandits") & (table["n"] == cell.n) & (table["k"] == cell.k)]
    if rows.empty:
        raise ValueError(f"rl2_tables.csv has no bandit cell {cell.argument}: measure it with analysis.rl2_tables")
    if not (rows["method"] == GITTINS).any():
        raise ValueError(f"rl2_tables.csv has no {GITTINS} row for bandit cell {cell.argument}: measure the cell's "
                         "baselines with analysis.rl2_tables")  # fmt: skip
    return rows


def gittins_discount(rows: pd.DataFrame) -> float:
    """The discount the table tuned for the Gittins row of a cell's ``rows`` (:func:`cell_rows`)."""
    return parameters_of(rows.loc[rows["method"] == GITTINS, "parameter"].iloc[0])["discount"]


def measure_cell(table: pd.DataFrame, cell: Cell) -> pd.DataFrame:
    """One row per player of ``cell`` in ``table`` (the saved ``rl2_tables.csv``): its return and behaviour."""
    measured = []
    rows = cell_rows(table, cell)
    discount = gittins_discount(rows)
    for _, row in rows.iterrows():
        steps = player_steps(row, cell)
        if steps is None:
            continue
        returns = steps.groupby("trial")["reward"].sum()
        measured.append({"task": cell.label, "table": cell.table, "n": cell.n, "k": cell.k, "method": row["method"],
                         "return": float(returns.mean()), **behaviour(steps, int(cell.k), discount)})  # fmt: skip
        figures = "  ".join(f"{name} {measured[-1][name]:.3f}" for name in BEHAVIOUR_COLUMNS)
        print(f"  {cell.label:>14}  {row['method']:<14} return {measured[-1]['return']:7.2f}  {figures}", flush=True)
    return pd.DataFrame(measured)


def read_table_cells(doc: str, argv: list[str] | None) -> tuple[pd.DataFrame, list[Cell], Path]:
    """The saved ``rl2_tables.csv``, the bandit cells the command line names (``--bandit-cells``), all checked before
    anything is played (an error exits 2), and the folder of the tables and of the analysis' CSV."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--bandit-cells", type=bandit_cell, nargs="+", required=True, metavar="NxK",
                        help="cells of the saved bandit table, e.g. 100x50")  # fmt: skip
    parser.add_argument("--output-dir", default="analysis/results", help="where rl2_tables.csv is and the CSV goes")
    args = parser.parse_args(argv)
    output_dir = Path(args.output_dir)
    tables_file = output_dir / "rl2_tables.csv"
    if not tables_file.is_file():
        parser.error(f"no rl2_tables.csv in {str(output_dir)!r}: measure the tables first (analysis.rl2_tables)")
    table = pd.read_csv(tables_file)
    try:
        for cell in args.bandit_cells:
            cell_rows(table, cell)
    except ValueError as error:
        parser.error(str(error))
    return table, args.bandit_cells, output_dir


def save_cells(frame: pd.DataFrame, path: Path, module: str, argv: list[str] | None) -> pd.DataFrame:
    """``frame``'s cells written into ``path`` with the command that measured them (``python -m MODULE ARGS``), each
    cell's earlier rows replaced; the whole file's rows returned."""
    frame["command"] = " ".join([f"python -m {module}", *(sys.argv[1:] if argv is None else argv)])
    merged = merge_summary(frame, path)
    print(f"Written: {path}")
    return merged


def main(argv: list[str] | None = None) -> pd.DataFrame:
    table, cells, output_dir = read_table_cells(__doc__, argv)
    frame = pd.concat([measure_cell(table, cell) for cell in cells], ignore_index=True)
    return save_cells(frame, output_dir / OUTPUT_FILE, "analysis.bandit_behaviour", argv)
