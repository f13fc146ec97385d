"""Does a tabular-MDP agent's reward head know more than its policy? Each way of acting on the same trials.

For each checkpoint of an agent with the reward-prediction head (``--reward-prediction``), on ``--trials`` trials of
``--n`` episodes (the tuning stream, disjoint from the tables' held-out trials), frozen weights:

- ``policy``: the agent as trained (with ``--reward-logits``, its logits include ``beta x head``);
- ``head``: the action the head predicts to pay most, the policy ignored (``head x 10`` when sampled);

each greedy and sampled. Two references play the same trials: ``Myopic``, which acts on the exact Bayes posterior
mean reward of the current state's actions, updated after every step, and never plans over transitions (what a
perfect reward head gives, acted on greedily); and the table's ``Greedy``, which plans on the posterior-mean MDP at
the start of each episode.

    python benchmarks/mdp_reward_head.py CHECKPOINT [CHECKPOINT ...] --n 10 --trials 500

Prints a line per checkpoint and way of acting and appends the records to ``benchmarks/results/mdp_reward_head.jsonl``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from common import RESULTS, append_record, machine

from rllib_metarl.baselines.mdps import GreedyMDPPolicy, MDPPolicy
from rllib_metarl.baselines.play import play_baseline
from rllib_metarl.cli.main import exit_code
from rllib_metarl.evaluation import evaluate_module, load_module
from rllib_metarl.utils.seeding import TUNING_STREAM

TASK = "tabular_mdp"


class MyopicMDPPolicy(MDPPolicy):
    """Acts on the posterior mean reward of the current state's actions, updated after every step; no planning."""

    name = "Myopic"

    def plan(self) -> np.ndarray:
        return np.repeat(self.mean_rewards[:, None], self.episode_length, axis=1)

    def act(self, states: np.ndarray, h: int) -> np.ndarray:
        self.q_values = self.plan()  # re-read the posterior at every step, not once per episode
        return super().act(states, h)


class HeadOnly(torch.nn.Module):
    """Logits = 10 x the reward head's predictions: greedy on them is the head's best action."""

    def __init__(self, reward_head: torch.nn.Module) -> None:
        super().__init__()
        self.reward_head = reward_head

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return 10.0 * self.reward_head(features)


def head_only(module):
    """The module acting on its reward head alone (its policy layer and ``beta`` ignored)."""
    module.pi = HeadOnly(module.reward_head)
    module.reward_logits_beta = None
    return module


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoints", nargs="*", type=Path, help="checkpoints of reward-prediction agents")
    parser.add_argument("--n", type=int, default=10, help="inner episodes per trial")
    parser.add_argument("--trials", type=int, default=500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=RESULTS / "mdp_reward_head.jsonl")
    args = parser.parse_args(argv)
    if args.n <= 0 or args.trials <= 0:
        parser.error(f"--n and --trials must be positive, got {args.n} and {args.trials}")
    torch.set_num_threads(1)
    env_config = {"num_episodes": args.n}
    common = {"n": args.n, "trials": args.trials, "seed": args.seed, "stream": "tuning", "machine": machine()}

    def report(source: str, acting: str, returns: np.ndarray) -> None:
        mean, half = returns.mean(), 1.96 * returns.std(ddof=1) / np.sqrt(len(returns))
        print(f"{source:60s} {acting:16s} {mean:8.2f} [{mean - half:.2f}, {mean + half:.2f}]", flush=True)
        append_record({"source": source, "acting": acting, "mean_return": round(float(mean), 3), **common}, args.output)

    for policy in (MyopicMDPPolicy(), GreedyMDPPolicy()):
        trials = play_baseline(policy, TASK, env_config, args.trials, args.seed, TUNING_STREAM)
        report(policy.name, "baseline", trials["return"].to_numpy())
    for checkpoint in args.checkpoints:
        for acting, prepare in (("policy", lambda m: m), ("head", head_only)):
            module = prepare(load_module(checkpoint))
            if not hasattr(module, "reward_head"):
                parser.error(f"{str(checkpoint)!r} has no reward-prediction head (train with --reward-prediction)")
            for explore in (False, True):
                trials = evaluate_module(
                    module, TASK, env_config, args.trials, args.seed, explore, stream=TUNING_STREAM
                )
                report(
                    str(checkpoint)[-60:], f"{acting} {'sampled' if explore else 'greedy'}", trials["return"].to_numpy()
                )


if __name__ == "__main__":
    sys.exit(exit_code(main))
