"""Env steps per second on this machine, from the bare env to a full training iteration, for 1 to 256 env copies.

    python benchmarks/throughput.py                       # eleven_arm preset, 1 16 64 256 copies
    python benchmarks/throughput.py --task dependent_uniform --envs 16 64
    python benchmarks/throughput.py --smoke               # a few seconds: what the test suite runs

Per number of env copies N (one env runner, the trial's own process, ``--torch-threads`` threads):

  (a) env          the agent env (task + action-reward-timestep wrapper), N copies, random actions: the native vector
                   env (``env``) and a ``SyncVectorEnv`` of single envs (``env_sync``) for comparison
  (b) env+lstm     (a) plus the preset's network in plain torch, batched over the copies: actor and critic towers
                   (MLP, then LSTM) and the policy head, an action sampled per copy. The ceiling for any pipeline.
  (c) sampling     our training pipeline's sampling: ``TrialEnvRunner.sample()`` with the preset's config;
                   ``sampling_rllib`` is RLlib's own ``SingleAgentEnvRunner`` on the same config, for comparison
  (d) iteration    a full training iteration, ``Algorithm.train()``: sampling plus the learner update;
                   ``iteration_rllib`` the same with RLlib's own runner

Efficiency is (c)/(b). Every row is printed and appended to ``benchmarks/results/throughput.jsonl`` with the
machine and the exact configuration.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from common import RESULTS, append_record, machine, markdown_table
from torch import nn

from rllib_metarl.models import CORES
from rllib_metarl.tasks.registry import get_task, make_agent_vector_env, make_sync_vector_env
from rllib_metarl.training.config import algorithm_config
from rllib_metarl.training.presets import get_preset
from rllib_metarl.training.ray_session import start_ray

STAGES = ("env", "env_sync", "env+lstm", "sampling", "sampling_rllib", "iteration", "iteration_rllib")


def rate(step: Callable[[], int], seconds: float) -> float:
    """Env steps per second of calling ``step`` (which returns the steps it made) for at least ``seconds``."""
    step()  # warm-up
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        steps += step()
    return steps / (time.perf_counter() - start)


def bare_env(task: str, num_envs: int, native: bool) -> Callable[[], int]:
    env = make_agent_vector_env(task, num_envs) if native else make_sync_vector_env(task, num_envs)
    env.reset(seed=0)
    rng = np.random.default_rng(0)

    def step() -> int:
        env.step(rng.integers(env.single_action_space.n, size=num_envs))
        return num_envs

    return step


class PlainTorchPolicy(nn.Module):
    """The preset's network as the env runner evaluates it: actor and critic towers (MLP, LSTM), policy logits."""

    def __init__(self, observation_size: int, num_actions: int, hiddens: tuple[int, ...], cell_size: int):
        super().__init__()

        def tower() -> nn.ModuleDict:
            sizes = [observation_size, *hiddens]
            layers = [m for a, b in zip(sizes, sizes[1:], strict=False) for m in (nn.Linear(a, b), nn.Tanh())]
            mlp = nn.Sequential(*layers)
            return nn.ModuleDict({"mlp": mlp, "lstm": nn.LSTMCell(sizes[-1], cell_size)})

        self.actor, self.critic = tower(), tower()
        self.logits = nn.Linear(cell_size, num_actions)

    def forward(self, observations: torch.Tensor, state: list) -> tuple[torch.Tensor, list]:
        towers = (self.actor, self.critic)
        new_state = [tower["lstm"](tower["mlp"](observations), s) for tower, s in zip(towers, state, strict=True)]
        return self.logits(new_state[0][0]), new_state


def env_and_network(task: str, num_envs: int, preset) -> Callable[[], int]:
    env = make_agent_vector_env(task, num_envs)
    observations, _ = env.reset(seed=0)
    policy = PlainTorchPolicy(observations.shape[1], int(env.single_action_space.n), preset.tokenizer_hiddens,
                              preset.lstm_cell_size).eval()  # fmt: skip
    zeros = torch.zeros(num_envs, preset.lstm_cell_size)
    state = [[(zeros, zeros), (zeros, zeros)]]

    def step() -> int:
        nonlocal observations
        with torch.no_grad():
            logits, state[0] = policy(torch.from_numpy(observations), state[0])
            actions = torch.distributions.Categorical(logits=logits).sample().numpy()
        observations, *_ = env.step(actions)
        return num_envs

    return step


def sampling(config, rllib_runner: bool) -> Callable[[], int]:
    from ray.rllib.env.single_agent_env_runner import SingleAgentEnvRunner

    runner = (SingleAgentEnvRunner if rllib_runner else config.env_runner_cls)(config=config)

    def step() -> int:
        return sum(len(episode) for episode in runner.sample())

    return step


def iteration(config, rllib_runner: bool) -> Callable[[], int]:
    from ray.rllib.env.single_agent_env_runner import SingleAgentEnvRunner

    if rllib_runner:
        config = config.copy(copy_frozen=False).env_runners(env_runner_cls=SingleAgentEnvRunner)
    algo = config.build_algo()

    def step() -> int:
        return int(algo.train()["env_runners"]["num_env_steps_sampled"])

    return step


def measure(task: str, num_envs: int, stages: list[str], seconds: float, core: str) -> list[dict]:
    preset = get_preset(task, envs_per_worker=num_envs, core=core)
    config = algorithm_config(task, preset, {}, seed=0)
    makers = {
        "env": lambda: bare_env(task, num_envs, native=get_task(task).vector_class is not None),
        "env_sync": lambda: bare_env(task, num_envs, native=False),
        "env+lstm": lambda: env_and_network(task, num_envs, preset),
        "sampling": lambda: sampling(config, rllib_runner=False),
        "sampling_rllib": lambda: sampling(config, rllib_runner=True),
        "iteration": lambda: iteration(config, rllib_runner=False),
        "iteration_rllib": lambda: iteration(config, rllib_runner=True),
    }
    setting = {
        "task": task,
        "num_envs": num_envs,
        "rollout_steps": num_envs * preset.trials_per_rollout * get_task(task).make().trial_length,
        "preset": {k: getattr(preset, k) for k in ("algo", "core", "lstm_cell_size", "tokenizer_hiddens",
                                                   "trials_per_rollout", "minibatches", "num_epochs")},
    }  # fmt: skip
    records = []
    for stage in stages:
        steps_per_s = rate(makers[stage](), seconds)
        records.append({"benchmark": "throughput", "stage": stage, **setting, "steps_per_s": round(steps_per_s)})
        print(f"{task:<18} N={num_envs:<4} {stage:<15} {steps_per_s:>10,.0f} env steps/s", flush=True)
    return records


def efficiency_table(records: list[dict]) -> str:
    import pandas as pd

    table = pd.DataFrame(records).pivot_table(index="num_envs", columns="stage", values="steps_per_s")
    table = table.reindex(columns=[s for s in STAGES if s in table.columns])
    if {"sampling", "env+lstm"} <= set(table.columns):
        table["efficiency"] = (table["sampling"] / table["env+lstm"]).map("{:.0%}".format)
    return markdown_table(table, "env copies")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="eleven_arm", help="a task with a preset (default: eleven_arm)")
    parser.add_argument("--envs", nargs="+", type=int, default=[1, 16, 64, 256], help="env copies per runner")
    parser.add_argument("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    parser.add_argument("--core", choices=CORES, default="lstm",
                        help="memory core of the sampling and iteration stages (default: lstm)")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=5.0, help="measuring time per stage and N")
    parser.add_argument("--torch-threads", type=int, default=1, help="as a 1-CPU Tune trial (default 1)")
    parser.add_argument("--smoke", action="store_true", help="N 1 and 16, 0.2 s per stage: seconds in all")
    parser.add_argument("--output", type=Path, default=RESULTS / "throughput.jsonl")
    args = parser.parse_args(argv)
    get_task(args.task)  # a clear error for an unknown name, before anything starts
    if any(n < 1 for n in args.envs):
        parser.error(f"--envs must be positive integers, got {args.envs}")
    if args.smoke:
        args.envs, args.seconds = [1, 16], 0.2
    torch.set_num_threads(args.torch_threads)
    if {"iteration", "iteration_rllib"} & set(args.stages):
        start_ray(None, num_cpus=1)
    records = [record for n in args.envs for record in measure(args.task, n, args.stages, args.seconds, args.core)]
    host = machine()
    for record in records:
        append_record({**record, "seconds": args.seconds, "machine": host}, args.output)
    threads = f"{host['cpus']} cores, {host['torch_threads']} torch thread(s)"
    print(f"\n{args.task}, {args.core} core, env steps/s ({threads}):\n")
    print(efficiency_table(records))
    print(f"\nAppended to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
