"""Dependent bandits: train on each of {easy, medium, hard, uniform}, test on each (Wang et al. 2016, Fig. 3).

    python -m analysis.generalization --storage-path ~/ray_results/wang
    python -m analysis.generalization --experiment EXP_EASY EXP_UNIFORM ...

The agents of a training task are every training seed of its experiments: ``--experiment`` names them (each
experiment's task gives its row), else the newest finished experiment per training task under ``--storage-path``
(``tune_configs/two_armed_dependent.py --difficulty D``). Each seed's best checkpoint plays, with frozen weights and
greedy actions, the same ``--trials`` held-out trials of every test task. Two matrices (rows: trained on, columns:
tested on), each cell the mean over the row's seeds: the mean return, and the cumulative regret against the
Bayes-optimal policy of the test task (its exact expected return minus the agent's mean return over the 100-pull
trial). Writes ``generalization.csv`` (per seed and cell), ``generalization_across_seeds.csv`` (per cell: the mean
over seeds with a 95% t-interval across them), ``generalization.md`` and ``generalization.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from matplotlib import patheffects

from rllib_metarl.analysis.figures import plt, save_figure
from rllib_metarl.analysis.load import find_experiments, load_experiment
from rllib_metarl.analysis.seeds import TRAINED, across_seeds, add_checkpoint_trials_argument, trial_checkpoints
from rllib_metarl.cli.arguments import positive_int
from rllib_metarl.tasks.bandits import DEPENDENT_DIFFICULTIES
from rllib_metarl.tasks.registry import get_task
from rllib_metarl.utils.atomic_io import write_csv, write_text
from rllib_metarl.utils.stats import mean_interval

OUTLINE = [patheffects.withStroke(linewidth=2, foreground="black")]
ORDER = ["easy", "medium", "hard", "uniform"]  # the paper's
assert set(ORDER) == set(DEPENDENT_DIFFICULTIES)
PREFIX = "dependent_"


def newest_experiments(storage_path: str | Path) -> list[Path]:
    """The newest finished experiment of each training task found under ``storage_path``."""
    newest = [find_experiments(storage_path, f"{PREFIX}{difficulty}") for difficulty in ORDER]
    return [experiments[0] for experiments in newest if experiments]


def trained_agents(experiments: list[str | Path], checkpoint_trials: int = 0) -> dict[str, list[tuple[int, str]]]:
    """difficulty -> (seed, checkpoint) of every training seed of the experiments that trained on it, each seed's
    checkpoint chosen as :func:`~rllib_metarl.analysis.seeds.trial_checkpoints` does with ``checkpoint_trials``."""
    by_difficulty: dict[str, list[str | Path]] = {}
    for experiment in experiments:
        task = load_experiment(experiment).task or ""
        difficulty = task.removeprefix(PREFIX)
        if not task.startswith(PREFIX) or difficulty not in ORDER:
            raise ValueError(f"{str(experiment)!r} trained on {task!r}, not on a dependent bandit ({PREFIX}D)")
        by_difficulty.setdefault(difficulty, []).append(experiment)
    return {d: trial_checkpoints(by_difficulty[d], checkpoint_trials) for d in ORDER if d in by_difficulty}


def generalization_matrix(agents: dict[str, list[tuple[int, str]]], trials: int = 1000, seed: int = 0) -> pd.DataFrame:
    """One row per (trained on, training seed, tested on): mean return with its 95% interval, and regret against
    the test task's Bayes-optimal return."""
    from rllib_metarl.evaluation import evaluate_checkpoint

    rows = []
    for trained_on, seeds in agents.items():
        for training_seed, checkpoint in seeds:
            for tested_on in ORDER:
                task = get_task(f"{PREFIX}{tested_on}")
                returns = evaluate_checkpoint(checkpoint, task.name, {}, trials, seed)["return"]
                bayes_optimal = task.optimal_return(task.env_kwargs())
                rows.append(
                    {
                        "agent": TRAINED,
                        "trained_on": trained_on,
                        "seed": training_seed,
                        "tested_on": tested_on,
                        **mean_interval(returns),
                        "bayes_optimal_return": bayes_optimal,
                        "regret_vs_bayes_optimal": bayes_optimal - returns.mean(),
                        "trials": trials,
                        "checkpoint": checkpoint,
                    }
                )
                print(f"  trained on {trained_on:<8} seed {training_seed} tested on {tested_on:<8} "
                      f"{returns.mean():7.2f} (Bayes-optimal {bayes_optimal:.2f})", flush=True)  # fmt: skip
    return pd.DataFrame(rows).rename(columns={"mean": "mean_return"})


def cells_across_seeds(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (trained on, tested on): the mean return and the regret, each the mean over the row's seeds with a 95%
    t-interval across them."""
    returns = across_seeds(frame, "mean_return", ["trained_on", "tested_on"])
    regret = across_seeds(frame, "regret_vs_bayes_optimal", ["trained_on", "tested_on"])
    regret = regret.rename(columns={"mean": "regret_vs_bayes_optimal", "ci95_low": "regret_ci95_low",
                                    "ci95_high": "regret_ci95_high"})  # fmt: skip
    cells = returns.rename(columns={"mean": "mean_return"}).merge(
        regret, on=["agent", "trained_on", "tested_on", "seeds"]
    )
    return cells.drop(columns="agent")


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
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--experiment", nargs="+", help="finished dependent-bandit experiments: every trial (seed)")
    source.add_argument("--storage-path", default="~/ray_results",
                        help="else: the newest finished experiment of each difficulty found here")  # fmt: skip
    add_checkpoint_trials_argument(parser)
    parser.add_argument("--trials", type=positive_int, default=1000, help="held-out trials per cell")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out trials")
    parser.add_argument("--output-dir", default="analysis/results", help="where the CSVs, Markdown and PNG go")
    args = parser.parse_args(argv)
    experiments = args.experiment or newest_experiments(args.storage_path)
    if not experiments:
        parser.error(f"no finished dependent-bandit experiment under {args.storage_path!r}: run "
                     "tune_configs/two_armed_dependent.py --difficulty D --storage-path ... first")  # fmt: skip
    try:
        agents = trained_agents(experiments, args.checkpoint_trials)
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    missing = [d for d in ORDER if d not in agents]
    print("Trained agents: " + ", ".join(f"{d} ({len(seeds)} seeds)" for d, seeds in agents.items())
          + (f" (none for {', '.join(missing)})" if missing else ""))  # fmt: skip
    frame = generalization_matrix(agents, args.trials, args.seed)
    cells = cells_across_seeds(frame)
    output_dir = Path(args.output_dir).expanduser()
    output_dir.mkdir(parents=True, exist_ok=True)
    write_csv(frame, output_dir / "generalization.csv")
    write_csv(cells, output_dir / "generalization_across_seeds.csv")
    text = matrices_markdown(cells, frame.groupby("tested_on")["bayes_optimal_return"].first(), args.trials)
    write_text(text, output_dir / "generalization.md")
    plot(cells, output_dir / "generalization.png")
    print("\n" + text)
    names = ("generalization.csv", "generalization_across_seeds.csv", "generalization.md", "generalization.png")
    print(f"Written: {', '.join(str(output_dir / name) for name in names)}")
    return frame


def matrices_markdown(cells: pd.DataFrame, optima: pd.Series, trials: int) -> str:
    """The two matrices, each cell the mean over the row's seeds, with the test tasks' Bayes-optimal returns."""
    seeds = ", ".join(f"{row.trained_on} {row.seeds}" for row in cells.drop_duplicates("trained_on").itertuples())
    return (
        f"Held-out mean return over {trials} trials, frozen weights, greedy, mean over the training seeds ({seeds}); "
        "Bayes-optimal: " + ", ".join(f"{d} {optima[d]:.2f}" for d in ORDER) + "\n\n"
        + markdown(as_matrix(cells, "mean_return"))
        + "\n\nCumulative regret per 100-pull trial against the Bayes-optimal policy of the test task\n\n"
        + markdown(as_matrix(cells, "regret_vs_bayes_optimal"))
        + "\n"
    )  # fmt: skip
