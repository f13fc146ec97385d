"""What an RL^2 agent's memory holds of a bandit trial: linear read-outs of the recurrent state it chooses from.

    python -m analysis.memory_probe --bandit-cells 100x10 100x50

To play as Gittins does, a player needs the trial's tally: which arms it has pulled and how often each paid. The
statistics agents get that tally as inputs; an RL^2 agent has to keep it in its core. This probe asks how much of it
the core keeps. Each RL^2 row of the chosen cells in ``rl2_tables.csv`` is played again as the table measured it
(checkpoint, greedy or sampled actions, the row's held-out trials and seed), recording at every step the policy's
state after it read the step's input, i.e. what it chose the step's pull from. Ridge regressions from that state
(fitted on the first ``FIT_SHARE`` of the trials, scored on the rest) read out the tally of the pulls before the step:

- ``tried_accuracy``: whether each arm has been pulled (read-out above 1/2), right on this share of (step, arm)
  pairs; ``tried_majority`` is the same for the best constant guess per arm, the level a state that knows nothing
  reaches;
- ``win_rate_r2``: R^2 of the read-out of each tried arm's posterior mean win rate, (wins + 1) / (pulls + 2);
- ``best_arm_read``: how often the arm with the highest read-out win rate among the arms read as tried is the best
  arm so far (the tried arm of highest posterior mean; ties count). How often the agent pulls that arm is the
  behaviour analysis' ``best_so_far_pulled``.

A linear read-out is a lower bound on what the state holds (a policy head with hidden layers may read more). What a
policy needs is a head that chooses well from the state, so two more figures fit one, on trials that Gittins plays:
the same held-out trials are played again with the Gittins index policy (the cell's tuned discount) choosing every
pull while the agent's core reads the trial, and a head of one hidden layer of ``HEAD_UNITS`` tanh units is fitted by
cross-entropy on the first ``FIT_SHARE`` of them to choose among the arms Gittins would pull:

- ``gittins_head``: from the core's state, the share of the other trials' pulls (after the first) where the head
  chooses an arm Gittins would;
- ``gittins_head_tally``: the same head and fit from the exact tally (each arm's pulls and wins), for reference. It is
  not a bound: the head has weights of its own for each arm and must learn the index function once per arm, and a
  core's learned codes can be easier to read than raw counts.

Set beside the agent's own ``gittins_pulls`` (the behaviour analysis): a ``gittins_head`` well above it says the state
supports more Gittins-like choices than the agent's policy makes; one near ``gittins_head_tally`` says the state holds
about as much of what this head needs as the tally itself.

An agent row whose checkpoint is not on this machine is left out, with a line saying so. Writes ``memory_probe.csv``
beside the tables, one cell's rows replaced by the next measurement of that cell.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from rllib_metarl.analysis.bandit_behaviour import (
    cell_rows,
    counts_before_each_step,
    gittins_choices,
    gittins_discount,
    player_steps,
    read_table_cells,
    save_cells,
    tried_and_win_rate,
)
from rllib_metarl.analysis.recipe import RL2
from rllib_metarl.analysis.rl2_tables import Cell
from rllib_metarl.baselines.bandits import GittinsPolicy

OUTPUT_FILE = "memory_probe.csv"
FIT_SHARE = 0.7  # trials the read-outs are fitted on; the rest score them
RIDGE = 1e-2  # the regressions' penalty on the weights
HEAD_UNITS = 64  # the fitted head's hidden layer
HEAD_EPOCHS = 100  # passes over the fitted trials' pulls
HEAD_BATCH = 512  # pulls per gradient step
HEAD_LR = 1e-3  # Adam's learning rate
PROBE_COLUMNS = ("state_size", "tried_accuracy", "tried_majority", "win_rate_r2", "best_arm_read")
GITTINS_HEAD_COLUMNS = ("gittins_head", "gittins_head_tally")


def ridge_readout(memory: np.ndarray, targets: np.ndarray, fit: np.ndarray) -> np.ndarray:
    """A ridge regression from ``memory`` (rows, units) to ``targets`` (rows, outputs) fitted on the ``fit`` rows,
    with an intercept: its read-out of every row."""
    inputs = np.hstack([memory, np.ones((len(memory), 1))])
    gram = inputs[fit].T @ inputs[fit] + RIDGE * np.eye(inputs.shape[1])
    return inputs @ np.linalg.solve(gram, inputs[fit].T @ targets[fit])


def fitted_rows(trials: int, length: int) -> np.ndarray:
    """Which rows of ``trials`` trials of ``length`` steps, flattened trial by trial, the read-outs and heads are
    fitted on: the first ``FIT_SHARE`` of the trials."""
    return np.repeat(np.arange(trials) < round(FIT_SHARE * trials), length)


def fitted_head_choices(memory: np.ndarray, choices: np.ndarray, fit: np.ndarray, seed: int = 0) -> np.ndarray:
    """The arm that a head of one hidden layer picks from each row of ``memory`` (rows, units), fitted on the ``fit``
    rows to put its probability on each row's ``choices`` (rows, arms; True for an arm to choose, spread evenly).
    The inputs are standardised on the fitted rows; ``seed`` fixes the head's weights and its batches."""
    scale = memory[fit].std(axis=0) + 1e-6
    inputs = torch.as_tensor((memory - memory[fit].mean(axis=0)) / scale, dtype=torch.float32)
    targets = torch.as_tensor(choices / choices.sum(axis=1, keepdims=True), dtype=torch.float32)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        head = torch.nn.Sequential(torch.nn.Linear(inputs.shape[1], HEAD_UNITS), torch.nn.Tanh(),
                                   torch.nn.Linear(HEAD_UNITS, choices.shape[1]))  # fmt: skip
        optimizer = torch.optim.Adam(head.parameters(), lr=HEAD_LR)
        fitted = torch.as_tensor(np.flatnonzero(fit))
        for _ in range(HEAD_EPOCHS):
            for batch in fitted[torch.randperm(len(fitted))].split(HEAD_BATCH):
                loss = -(targets[batch] * torch.log_softmax(head(inputs[batch]), dim=-1)).sum(dim=-1).mean()
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        with torch.no_grad():
            return head(inputs).argmax(dim=-1).numpy()


def probe(memory: np.ndarray, actions: np.ndarray, rewards: np.ndarray, num_arms: int) -> dict[str, float]:
    """:data:`PROBE_COLUMNS` from per-step states ``memory`` (trial, step, units) and the trials' ``actions`` and
    ``rewards`` (trial, step)."""
    trials, length, units = memory.shape
    tallies = tried_and_win_rate(*counts_before_each_step(actions, rewards, num_arms))
    tried, win_rate = (array.reshape(trials * length, num_arms) for array in tallies)
    fit = fitted_rows(trials, length)
    states = memory.reshape(trials * length, units).astype(np.float64)
    tried_read = ridge_readout(states, tried.astype(float), fit) > 0.5
    majority = tried[fit].mean(axis=0) > 0.5
    rate_read = ridge_readout(states, win_rate, fit)
    scored, scored_tried = ~fit, tried & ~fit[:, None]
    residual = rate_read[scored_tried] - win_rate[scored_tried]
    spread = win_rate[scored_tried] - win_rate[scored_tried].mean()
    best_rate = np.where(tried, win_rate, -np.inf).max(axis=1)
    read_pick = np.where(tried_read, rate_read, -np.inf).argmax(axis=1)
    picked = np.arange(len(read_pick)), read_pick
    read_right = tried[picked] & (win_rate[picked] == best_rate)
    return {
        "state_size": float(units),
        "tried_accuracy": float((tried_read[scored] == tried[scored]).mean()),
        "tried_majority": float((majority == tried[scored]).mean()),
        "win_rate_r2": float(1 - (residual**2).mean() / (spread**2).mean()),
        "best_arm_read": float(read_right[scored & tried.any(axis=1)].mean()),
    }


def gittins_heads(memory: np.ndarray, actions: np.ndarray, rewards: np.ndarray, num_arms: int,
                  gittins_discount: float) -> dict[str, float]:  # fmt: skip
    """:data:`GITTINS_HEAD_COLUMNS` from per-step states ``memory`` (trial, step, units) of trials whose ``actions``
    and ``rewards`` (trial, step) Gittins played (with ``gittins_discount``, the discount of its choices here)."""
    trials, length, units = memory.shape
    fit = fitted_rows(trials, length)
    scored = ~fit & np.tile(np.arange(length) > 0, trials)
    counts = counts_before_each_step(actions, rewards, num_arms)
    gittins = gittins_choices(*counts, gittins_discount).reshape(trials * length, num_arms)
    tally = np.concatenate(counts, axis=-1).reshape(trials * length, -1)
    figures = {}
    for column, inputs in zip(GITTINS_HEAD_COLUMNS, (memory.reshape(trials * length, units), tally), strict=True):
        picks = fitted_head_choices(inputs.astype(np.float64), gittins, fit)
        figures[column] = float(gittins[np.arange(len(picks)), picks][scored].mean())
    return figures


def measure_cell(table: pd.DataFrame, cell: Cell) -> pd.DataFrame:
    """One row per RL^2 agent of ``cell`` in ``table`` (the saved ``rl2_tables.csv``): its return and probe."""
    measured = []
    rows = cell_rows(table, cell)
    discount = gittins_discount(rows)
    for _, row in rows.iterrows():
        if row["method"] != RL2:
            continue
        own = trial_arrays(player_steps(row, cell, record_memory=True), cell)
        if own is None:
            continue
        driven = trial_arrays(player_steps(row, cell, record_memory=True, driver=GittinsPolicy(discount)), cell)
        figures = {**probe(*own, int(cell.k)), **gittins_heads(*driven, int(cell.k), discount)}
        measured.append({"task": cell.label, "table": cell.table, "n": cell.n, "k": cell.k, "method": row["method"],
                         "return": float(own[2].sum(axis=1).mean()), **figures})  # fmt: skip
        shown = "  ".join(f"{name} {figures[name]:.3f}" for name in (*PROBE_COLUMNS[1:], *GITTINS_HEAD_COLUMNS))
        print(f"  {cell.label:>14}  {row['method']:<6} state {figures['state_size']:.0f}  {shown}", flush=True)
    return pd.DataFrame(measured)


def trial_arrays(steps: pd.DataFrame | None, cell: Cell) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """A player's per-pull records with states (:func:`player_steps`) as (trial, step) arrays: the states (with a last
    axis of units), the actions and the rewards; None for none."""
    if steps is None:
        return None
    steps = steps.sort_values(["trial", "step"])
    shape = (steps["trial"].nunique(), cell.n)
    actions, rewards = (steps[column].to_numpy().reshape(shape) for column in ("action", "reward"))
    return np.stack(steps["memory"].to_numpy()).reshape(*shape, -1), actions.astype(int), rewards


def main(argv: list[str] | None = None) -> pd.DataFrame:
    table, cells, output_dir = read_table_cells(__doc__, argv)
    frame = pd.concat([measure_cell(table, cell) for cell in cells], ignore_index=True)
    if frame.empty:
        print("No RL^2 agent of these cells is on this machine: nothing written.")
        return frame
    return save_cells(frame, output_dir / OUTPUT_FILE, "analysis.memory_probe", argv)
