"""Cumulative regret within a trial (regret after each pull) for trained agents and the classical bandit baselines.

    python -m analysis.regret --experiment ~/ray_results/dependent_uniform-20261122-093000 [EXPERIMENT ...]
    python -m analysis.regret --task two_armed_independent          # the baselines only

Regret is the expected one, against an oracle that knows the arms' probabilities: after pull t it is the sum over
pulls 1..t of (best arm's probability - pulled arm's probability), as the env reports it. Agents and baselines play the
same held-out trials (:mod:`rllib_metarl.utils.seeding`). Every training seed of the experiments is an agent of its
own (frozen weights, greedy); the trained agent's figure is the mean over those seeds with a 95% t-interval across
them. Baselines exist for the Bernoulli tasks (two-armed independent and dependent, k-armed): the tuned ones of RL^2's
Table 1 and, where the dynamic program is tractable, the exact Bayes-optimal policy; other tasks get the agents'
curves alone.

Writes ``regret_curves.csv`` (per method and pull; the agent per seed), ``regret_across_seeds.csv`` (the agent's
mean curve over seeds), ``regret_curves.png``, and merges the task's rows into ``regret_summary.csv``: per task and
method the regret after the whole trial and its ratio to the Bayes-optimal policy's, one task's rows replaced by the
next measurement of that task, so that one file gathers the tasks.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rllib_metarl.analysis.figures import plt, save_figure
from rllib_metarl.analysis.seeds import TRAINED, across_seeds, add_agent_arguments, agents_of, output_dir_of
from rllib_metarl.baselines.bandits import BayesOptimalPolicy
from rllib_metarl.baselines.play import baseline_steps
from rllib_metarl.baselines.tuning import BANDIT_BASELINES, tune
from rllib_metarl.cli.arguments import key_value, positive_int
from rllib_metarl.tasks.bandits import BernoulliBandit, DependentBandit
from rllib_metarl.tasks.registry import TASKS, get_task
from rllib_metarl.utils.atomic_io import write_csv
from rllib_metarl.utils.stats import Z_95, seeds_interval

BAYES_OPTIMAL = BayesOptimalPolicy.name
SUMMARY_FILE = "regret_summary.csv"


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


def regret_by_pull(steps: pd.DataFrame) -> np.ndarray:
    """``(trials, pulls)`` cumulative regret from a player's per-pull records (an agent's or a baseline's)."""
    return steps.pivot(index="trial", columns="step", values="regret").to_numpy()


def agents_task(
    agents: list[tuple[int, str]], task_name: str | None, env_config: dict[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    """The one task every agent is evaluated on: the given one, else the one they were all trained on."""
    from rllib_metarl.evaluation import resolve_task

    resolved = [resolve_task(checkpoint, task_name, env_config) for _, checkpoint in agents]
    different = {f"{name} {config}" for name, config in resolved}
    if len(different) > 1:
        raise ValueError(f"the agents were trained on different tasks ({'; '.join(sorted(different))}): "
                         "name the one to evaluate on with --task")  # fmt: skip
    return resolved[0]


def agent_curves(
    agents: list[tuple[int, str]], task_name: str, env_config: dict[str, Any], trials: int, seed: int
) -> pd.DataFrame:
    """Each training seed's agent on the held-out trials: its curve, its ``seed`` column naming it."""
    from rllib_metarl.evaluation import load_module, play_module

    curves = []
    for training_seed, checkpoint in agents:
        _, steps = play_module(load_module(checkpoint), task_name, env_config, trials, seed)
        curves.append(curve(TRAINED, regret_by_pull(steps)).assign(seed=training_seed))
        print(f"  {TRAINED}, seed {training_seed}: regret after the trial {curves[-1]['mean_regret'].iloc[-1]:.2f}",
              flush=True)  # fmt: skip
    return pd.concat(curves, ignore_index=True)


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
        _, steps = baseline_steps(policy, task_name, env_config, trials, seed)
        curves.append(curve(baseline.name, regret_by_pull(steps)))
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


def seeds_curve(frame: pd.DataFrame) -> pd.DataFrame:
    """The trained agent's curve as the mean over its seeds with a 95% t-interval across them, per pull."""
    agent = frame[frame["method"] == TRAINED].rename(columns={"method": "agent"})
    return across_seeds(agent, "mean_regret", ["pull"]) if len(agent) else pd.DataFrame()


def summary(frame: pd.DataFrame, task: str) -> pd.DataFrame:
    """Per method, the regret after the whole trial [95% interval] and its ratio to the Bayes-optimal policy's. The
    trained agent's is the mean over seeds with the t-interval across them (with one seed: its interval over trials)."""
    last = frame[frame["pull"] == frame["pull"].max()]
    rows = []
    for method, part in last.groupby("method", sort=False):
        if method == TRAINED and len(part) > 1:
            figure = seeds_interval(part["mean_regret"])
        else:
            figure = {"mean": part["mean_regret"].iloc[0], **part[["ci95_low", "ci95_high"]].iloc[0].to_dict()}
        rows.append(
            {
                "task": task,
                "method": method,
                "seeds": part["seed"].nunique() if method == TRAINED else None,
                "regret": figure["mean"],
                "ci95_low": figure["ci95_low"],
                "ci95_high": figure["ci95_high"],
            }
        )
    table = pd.DataFrame(rows)
    bayes = table.loc[table["method"] == BAYES_OPTIMAL, "regret"]
    table["ratio_to_bayes_optimal"] = table["regret"] / bayes.iloc[0] if len(bayes) else float("nan")
    return table


def task_label(task_name: str, env_config: dict[str, Any]) -> str:
    """The task's name and the settings in which it differs from the task's defaults, e.g. ``k_armed num_arms=10``."""
    defaults = get_task(task_name).defaults
    changed = [f"{key}={value}" for key, value in sorted(env_config.items()) if defaults.get(key) != value]
    return " ".join([task_name, ",".join(changed)]).strip()


def merge_summary(rows: pd.DataFrame, path: Path) -> pd.DataFrame:
    """``path``'s rows with this task's replaced by ``rows``: one file gathers the tasks measured one by one."""
    if path.exists():
        saved = pd.read_csv(path)
        rows = pd.concat([saved[~saved["task"].isin(rows["task"])], rows], ignore_index=True)
    write_csv(rows, path)
    return rows


def plot(frame: pd.DataFrame, seeds: pd.DataFrame, title: str, output: Path) -> Path:
    """Each baseline's curve; the trained agent's as the mean over seeds, thick (with its t-interval from three seeds
    on; ``seeds`` is :func:`seeds_curve` of ``frame``), and each seed's curve dashed."""
    figure, axis = plt.subplots(figsize=(7, 4.5))
    if len(seeds):
        label = f"{TRAINED} ({seeds['mean'].iloc[-1]:.2f}, {seeds['seeds'].iloc[0]} seed(s))"
        axis.plot(seeds["pull"], seeds["mean"], linewidth=2.5, color="black", label=label)
        if seeds["seeds"].iloc[0] > 2:  # two seeds' t-interval (t = 12.7) would cover the figure; their curves show
            axis.fill_between(seeds["pull"], seeds["ci95_low"], seeds["ci95_high"], color="black", alpha=0.08)
        for index, (_, part) in enumerate(frame[frame["method"] == TRAINED].groupby("seed")):
            axis.plot(part["pull"], part["mean_regret"], linewidth=0.8, linestyle="--", color="black",
                      label="each seed" if index == 0 else None)  # fmt: skip
    baselines = frame[frame["method"] != TRAINED]
    for method, part in baselines.groupby("method", sort=False):
        final = part["mean_regret"].iloc[-1]
        axis.plot(part["pull"], part["mean_regret"], linewidth=1.2, label=f"{method} ({final:.2f})")
        axis.fill_between(part["pull"], part["ci95_low"], part["ci95_high"], alpha=0.15)
    finals = frame[frame["pull"] == frame["pull"].max()].groupby("method")["mean_regret"].max()
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
    add_agent_arguments(parser)
    parser.add_argument("--task", choices=list(TASKS), help="the task (default: the one the agents trained on)")
    parser.add_argument("--env-arg", type=key_value, action="append", default=[], metavar="KEY=VALUE",
                        help="task parameter, e.g. --env-arg num_arms=5 (repeatable)")  # fmt: skip
    parser.add_argument("--trials", type=positive_int, default=1000, help="held-out trials per method")
    parser.add_argument("--tuning-trials", type=positive_int, default=300, help="trials per grid value when tuning")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out trials")
    args = parser.parse_args(argv)
    if not (args.experiment or args.checkpoint or args.task):
        parser.error("give --experiment, --checkpoint or --task")
    try:
        agents = agents_of(args)
        if agents:
            task_name, env_config = agents_task(agents, args.task, dict(args.env_arg) or None)
        else:
            task_name, env_config = args.task, get_task(args.task).env_kwargs(dict(args.env_arg))
            get_task(task_name).make(**env_config)
    except (FileNotFoundError, TypeError, ValueError) as error:
        parser.error(str(error))
    curves = [agent_curves(agents, task_name, env_config, args.trials, args.seed)] if agents else []
    curves += baseline_curves(task_name, env_config, args.trials, args.tuning_trials, args.seed)
    frame = pd.concat(curves, ignore_index=True)
    output_dir = output_dir_of(args)
    label = task_label(task_name, env_config)
    write_csv(frame, output_dir / "regret_curves.csv")
    seeds = seeds_curve(frame)
    write_csv(seeds, output_dir / "regret_across_seeds.csv")
    rows = summary(frame, label)
    merge_summary(rows, output_dir / SUMMARY_FILE)
    plot(frame, seeds, f"{label}, {args.trials} held-out trials", output_dir / "regret_curves.png")
    report(rows)
    names = ("regret_curves.csv", "regret_across_seeds.csv", SUMMARY_FILE, "regret_curves.png")
    print(f"Written: {', '.join(str(output_dir / name) for name in names)}")
    return frame


def report(rows: pd.DataFrame) -> None:
    print(f"\n{rows['task'].iloc[0]}: regret after the whole trial [95% interval], x the Bayes-optimal regret")
    for row in rows.itertuples():
        seeds = f" (mean of {int(row.seeds)} seeds)" if row.method == TRAINED else ""
        ratio = "" if np.isnan(row.ratio_to_bayes_optimal) else f"  x{row.ratio_to_bayes_optimal:.2f}"
        print(f"  {row.method + seeds:<36} {row.regret:6.2f} [{row.ci95_low:.2f}, {row.ci95_high:.2f}]{ratio}")
