"""Env steps per second on this machine, from the bare env to a full training iteration, for 1 to 256 env copies.

    python benchmarks/throughput.py                       # eleven_arm preset, 1 16 64 256 copies
    python benchmarks/throughput.py --task dependent_uniform --envs 16 64
    python benchmarks/throughput.py --smoke               # a few seconds: what the test suite runs
    python benchmarks/throughput.py --split               # an iteration's time, trial batch path against RLlib's

With ``--split``, for each preset of ``SPLIT_CASES`` (eleven-arm; the RL^2 bandit n = 10, k = 5; tabular MDP), both
learner batch paths (``batch_path``: "trial", array operations over whole trials; "rllib", RLlib's default learner
connector pipeline) train side by side in one run, with the same gradient steps on the same amount of data, and an
iteration's time is split into: sampling, batch building (the learner connector), torch compute of the minibatch
steps (forward, loss, backward, optimizer step), the rest of the learner (minibatch slicing, metrics), weight sync
and everything else. For the LSTM presets, ``floor`` is the same minibatch steps of the preset's network in plain
torch (``plain_torch_update``): the torch compute no rewrite of the learner or the module gets under, and so the
largest speedup over RLlib's pipeline any such rewrite could give (``speedup_bound``). Printed with the ratio of
the paths' iteration times, and appended to ``benchmarks/results/throughput_split.jsonl``.

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
import math
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from common import RESULTS, append_record, machine, markdown_table
from torch import nn

from rllib_metarl.algorithms import BATCH_PATHS
from rllib_metarl.cli.main import exit_code
from rllib_metarl.models import CORES
from rllib_metarl.tasks.registry import get_task, make_agent_env, make_agent_vector_env, make_sync_vector_env
from rllib_metarl.training.config import algorithm_config
from rllib_metarl.training.presets import Preset, get_preset
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
    """The preset's network in plain torch: actor and critic towers (MLP, LSTM), policy logits and a value."""

    def __init__(self, observation_size: int, num_actions: int, hiddens: tuple[int, ...], cell_size: int):
        super().__init__()

        def tower() -> nn.ModuleDict:
            sizes = [observation_size, *hiddens]
            layers = [m for a, b in zip(sizes, sizes[1:], strict=False) for m in (nn.Linear(a, b), nn.Tanh())]
            mlp = nn.Sequential(*layers)
            return nn.ModuleDict({"mlp": mlp, "lstm": nn.LSTM(sizes[-1], cell_size, batch_first=True)})

        self.actor, self.critic = tower(), tower()
        self.logits = nn.Linear(cell_size, num_actions)
        self.value = nn.Linear(cell_size, 1)

    def towers(self, observations: torch.Tensor, state: list | None) -> tuple[list[torch.Tensor], list]:
        """Both towers over ``observations`` (B, T, obs) from ``state`` (None: zeros): outputs (B, T, cell), states."""
        pairs = [tower["lstm"](tower["mlp"](observations), None if state is None else s)
                 for tower, s in zip((self.actor, self.critic), state or (None, None), strict=True)]  # fmt: skip
        return [output for output, _ in pairs], [new_state for _, new_state in pairs]

    def forward(self, observations: torch.Tensor, state: list) -> tuple[torch.Tensor, list]:
        """One step per copy, as the env runner evaluates it: logits (B, actions) and the new state."""
        (actor, _), new_state = self.towers(observations[:, None], state)
        return self.logits(actor[:, 0]), new_state


def env_and_network(task: str, num_envs: int, preset) -> Callable[[], int]:
    env = make_agent_vector_env(task, num_envs)
    observations, _ = env.reset(seed=0)
    policy = PlainTorchPolicy(observations.shape[1], int(env.single_action_space.n), preset.tokenizer_hiddens,
                              preset.lstm_cell_size).eval()  # fmt: skip
    zeros = torch.zeros(1, num_envs, preset.lstm_cell_size)
    state = [[(zeros, zeros), (zeros, zeros)]]

    def step() -> int:
        nonlocal observations
        with torch.no_grad():
            logits, state[0] = policy(torch.from_numpy(observations), state[0])
            actions = torch.distributions.Categorical(logits=logits).sample().numpy()
        observations, *_ = env.step(actions)
        return num_envs

    return step


def plain_torch_update(task: str, env_config: dict, preset, shapes: list[tuple[int, int]]) -> Callable[[], None]:
    """One iteration's minibatch steps (PPO's clipped loss with value and entropy terms, backward, Adam) of the
    preset's LSTM network in plain torch, one per (sequences, steps) in ``shapes`` (random data): the torch compute
    that no rewrite of the learner or the module gets under with the same network, data and gradient steps."""
    env = make_agent_env(task, env_config)
    net = PlainTorchPolicy(env.observation_space.shape[0], int(env.action_space.n), preset.tokenizer_hiddens,
                           preset.lstm_cell_size)  # fmt: skip
    optimizer = torch.optim.Adam(net.parameters(), lr=preset.lr)
    generator = torch.Generator().manual_seed(0)

    def minibatch(sequences: int, length: int) -> dict[str, torch.Tensor]:
        mask = torch.ones(sequences, length, dtype=torch.bool)
        mask[:, -1] = False  # the padded step
        return {
            "observations": torch.randn(sequences, length, env.observation_space.shape[0], generator=generator),
            "actions": torch.randint(int(env.action_space.n), (sequences, length), generator=generator),
            "advantages": torch.randn(sequences, length, generator=generator),
            "targets": torch.randn(sequences, length, generator=generator),
            "old_logp": torch.full((sequences, length), -math.log(env.action_space.n)),
            "mask": mask,
        }

    batches = [minibatch(*shape) for shape in shapes]

    def minibatch_step(b: dict[str, torch.Tensor]) -> None:
        (actor, critic), _ = net.towers(b["observations"], None)
        logp_all = torch.log_softmax(net.logits(actor), dim=-1)
        ratio = torch.exp(logp_all.gather(-1, b["actions"][..., None])[..., 0] - b["old_logp"])
        advantages = b["advantages"]
        surrogate = torch.min(advantages * ratio, advantages * ratio.clamp(0.7, 1.3))  # RLlib's clip_param 0.3
        value_loss = (net.value(critic)[..., 0] - b["targets"]).square().clamp(max=preset.vf_clip_param)
        entropy = -(logp_all.exp() * logp_all).sum(-1)
        loss = (-surrogate + preset.vf_loss_coeff * value_loss - preset.entropy_coeff * entropy)[b["mask"]].mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def update() -> None:
        for b in batches:
            minibatch_step(b)

    return update


def minibatch_shapes(algo) -> list[tuple[int, int]]:
    """(sequences, steps) of each minibatch that one training iteration of ``algo`` feeds its module."""
    from ray.rllib.core import DEFAULT_MODULE_ID
    from ray.rllib.core.columns import Columns

    module, shapes = algo.learner_group._learner.module, []
    forward_train = module.forward_train

    def recording(batch, **kwargs):
        shapes.append(tuple(batch[DEFAULT_MODULE_ID][Columns.OBS].shape[:2]))
        return forward_train(batch, **kwargs)

    module.forward_train = recording
    algo.train()
    module.forward_train = forward_train
    return shapes


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


# Presets the split compares: (task, env parameters), the RL^2 bandit at its n = 10, k = 5 cell.
SPLIT_CASES = (("eleven_arm", {}), ("k_armed", {"trial_length": 10, "num_arms": 5}), ("tabular_mdp", {}))
SPLIT_PARTS = ("sampling", "batch_building", "torch_compute", "learner_other", "weight_sync", "other")


def timed(owner: object, method: str, totals: dict[str, float], part: str) -> None:
    """Replace ``owner.method`` by a wrapper that adds its wall time to ``totals[part]``."""
    original = getattr(owner, method)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[part] = totals.get(part, 0.0) + time.perf_counter() - start

    setattr(owner, method, wrapper)


def instrumented(task: str, env_config: dict, preset: Preset) -> tuple[Any, dict[str, float]]:
    """``preset`` built on the task, and the totals its timed parts add up into."""
    algo = algorithm_config(task, preset, env_config, seed=0).build_algo()
    learner = algo.learner_group._learner  # the trial's own learner (num_learners=0)
    totals: dict[str, float] = {}
    timed(algo.env_runner, "sample", totals, "sampling")
    timed(algo.env_runner_group, "sync_weights", totals, "weight_sync")
    timed(learner, "update", totals, "learner")
    timed(learner, "_make_batch_if_necessary", totals, "batch_building")
    timed(learner.module, "forward_train", totals, "torch_compute")
    for method in ("compute_losses", "compute_gradients", "postprocess_gradients", "apply_gradients"):
        timed(learner, method, totals, "torch_compute")
    return algo, totals


def iteration_split(task: str, env_config: dict, iterations: int) -> list[dict]:
    """Seconds per iteration of the task's preset with each batch path, whole and by part (SPLIT_PARTS). The paths'
    iterations alternate, so that the machine's load falls on both alike."""
    preset = get_preset(task, num_samples=1)
    built = {path: instrumented(task, env_config, replace(preset, batch_path=path)) for path in BATCH_PATHS}
    plain_update = None
    if preset.core == "lstm":
        shapes = minibatch_shapes(built["trial"][0])
        plain_update = plain_torch_update(task, env_config, preset, shapes)
    for algo, totals in built.values():
        for _ in range(2):  # warm-up
            algo.train()
        totals.clear()
    if plain_update is not None:
        plain_update()  # warm-up
    seconds, steps = dict.fromkeys(BATCH_PATHS, 0.0), dict.fromkeys(BATCH_PATHS, 0)
    floor_s = 0.0
    for _ in range(iterations):
        for path, (algo, _) in built.items():
            start = time.perf_counter()
            steps[path] += int(algo.train()["env_runners"]["num_env_steps_sampled"])
            seconds[path] += time.perf_counter() - start
        if plain_update is not None:  # between the paths' iterations, under the same load
            start = time.perf_counter()
            plain_update()
            floor_s += time.perf_counter() - start
    floor = floor_s / iterations if plain_update is not None else None
    records = []
    for path, (algo, totals) in built.items():
        algo.stop()
        iteration_s = seconds[path] / iterations
        part = {key: value / iterations for key, value in totals.items()}
        learner_s = part.pop("learner")
        part["learner_other"] = learner_s - part["batch_building"] - part["torch_compute"]
        part["other"] = iteration_s - learner_s - part["sampling"] - part["weight_sync"]
        records.append({
            "task": task, "env_config": env_config, "batch_path": path, "iteration_s": round(iteration_s, 4),
            "steps_per_s": round(steps[path] / seconds[path]), "learner_s": round(learner_s, 4),
            "learner_outside_torch": round(1 - part["torch_compute"] / learner_s, 3),
            **{key: round(part[key], 4) for key in SPLIT_PARTS},
            "torch_floor": None if floor is None else round(floor, 4),
        })  # fmt: skip
    return records


def split_table(records: list[dict]) -> str:
    header = ["task", "batch path", "iteration (s)", "env steps/s", *SPLIT_PARTS, "learner outside torch", "floor"]
    lines = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    for r in records:
        parts = " | ".join(f"{r[key]:.3f}" for key in SPLIT_PARTS)
        lines.append(f"| {r['task']} | {r['batch_path']} | {r['iteration_s']:.3f} | {r['steps_per_s']:,} | {parts} | "
                     f"{r['learner_outside_torch']:.0%} | {r['torch_floor'] or ''} |")  # fmt: skip
    return "\n".join(lines)


def run_split(iterations: int, output: Path) -> list[dict]:
    records = []
    for task, env_config in SPLIT_CASES:
        by_path = {record["batch_path"]: record for record in iteration_split(task, env_config, iterations)}
        trial, rllib = by_path["trial"], by_path["rllib"]
        speedup = rllib["iteration_s"] / trial["iteration_s"]
        # The most a module without overhead could give: the trial path's iteration with its torch compute replaced
        # by the plain-torch floor, against RLlib's pipeline.
        bound = None
        if trial["torch_floor"] is not None:
            bound = rllib["iteration_s"] / (trial["iteration_s"] - trial["torch_compute"] + trial["torch_floor"])
        for record in by_path.values():
            records.append({"benchmark": "throughput_split", **record, "speedup_trial_over_rllib": round(speedup, 2),
                            "speedup_bound": None if bound is None else round(bound, 2),
                            "iterations": iterations})  # fmt: skip
        print(f"{task}: an iteration {speedup:.2f}x faster with the trial batch path"
              + ("" if bound is None else f"; at most {bound:.2f}x with torch compute at its plain-torch floor"),
              flush=True)  # fmt: skip
    host = machine()
    for record in records:
        append_record({**record, "machine": host}, output)
    print(f"\nSeconds per iteration, by part ({host['cpus']} cores, {host['torch_threads']} torch thread(s)):\n")
    print(split_table(records))
    print(f"\nAppended to {output}")
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
    parser.add_argument("--split", action="store_true",
                        help="an iteration's time by part, both learner batch paths, SPLIT_CASES")  # fmt: skip
    parser.add_argument("--iterations", type=int, default=20, help="iterations measured per case and path (--split)")
    parser.add_argument("--output", type=Path, help="results file (default: benchmarks/results/throughput.jsonl, "
                        "or throughput_split.jsonl with --split)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.iterations < 1:
        parser.error(f"--iterations must be a positive integer, got {args.iterations}")
    torch.set_num_threads(args.torch_threads)
    if args.split:
        start_ray(None, num_cpus=1)
        run_split(2 if args.smoke else args.iterations, args.output or RESULTS / "throughput_split.jsonl")
        return 0
    args.output = args.output or RESULTS / "throughput.jsonl"
    get_task(args.task)  # a clear error for an unknown name, before anything starts
    if any(n < 1 for n in args.envs):
        parser.error(f"--envs must be positive integers, got {args.envs}")
    if args.smoke:
        args.envs, args.seconds = [1, 16], 0.2
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
    sys.exit(exit_code(main))
