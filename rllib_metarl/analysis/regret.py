"""Cumulative regret within a trial (regret after each pull) for a trained agent and the classical bandit baselines.

    python -m analysis.regret --experiment ~/ray_results/dependent_uniform-20261122-093000
    python -m analysis.regret --task two_armed_independent          # the baselines only

Regret is the expected one, against an oracle that knows the arms' probabilities: after pull t it is the sum over
pulls 1..t of (best arm's probability - pulled arm's probability), as the env reports it. Agent and baselines play the
same held-out trials (:mod:`rllib_metarl.utils.seeding`). Baselines exist for the Bernoulli tasks (two-armed independent
and dependent, k-armed): the tuned ones of RL^2's Table 1 and, where the dynamic program is tractable, the exact
Bayes-optimal policy; other tasks get the agent's curve alone. Writes ``regret_curves.csv`` and ``regret_curves.png``.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rllib_metarl.analysis.figures import plt, save_figure
from rllib_metarl.analysis.load import experiment_checkpoint
from rllib_metarl.baselines.bandits import BayesOptimalPolicy
from rllib_metarl.baselines.play import baseline_regret
from rllib_metarl.baselines.tuning import BANDIT_BASELINES, tune
from rllib_metarl.cli.arguments import key_value, positive_int
from rllib_metarl.tasks.bandits import BernoulliBandit, DependentBandit
from rllib_metarl.tasks.registry import TASKS, get_task
from rllib_metarl.utils.atomic_io import write_csv
from rllib_metarl.utils.stats import Z_95

AGENT = "trained agent"


def curve(method: str, regret: np.ndarray) -> pd.DataFrame:
    """Mean cumulative regret per pull with a 95% interval; ``regret`` is ``(trials, pulls)``."""
    mean = regret.mean(axis=0)
    half_width = Z_95 * regret.std(axis=0, ddof=1) / math.sqrt(len(regret))
    return pd.DataFrame(
        {
            "method": method,
            "pull": np.arange(1, regret.shape[1] + 1),
            "mean_regret": mean,
            "ci95_low": mean - half_width,
            "ci95_high": mean + half_width,
        }  # fmt: skip
    )


def agent_regret(checkpoint: str, task_name: str, env_config: dict[str, Any], trials: int, seed: int) -> np.ndarray:
    from rllib_metarl.evaluation import load_module, play_module

    _, steps = play_module(load_module(checkpoint), task_name, env_config, trials, seed)
    return steps.pivot(index="trial", columns="step", values="regret").to_numpy()


def baseline_curves(
    task_name: str, env_config: dict[str, Any], trials: int, tuning_trials: int, seed: int
) -> list[pd.DataFrame]:
    """Every applicable baseline's curve (tuned on its own trials first); none for non-Bernoulli tasks."""
    env = get_task(task_name).make(**env_config)
    if not isinstance(env, (BernoulliBandit, DependentBandit)):
        return []
    curves = []
    for baseline in BANDIT_BASELINES.values():
        if baseline.make is BayesOptimalPolicy:
            policy = _bayes_optimal(env)
            if policy is None:
                continue
        else:
            parameters, _ = tune(baseline, task_name, env_config, tuning_trials, seed)
            policy = baseline.make(**parameters)
        curves.append(curve(baseline.name, baseline_regret(policy, task_name, env_config, trials, seed)))
        print(f"  {baseline.name:<14} regret after {env.trial_length} pulls: {curves[-1]['mean_regret'].iloc[-1]:.2f}",
              flush=True)  # fmt: skip
    return curves


def _bayes_optimal(env: BernoulliBandit | DependentBandit) -> BayesOptimalPolicy | None:
    from rllib_metarl.baselines.bayes_optimal import solver

    dependent = isinstance(env, DependentBandit)
    p1_choices = env.p1_choices if dependent else None
    try:
        solver(env.num_arms, env.trial_length, dependent, p1_choices)
    except (ValueError, MemoryError):
        return None  # too many arms and pulls for the exact dynamic program
    return BayesOptimalPolicy(dependent, p1_choices)


def plot(frame: pd.DataFrame, title: str, output: Path) -> Path:
    figure, axis = plt.subplots(figsize=(7, 4.5))
    finals = frame.groupby("method", sort=False)["mean_regret"].last()
    for method, part in frame.groupby("method", sort=False):
        style = {"linewidth": 2.5, "color": "black"} if method == AGENT else {"linewidth": 1.2}
        axis.plot(part["pull"], part["mean_regret"], label=f"{method} ({finals[method]:.2f})", **style)
        axis.fill_between(part["pull"], part["ci95_low"], part["ci95_high"], alpha=0.15)
    if len(finals) > 1 and "Random" in finals:  # random play's linear regret would squash every other curve
        axis.set_ylim(0, 1.3 * finals.drop("Random").max())
    axis.set_xlabel("pull within the trial")
    axis.set_ylabel("cumulative expected regret (legend: after the trial)")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(fontsize="small", loc="upper left")
    return save_figure(figure, output)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiment", help="a finished experiment: its agent is evaluated on its training task")
    parser.add_argument("--task", choices=list(TASKS), help="the task (default: the experiment's)")
    parser.add_argument("--env-arg", type=key_value, action="append", default=[], metavar="KEY=VALUE",
                        help="task parameter, e.g. --env-arg num_arms=5 (repeatable)")  # fmt: skip
    parser.add_argument("--trials", type=positive_int, default=1000, help="held-out trials per method")
    parser.add_argument("--tuning-trials", type=positive_int, default=300, help="trials per grid value when tuning")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out trials")
    parser.add_argument(
        "--output-dir", help="where the CSV and PNG go (default: the experiment, else analysis/results)"
    )
    args = parser.parse_args(argv)
    if not (args.experiment or args.task):
        parser.error("give --experiment, --task, or both")
    try:
        checkpoint = experiment_checkpoint(args.experiment) if args.experiment else None
        if checkpoint:
            from rllib_metarl.evaluation import resolve_task

            task_name, env_config = resolve_task(checkpoint, args.task, dict(args.env_arg) or None)
        else:
            task_name, env_config = args.task, dict(args.env_arg)
            get_task(task_name).make(**env_config)
    except (FileNotFoundError, TypeError, ValueError) as error:
        parser.error(str(error))
    curves = baseline_curves(task_name, env_config, args.trials, args.tuning_trials, args.seed)
    if checkpoint:
        curves.insert(0, curve(AGENT, agent_regret(checkpoint, task_name, env_config, args.trials, args.seed)))
        print(f"  {AGENT:<14} regret after the trial: {curves[0]['mean_regret'].iloc[-1]:.2f}")
    frame = pd.concat(curves, ignore_index=True)
    output_dir = Path(args.output_dir or args.experiment or "analysis/results").expanduser()
    output_dir.mkdir(parents=True, exist_ok=True)
    write_csv(frame, output_dir / "regret_curves.csv")
    plot(frame, f"{task_name} {env_config or ''}, {args.trials} held-out trials", output_dir / "regret_curves.png")
    print(f"Written: {output_dir / 'regret_curves.csv'}, {output_dir / 'regret_curves.png'}")
    return frame
