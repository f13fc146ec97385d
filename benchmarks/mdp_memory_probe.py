"""Can a memory core learn what the tabular-MDP agent must remember? A supervised probe of the cores, no RL.

To beat random play on ``tabular_mdp`` the agent must remember what each of the 50 state-action pairs paid earlier
in the trial and recall the current state's five when it acts (docs/notes: the experiment record). This asks exactly
that of a core, with direct supervision: on trials played by a uniformly random policy, the core reads the agent's
own input (the action-reward-timestep observations of ``make_agent_vector_env``) and a linear head on it predicts
the reward of the action then taken. Every step is a labelled example, a far stronger signal than a policy gradient:
a core that needs more trials than an RL budget holds to learn it here will not learn the RL task in that budget.

    python benchmarks/mdp_memory_probe.py --cores lstm gru attention --seconds 300
    python benchmarks/mdp_memory_probe.py --cores attention --seconds 300 --previous-step
    python benchmarks/mdp_memory_probe.py --cores attention --seconds 300 --attention-window 2 --no-tokenizer
    python benchmarks/mdp_memory_probe.py --smoke        # a few seconds: what the test suite runs

The cores are the agent's own, built by the ``tabular_mdp`` preset's RLModule (the policy side's encoder: tokenizer
and core, ``--width`` wide; the attention core reads one step per token after the preset's 128-unit tokenizer unless
``--attention-window 2 --no-tokenizer``, the preset's own attention settings, are given). Every ``--eval-every``
updates the probe scores 512 held-out trials. Its squared error is set between two references on the same steps: the
best memoryless guess (the prior mean 1; expected error 2 = var(mu) + noise) and the Bayes posterior mean of the
pair's reward given the trial so far ((1 + sum of its rewards) / (1 + its visits), prior N(1, 1), noise N(0, 1)).
``learned`` is the fraction of the gap between them the core has closed. ``--previous-step`` feeds each step's
observation together with the one before, so that one input holds a reward together with the state it was paid in
(what SNAIL's width-2 temporal convolutions give an attention core). Prints a line per evaluation and appends one
record per core to ``benchmarks/results/mdp_memory_probe.jsonl``: trials seen (and env steps) when ``learned`` first
reached 0.5 and 0.9, and its last value.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from common import RESULTS, append_record, machine

from rllib_metarl.baselines.mdps import MDPPolicy
from rllib_metarl.cli.main import exit_code
from rllib_metarl.models import ATTENTION_WINDOWS, CORES
from rllib_metarl.models.state import batched_initial_state
from rllib_metarl.tasks.registry import get_task, make_agent_vector_env
from rllib_metarl.training.config import algorithm_config
from rllib_metarl.training.presets import get_preset
from rllib_metarl.training.pretraining import random_play

TASK = "tabular_mdp"
EVAL_TRIALS = 512
PRIOR_MEAN = 1.0  # mu(s, a) ~ N(1, 1): the best guess of a reward without memory


def random_play_with_posterior(envs: gym.vector.VectorEnv, rng: np.random.Generator) -> dict[str, torch.Tensor]:
    """:func:`rllib_metarl.training.pretraining.random_play` (a trial of uniformly random actions per copy of ``envs``),
    plus each step's Bayes posterior mean of the reward of the pair then played (B, T), read from the MDP baselines'
    own posterior statistics."""
    trials = random_play(envs, rng)
    task = envs.unwrapped.single_env  # the native vector env's single env: the task's sizes
    posterior = MDPPolicy()
    posterior.reset(envs.num_envs, task.num_states, task.num_actions, task.episode_length, rng)
    copies = np.arange(envs.num_envs)
    states = trials["obs"][:, :, : task.num_states].argmax(-1).numpy()  # the inner observation comes first
    actions, rewards = trials["actions"].numpy(), trials["rewards"].numpy()
    means = np.zeros(actions.shape)
    for t in range(task.trial_length):
        means[:, t] = posterior.mean_rewards[copies, states[:, t], actions[:, t]]
        episode_done = (t + 1) % task.episode_length == 0  # then the next state is 0 again, no transition
        next_states = states[:, t + 1] if t + 1 < task.trial_length else states[:, t]  # unused after the last step
        posterior.update(states[:, t], actions[:, t], rewards[:, t], next_states, episode_done)
    trials["posterior"] = torch.as_tensor(means, dtype=torch.float32)
    return trials


def build_core(core: str, width: int, input_size: int, **preset_overrides: Any) -> Any:
    """The policy-side encoder (tokenizer + core) of the ``tabular_mdp`` preset's RLModule with this core and width,
    for inputs of ``input_size`` (the agent's observation, or two of them with ``--previous-step``)."""
    from ray.rllib.core import DEFAULT_MODULE_ID

    overrides = {field: value for field, value in preset_overrides.items() if value is not None}  # None: the preset's
    # No reward prediction: the probe keeps the encoder alone (and the per-action core's own head refuses it).
    preset = get_preset(TASK, core=core, lstm_cell_size=width, reward_prediction_coeff=0.0, **overrides)
    config = algorithm_config(TASK, preset, env_config={})
    inputs = gym.spaces.Box(-np.inf, np.inf, shape=(input_size,), dtype=np.float32)
    unused_actions = gym.spaces.Discrete(2)  # only the encoder is kept, not the module's policy and value heads
    spec = config.get_rl_module_spec(spaces={DEFAULT_MODULE_ID: (inputs, unused_actions)})
    return spec.build().encoder.actor_encoder


class RewardProbe(torch.nn.Module):
    """A core and a linear head: the predicted reward of each action, given the trial so far."""

    def __init__(
        self, core: str, width: int, observation_size: int, num_actions: int, previous_step: bool, **preset_overrides
    ):
        super().__init__()
        self.previous_step = previous_step
        self.core = build_core(core, width, observation_size * (2 if previous_step else 1), **preset_overrides)
        self.head = torch.nn.Linear(self.core.config.output_dims[0], num_actions)  # the core's output, any core

    def forward(self, observations: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
        if self.previous_step:  # each input also holds the step before: the state that the last reward was paid in
            previous = torch.nn.functional.pad(observations, (0, 0, 1, 0))[:, :-1]
            observations = torch.cat([observations, previous], dim=-1)
        state = batched_initial_state(self.core, observations.shape[0])
        features = self.core({"obs": observations, "state_in": state})["encoder_out"]
        return self.head(features).gather(-1, actions.unsqueeze(-1)).squeeze(-1)


def learned_fraction(errors: torch.Tensor, trials: dict[str, torch.Tensor]) -> float:
    """How much of the gap between the memoryless guess and the Bayes posterior mean the probe has closed."""
    memoryless = ((trials["rewards"] - PRIOR_MEAN) ** 2).mean()
    bayes = ((trials["rewards"] - trials["posterior"]) ** 2).mean()
    return float((memoryless - errors.mean()) / (memoryless - bayes))


def probe(core: str, args: argparse.Namespace, held_out: dict[str, torch.Tensor]) -> dict[str, Any]:
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed + 1)
    envs = make_agent_vector_env(TASK, args.batch_trials)
    num_actions = int(envs.single_action_space.n)
    attention = core == "attention"  # its options are for it alone (the preset refuses them for the LSTM and GRU)
    # Explicit, so that the flags and not the preset's attention settings (window 2, no tokenizer) decide them.
    tokenizer = () if attention and args.no_tokenizer else get_task(TASK).preset["tokenizer_hiddens"]
    model = RewardProbe(core, args.width, held_out["obs"].shape[-1], num_actions, args.previous_step,
                        attention_window=args.attention_window if attention else None,
                        tokenizer_hiddens=tokenizer)  # fmt: skip
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    trial_length = held_out["obs"].shape[1]
    options = {"attention_window": args.attention_window, "tokenizer": not args.no_tokenizer} if attention else {}
    record: dict[str, Any] = {"core": core, "previous_step": args.previous_step, **options, "width": args.width,
                              "lr": args.lr, "batch_trials": args.batch_trials, "trials_to_half": None,
                              "trials_to_90pct": None}  # fmt: skip
    start, trials_seen, updates, learned = time.perf_counter(), 0, 0, float("nan")
    while time.perf_counter() - start < args.seconds:
        batch = random_play_with_posterior(envs, rng)
        loss = ((model(batch["obs"], batch["actions"]) - batch["rewards"]) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        trials_seen, updates = trials_seen + args.batch_trials, updates + 1
        if updates % args.eval_every:
            continue
        with torch.no_grad():
            errors = (model(held_out["obs"], held_out["actions"]) - held_out["rewards"]) ** 2
        learned = learned_fraction(errors, held_out)
        for key, level in (("trials_to_half", 0.5), ("trials_to_90pct", 0.9)):
            if record[key] is None and learned >= level:
                record[key] = trials_seen
        print(f"{core:9s} {time.perf_counter() - start:6.0f} s  trials {trials_seen:7d}  "
              f"error {errors.mean():.3f}  learned {learned:5.2f}", flush=True)  # fmt: skip
    envs.close()
    return {**record, "trials": trials_seen, "env_steps": trials_seen * trial_length, "updates": updates,
            "seconds": round(time.perf_counter() - start, 1), "learned": round(learned, 3)}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cores", nargs="+", choices=CORES, default=list(CORES))
    parser.add_argument("--seconds", type=float, default=300.0, help="training time per core")
    parser.add_argument("--width", type=int, default=get_preset(TASK).lstm_cell_size)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--batch-trials", type=int, default=32)
    parser.add_argument("--eval-every", type=int, default=25, help="updates between held-out evaluations")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--previous-step", action="store_true",
                        help="feed each step's observation together with the one before it")  # fmt: skip
    parser.add_argument(
        "--attention-window",
        type=int,
        choices=ATTENTION_WINDOWS,
        default=1,
        help="attention core: steps per token (2: each step with the one before, inside the core)",
    )
    parser.add_argument("--no-tokenizer", action="store_true", help="attention core: no MLP before it")
    parser.add_argument("--smoke", action="store_true", help="3 s per core, width 16: checks the script runs")
    parser.add_argument("--output", type=Path, default=RESULTS / "mdp_memory_probe.jsonl")
    args = parser.parse_args(argv)
    if args.smoke:
        args.seconds, args.width, args.eval_every = 3.0, 16, 2
    for name in ("seconds", "width", "lr", "batch_trials", "eval_every"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive, got {getattr(args, name)}")
    torch.set_num_threads(1)
    held_out_envs = make_agent_vector_env(TASK, EVAL_TRIALS)
    held_out = random_play_with_posterior(held_out_envs, np.random.default_rng(10**6 + args.seed))
    held_out_envs.close()
    for core in args.cores:
        record = probe(core, args, held_out)
        print(f"{core}: learned {record['learned']:.2f} after {record['trials']} trials ({record['env_steps']} env "
              f"steps); half after {record['trials_to_half']}, 90% after {record['trials_to_90pct']}")  # fmt: skip
        append_record({**record, "smoke": args.smoke, "machine": machine()}, args.output)


if __name__ == "__main__":
    sys.exit(exit_code(main))
