"""Draw an experiment's learning curves (training return against env steps) with the optimum and random lines.

python -m analysis.learning_curve ~/ray_results/eleven_arm-20261122-101500 [--output curve.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rllib_metarl.analysis.figures import plt, save_figure
from rllib_metarl.analysis.load import LoadedExperiment, load_experiment
from rllib_metarl.tasks.registry import get_task


def reference_lines(experiment: LoadedExperiment) -> dict[str, float]:
    """The task's optimal and random returns per trial, where known."""
    if experiment.task is None:
        return {}
    task = get_task(experiment.task)
    kwargs = task.env_kwargs(experiment.env_config)
    lines = {}
    if task.optimal_return:
        lines["optimum"] = task.optimal_return(kwargs)
    if task.random_return:
        lines["random"] = task.random_return(kwargs)
    return lines


def plot_learning_curve(path: str | Path, output: str | Path | None = None, metric: str = "return") -> Path:
    """Write the PNG (default: ``<experiment>/learning_curve.png``, or ``<metric>.png``) and return its path.

    ``metric`` is any column of the histories: ``return`` (with the optimum and random lines) or a meta-RL metric
    such as ``regret``, ``optimal_action_rate`` or ``informative_first``.
    """
    experiment = load_experiment(path)
    allowed = [c for c in experiment.histories.columns if c not in ("trial", "seed", "lr", "env_steps")]
    if metric not in allowed:
        raise ValueError(f"unknown metric {metric!r}; this experiment has: {', '.join(allowed)}")
    default_name = "learning_curve.png" if metric == "return" else f"{metric}.png"
    output = Path(output) if output else experiment.path / default_name
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for _, history in experiment.histories.groupby("trial", sort=False):
        seed = history["seed"].iloc[0]
        axes.plot(history["env_steps"], history[metric], label=f"seed {seed}", linewidth=1.2)
    styles = {"optimum": ("black", "--"), "random": ("grey", ":")}
    for name, value in (reference_lines(experiment) if metric == "return" else {}).items():
        color, style = styles[name]
        axes.axhline(value, color=color, linestyle=style, label=f"{name} ({value:.2f})")
    axes.set_xlabel("env steps")
    axes.set_ylabel("mean return per trial (training, sampled actions)" if metric == "return" else metric)
    axes.set_title(f"{experiment.task or 'experiment'}: {experiment.path.name}")
    axes.legend(loc="lower right", fontsize="small")
    axes.grid(alpha=0.3)
    return save_figure(figure, output)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", help="a Tune experiment folder")
    parser.add_argument("--output", help="PNG path (default: <experiment>/learning_curve.png or <metric>.png)")
    parser.add_argument("--metric", default="return", help="what to plot: return, regret, optimal_action_rate, ...")
    args = parser.parse_args(argv)
    try:
        output = plot_learning_curve(args.experiment, args.output, args.metric)
    except (FileNotFoundError, ValueError) as error:
        parser.error(str(error))
    print(output)
    return 0
