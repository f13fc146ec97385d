"""Dependent bandits: train on each of {easy, medium, hard, uniform}, test on each (Wang et al. 2016, Fig. 3).

    python -m analysis.generalization --storage-path ~/ray_results/wang

Finds, under ``--storage-path``, a finished experiment per training task (``tune_configs/two_armed_dependent.py
--difficulty D``; the one with the best held-out mean when there are several), evaluates its best checkpoint with
frozen weights on ``--trials`` held-out trials of every test task, and reports two matrices (rows: trained on,
columns: tested on): the mean return, and the cumulative regret against the Bayes-optimal policy of the test task
(its exact expected return minus the agent's mean return over the 100-pull trial). Writes ``generalization.csv``,
``generalization.md`` and ``generalization.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from matplotlib import patheffects

from rllib_metarl.analysis.figures import plt, save_figure
from rllib_metarl.analysis.load import experiment_checkpoint, find_experiments
from rllib_metarl.cli.arguments import positive_int
from rllib_metarl.tasks.bandits import DEPENDENT_DIFFICULTIES
from rllib_metarl.tasks.registry import get_task
from rllib_metarl.utils.atomic_io import write_csv, write_text
from rllib_metarl.utils.stats import mean_interval

OUTLINE = [patheffects.withStroke(linewidth=2, foreground="black")]
ORDER = ["easy", "medium", "hard", "uniform"]  # the paper's
assert set(ORDER) == set(DEPENDENT_DIFFICULTIES)


def trained_agents(storage_path: str | Path) -> dict[str, str]:
    """difficulty -> the checkpoint of the best finished experiment that trained on it (by held-out mean)."""
    agents = {}
    for difficulty in ORDER:
        experiments = find_experiments(storage_path, f"dependent_{difficulty}")
        if experiments:
            best = max(experiments, key=lambda path: pd.read_csv(path / "summary.csv")["mean_return"].iloc[0])
            agents[difficulty] = experiment_checkpoint(best)
    return agents


def generalization_matrix(agents: dict[str, str], trials: int = 1000, seed: int = 0) -> pd.DataFrame:
    """One row per (trained on, tested on): mean return with its 95% interval, and regret against Bayes-optimal."""
    from rllib_metarl.evaluation import evaluate_checkpoint

    rows = []
    for trained_on, checkpoint in agents.items():
        for tested_on in ORDER:
            task = get_task(f"dependent_{tested_on}")
            returns = evaluate_checkpoint(checkpoint, task.name, {}, trials, seed)["return"]
            bayes_optimal = task.optimal_return(task.env_kwargs())
            interval = mean_interval(returns)
            rows.append(
                {
                    "trained_on": trained_on,
                    "tested_on": tested_on,
                    "mean_return": interval["mean"],
                    "ci95_low": interval["ci95_low"],
                    "ci95_high": interval["ci95_high"],
                    "bayes_optimal_return": bayes_optimal,
                    "regret_vs_bayes_optimal": bayes_optimal - returns.mean(),
                    "trials": trials,
                    "checkpoint": checkpoint,
                }
            )
            print(f"  trained on {trained_on:<8} tested on {tested_on:<8} {returns.mean():7.2f} "
                  f"(Bayes-optimal {bayes_optimal:.2f})", flush=True)  # fmt: skip
    return pd.DataFrame(rows)


def as_matrix(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    matrix = frame.pivot(index="trained_on", columns="tested_on", values=column)
    return matrix.reindex(index=[d for d in ORDER if d in matrix.index], columns=ORDER)


def markdown(matrix: pd.DataFrame, digits: int = 2) -> str:
    lines = [
        "| trained on \\ tested on | " + " | ".join(matrix.columns) + " |",
        "|---" * (len(matrix.columns) + 1) + "|",
    ]
    for name, row in matrix.iterrows():
        lines.append(f"| {name} | " + " | ".join(f"{value:.{digits}f}" for value in row) + " |")
    return "\n".join(lines)


def plot(frame: pd.DataFrame, output: Path) -> Path:
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for axis, (column, title, cmap) in zip(
        axes,
        [
            ("mean_return", "mean return per trial", "viridis"),
            ("regret_vs_bayes_optimal", "regret vs Bayes-optimal", "magma_r"),
        ],
        strict=True,
    ):
        matrix = as_matrix(frame, column)
        image = axis.imshow(matrix.to_numpy(dtype=float), cmap=cmap)
        axis.set_xticks(range(len(matrix.columns)), matrix.columns)
        axis.set_yticks(range(len(matrix.index)), matrix.index)
        axis.set_xlabel("tested on")
        axis.set_ylabel("trained on")
        axis.set_title(title)
        for (i, j), value in pd.DataFrame(matrix.to_numpy()).stack().items():
            # White with a dark outline: readable on every colour of the map.
            axis.text(j, i, f"{value:.2f}", ha="center", va="center", color="white", path_effects=OUTLINE)
        figure.colorbar(image, ax=axis, shrink=0.8)
    return save_figure(figure, output)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--storage-path", default="~/ray_results", help="where the dependent-bandit experiments are")
    parser.add_argument("--trials", type=positive_int, default=1000, help="held-out trials per cell")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out trials")
    parser.add_argument("--output-dir", default="analysis/results", help="where the CSV, Markdown and PNG go")
    args = parser.parse_args(argv)
    agents = trained_agents(args.storage_path)
    if not agents:
        parser.error(f"no finished dependent-bandit experiment under {args.storage_path!r}: run "
                     "tune_configs/two_armed_dependent.py --difficulty D --storage-path ... first")  # fmt: skip
    missing = [d for d in ORDER if d not in agents]
    print(f"Trained agents: {', '.join(agents)}" + (f" (none for {', '.join(missing)})" if missing else ""))
    frame = generalization_matrix(agents, args.trials, args.seed)
    output_dir = Path(args.output_dir).expanduser()
    output_dir.mkdir(parents=True, exist_ok=True)
    write_csv(frame, output_dir / "generalization.csv")
    optima = frame.groupby("tested_on")["bayes_optimal_return"].first()
    text = (
        f"Held-out mean return over {args.trials} trials, frozen weights, greedy (Bayes-optimal: "
        + ", ".join(f"{d} {optima[d]:.2f}" for d in ORDER)
        + ")\n\n"
        + markdown(as_matrix(frame, "mean_return"))
        + "\n\nCumulative regret per 100-pull trial against the Bayes-optimal policy of the test task\n\n"
        + markdown(as_matrix(frame, "regret_vs_bayes_optimal"))
        + "\n"
    )
    write_text(text, output_dir / "generalization.md")
    plot(frame, output_dir / "generalization.png")
    print("\n" + text)
    print(f"Written: {output_dir / 'generalization.csv'}, {output_dir / 'generalization.md'}, "
          f"{output_dir / 'generalization.png'}")  # fmt: skip
    return frame
