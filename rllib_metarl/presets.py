"""Training presets, one per task, and the algorithm config they build (PPO + LSTM unless --algo/--core differ).

The numbers come from runs on the project's 2-core machine (see README, "Presets"): for eleven-arm, a separate
value network (``vf_share_layers=False``) and ``lr=3e-3`` took PPO from the "search the ten arms" plateau (~11) to the
informative-arm strategy (~20) in about 100 s on one core; with the shared trunk it stayed near 11.

Sampling goes through :class:`rllib_metarl.sampling.TrialEnvRunner` and the task's native vector env. Measured with
``python benchmarks/throughput.py`` (eleven-arm preset, one torch thread, as in a 1-CPU Tune trial), sampling runs
at 1,300 / 13,900 / 28,000 / 39,300 env steps/s for 1 / 16 / 64 / 256 env copies, and a whole PPO iteration at
200 / 1,700 / 4,100 / 6,000: the learner's update, not sampling, sets the pace from 64 copies on. 64 copies is the
smallest number above the 25,000 steps/s target, and it keeps 5 x 6 = 30 gradient steps per 1,280 sampled steps,
which took eleven-arm to the optimum in 16 to 33 s of training (``python benchmarks/time_to_optimal.py``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from rllib_metarl.registry import get_task, make_agent_env, register_rllib_envs

if TYPE_CHECKING:
    from pathlib import Path

    from ray.rllib.algorithms.algorithm import Algorithm
    from ray.rllib.algorithms.algorithm_config import AlgorithmConfig

RETURN_METRIC = "env_runners/episode_return_mean"
# The same figure at the top level of every result (rllib_metarl.callbacks), for Tune to rank checkpoints by.
CHECKPOINT_SCORE = "training_return"
# ppo: RLlib's PPO. a2c: synchronous advantage actor-critic (rllib_metarl.a2c). impala, appo: RLlib's asynchronous
# actor-critic family that replaced A3C, learner in the trial's own process (a remote learner hangs on 2 cores).
ALGORITHMS = ("ppo", "appo", "impala", "a2c")
CORES = ("lstm", "gru", "attention")  # rllib_metarl.models
USES_OF_THE_REWARD_HEAD = ("reward_logits_weight", "pretrain_memory_s")  # need reward_prediction_coeff > 0
ATTENTION_WINDOWS = (1, 2)  # steps per attention token: the step alone, or with the one before (rllib_metarl.models)


@dataclass(frozen=True)
class Preset:
    """Hyperparameters and budget of one task's default experiment."""

    lr: float = 1e-3
    # With both set, the learning rate falls linearly from ``lr`` to ``lr_final`` over the first ``lr_decay_steps``
    # sampled env steps, then stays there (RLlib's piecewise schedule over the run's sampled steps).
    lr_final: float | None = None
    lr_decay_steps: int | None = None
    gamma: float = 0.9
    lambda_: float = 0.95
    entropy_coeff: float = 0.01
    vf_loss_coeff: float = 0.5
    # PPO only: weight of the reward-prediction auxiliary loss on the memory core (rllib_metarl.auxiliary); 0: none.
    reward_prediction_coeff: float = 0.0
    # With reward prediction: the policy's logits add the predicted rewards times a learned weight starting here.
    reward_logits_weight: float = 0.0
    # With reward prediction: seconds of supervised training of the memory and reward head on random play before the
    # RL run (rllib_metarl.pretraining); 0: none. Part of the training budget, like stop_time_s.
    pretrain_memory_s: float = 0.0
    # RLlib clips each squared value error at 10, which stops the value net learning returns far from 0 (a 100-step
    # trial's discounted return at gamma 0.99 is ~60): such tasks lift the clip.
    vf_clip_param: float = 10.0
    num_epochs: int = 6
    algo: str = "ppo"
    core: str = "lstm"  # memory core; its width is lstm_cell_size whatever the core
    attention_layers: int = 2
    attention_heads: int = 2
    attention_window: int = 1  # steps per attention token (2: each step with the one before; models.py)
    lstm_cell_size: int = 48
    # MLP before the core (RLlib's default is [256, 256]); the attention core may have none: ().
    tokenizer_hiddens: tuple[int, ...] = (64,)
    vf_share_layers: bool = False
    envs_per_worker: int = 64
    trials_per_rollout: int = 4  # trials each env copy plays per iteration
    minibatches: int = 5
    num_workers: int = 0  # remote env runners per Tune trial; 0 samples in the trial's own process
    num_samples: int = 2  # Tune trials (seeds seed, seed+1, ...)
    stop_time_s: float = 240.0
    stop_return: float | None = None
    stop_iters: int | None = None
    grace_period_s: float = 60.0  # ASHA: meta-RL returns stay flat for a while first
    checkpoint_every: int = 20  # iterations
    # Tasks with held-out overrides (Harlow's test objects) are also evaluated during training, greedily, every
    # ``evaluation_every`` iterations on ``evaluation_trials`` trials: the "over training" curves of the analyses.
    evaluation_every: int = 10
    evaluation_trials: int = 200
    env_config: dict[str, Any] = field(default_factory=dict)
    # Settings that hold for one algorithm or one memory core only, e.g. ``{"impala": {"entropy_coeff": 0.15}}``:
    # they apply when that algorithm or core is chosen, and an explicit override (a flag) wins over them.
    by_algo: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_core: dict[str, dict[str, Any]] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    # Entropy 0.05, not 0.01: a race decides eleven-arm. Arm 11 pays less at once than searching the ten arms, so a
    # policy soon stops pulling it, and it can learn to read arm 11 only from trials that pull it. At 0.01 only PPO
    # with the LSTM or GRU learned to read it in time; 0.05 keeps arm 11 in play long enough for A2C and for PPO with
    # the attention core too. IMPALA, whose V-trace advantages are not standardized, needs 0.15 (README, "Algorithms
    # and memory cores"). 60 s: over twice PPO's median time to the optimum (27.1 s, benchmarks/time_to_optimal.py).
    "eleven_arm": Preset(
        lr=3e-3,
        gamma=0.9,
        entropy_coeff=0.05,
        by_algo={"impala": {"entropy_coeff": 0.15}},
        trials_per_rollout=4,
        stop_time_s=60.0,
        stop_return=20.45,
    ),
    "two_armed_independent": Preset(
        lr=1e-3, envs_per_worker=16, trials_per_rollout=1, minibatches=4, stop_time_s=360.0
    ),
    "dependent_uniform": Preset(lr=1e-3, envs_per_worker=16, trials_per_rollout=1, minibatches=4, stop_time_s=360.0),
    "dependent_easy": Preset(lr=1e-3, envs_per_worker=16, trials_per_rollout=1, minibatches=4, stop_time_s=240.0),
    "dependent_medium": Preset(lr=1e-3, envs_per_worker=16, trials_per_rollout=1, minibatches=4, stop_time_s=300.0),
    "dependent_hard": Preset(lr=1e-3, envs_per_worker=16, trials_per_rollout=1, minibatches=4, stop_time_s=360.0),
    # The table's figure is the undiscounted trial return and exploring pays off late in a trial: gamma near 1.
    "k_armed": Preset(
        lr=1e-3,
        gamma=0.99,
        vf_clip_param=1e4,
        envs_per_worker=32,
        trials_per_rollout=2,
        minibatches=4,
        stop_time_s=300.0,
    ),
    # RL^2 used a 256-unit GRU here: a trial's model of the MDP (50 state-action pairs) needs more memory than a bandit.
    # The LSTM and GRU stayed at the random level (~100) in 25 minutes; the attention core reading each step with the
    # one before, with no tokenizer in front, and PPO with reward prediction left it (README, "RL^2's tables").
    # With PPO: 300 s of pretraining that memory on random play, then 1200 s of PPO with a policy that reads the
    # reward head (weight 10) at a small learning rate, which keeps what the pretraining gave: 1500 s in all.
    "tabular_mdp": Preset(
        lr=1e-3,
        gamma=0.9,
        vf_clip_param=1e4,
        core="attention",
        lstm_cell_size=128,
        tokenizer_hiddens=(128,),
        by_core={"attention": {"attention_window": 2, "tokenizer_hiddens": ()}},
        by_algo={
            "ppo": {
                "reward_prediction_coeff": 1.0,
                "pretrain_memory_s": 300.0,
                "reward_logits_weight": 10.0,
                "lr": 3e-5,
            }
        },
        envs_per_worker=32,
        trials_per_rollout=1,
        minibatches=4,
        stop_time_s=1200.0,
        grace_period_s=180.0,
    ),
    "restless": Preset(lr=1e-3, envs_per_worker=16, trials_per_rollout=1, minibatches=4, stop_time_s=360.0),
    # One env step per trial ("two steps in one"); 100 trials per episode, as in Wang et al. 2018. The reward rate
    # levelled off near 0.70 (of 0.74 for an agent told the good state) after ~150 s in a 240 s run.
    "two_step": Preset(lr=1e-3, envs_per_worker=16, trials_per_rollout=1, minibatches=4, stop_time_s=300.0),
    # Held-out accuracy on trials 2-6 passed 95% after ~60 s of a 150 s run.
    "harlow": Preset(
        lr=1e-3,
        envs_per_worker=64,
        trials_per_rollout=8,
        lstm_cell_size=64,
        stop_time_s=300.0,
        grace_period_s=120.0,
        evaluation_every=5,
    ),
}


def get_preset(task_name: str, **overrides: Any) -> Preset:
    """The task's preset with ``overrides`` (None values ignored) applied, then the settings of the chosen algorithm
    and core (``by_algo``, ``by_core``) that ``overrides`` does not set."""
    get_task(task_name)  # a clear error for an unknown name
    overrides = {k: v for k, v in overrides.items() if v is not None}
    preset = replace(PRESETS[task_name], **overrides)
    if preset.algo not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {preset.algo!r}; allowed: {', '.join(ALGORITHMS)}")
    if preset.core not in CORES:
        raise ValueError(f"unknown core {preset.core!r}; allowed: {', '.join(CORES)}")
    own_settings = {**preset.by_algo.get(preset.algo, {}), **preset.by_core.get(preset.core, {})}
    if overrides.get("reward_prediction_coeff") == 0:  # switched off: so are the preset's uses of the reward head
        own_settings = {k: v for k, v in own_settings.items() if k not in USES_OF_THE_REWARD_HEAD}
    preset = replace(preset, **{k: v for k, v in own_settings.items() if k not in overrides})
    if preset.core != "attention" and (not preset.tokenizer_hiddens or preset.attention_window != 1):
        raise ValueError(
            f"only the attention core reads several steps per token or has no tokenizer, got core={preset.core!r} "
            f"with attention_window={preset.attention_window!r} and tokenizer_hiddens={preset.tokenizer_hiddens!r}"
        )
    if preset.reward_prediction_coeff < 0:
        raise ValueError(f"reward_prediction_coeff must be >= 0, got {preset.reward_prediction_coeff!r}")
    if preset.reward_prediction_coeff and preset.algo != "ppo":
        raise ValueError(
            f"reward_prediction_coeff {preset.reward_prediction_coeff!r} needs algo='ppo', got algo={preset.algo!r}"
        )
    if preset.pretrain_memory_s < 0:
        raise ValueError(f"pretrain_memory_s must be >= 0, got {preset.pretrain_memory_s!r}")
    if preset.pretrain_memory_s and not preset.reward_prediction_coeff:
        raise ValueError(
            f"pretrain_memory_s {preset.pretrain_memory_s!r} trains the reward-prediction head: it needs "
            "reward_prediction_coeff > 0"
        )
    if preset.reward_logits_weight < 0:
        raise ValueError(f"reward_logits_weight must be >= 0, got {preset.reward_logits_weight!r}")
    if preset.reward_logits_weight and not preset.reward_prediction_coeff:
        raise ValueError(
            f"reward_logits_weight {preset.reward_logits_weight!r} reads the reward-prediction head: it needs "
            "reward_prediction_coeff > 0"
        )
    if preset.attention_window not in ATTENTION_WINDOWS:
        raise ValueError(f"attention_window must be one of {ATTENTION_WINDOWS}, got {preset.attention_window!r}")
    if (preset.lr_final is None) != (preset.lr_decay_steps is None):
        raise ValueError(
            f"a learning-rate decay needs both lr_final and lr_decay_steps, got lr_final={preset.lr_final!r} "
            f"and lr_decay_steps={preset.lr_decay_steps!r}"
        )
    return preset


def learning_rate(preset: Preset) -> float | list[list[float]]:
    """The preset's learning rate: a constant, or RLlib's ``[[step, value], ...]`` schedule for a linear decay."""
    if preset.lr_decay_steps is None:
        return preset.lr
    return [[0, preset.lr], [preset.lr_decay_steps, preset.lr_final]]


def algorithm_class(algo: str) -> type[Algorithm]:
    """The RLlib Algorithm class behind ``--algo`` (imported here: Ray is heavy and the auth mode comes first)."""
    if algo == "ppo":
        from ray.rllib.algorithms.ppo import PPO

        return PPO
    if algo == "a2c":
        from rllib_metarl.a2c import A2C

        return A2C
    if algo == "impala":
        from ray.rllib.algorithms.impala import IMPALA

        return IMPALA
    if algo == "appo":
        from ray.rllib.algorithms.appo import APPO

        return APPO
    raise ValueError(f"unknown algorithm {algo!r}; allowed: {', '.join(ALGORITHMS)}")


def build_rl_module(task_name: str, preset: Preset, env_config: dict[str, Any], seed: int = 0) -> Any:
    """The RLModule that ``algorithm_config`` trains, built alone on the task's agent env (initial weights)."""
    config = algorithm_config(task_name, preset, env_config, seed)
    return config.get_rl_module_spec(env=make_agent_env(task_name, env_config)).build()


def algorithm_config(
    task_name: str, preset: Preset, env_config: dict[str, Any], seed: int = 0, init_from: Path | None = None
) -> AlgorithmConfig:
    """The preset's algorithm with its memory-core RLModule on the task's agent env (action-reward-timestep input),
    its weights loaded from ``init_from`` (an RLModule folder of a checkpoint) when given.

    The batch holds whole trials: every env copy plays ``trials_per_rollout`` complete trials per iteration, so
    each iteration reports a return, and ``max_seq_len = trial_length + 1`` keeps a trial in one sequence
    (PPO appends one masked step per episode; the attention core's memory spans the same steps).
    """
    # Ray is imported here, not at the top: the runner settles Ray's auth mode before Ray's first import.
    from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    from rllib_metarl.auxiliary import (
        COEFF_KEY,
        LOGITS_WEIGHT_KEY,
        RewardPredictionPPOLearner,
        RewardPredictionPPOModule,
    )
    from rllib_metarl.callbacks import MetaRLMetrics
    from rllib_metarl.models import MetaRLCatalog
    from rllib_metarl.sampling import TrialEnvRunner

    register_rllib_envs()
    task = get_task(task_name)
    trial_length = task.make(**env_config).trial_length  # env steps per trial
    fragment = trial_length * preset.trials_per_rollout
    batch = max(preset.num_workers, 1) * preset.envs_per_worker * fragment
    # A minibatch shorter than one sequence reaches the learner without its recurrent states.
    minibatch = max(batch // preset.minibatches, trial_length + 1)
    model_config = dataclasses.asdict(
        DefaultModelConfig(
            fcnet_hiddens=list(preset.tokenizer_hiddens),
            use_lstm=True,  # "recurrent": the core below decides which
            lstm_cell_size=preset.lstm_cell_size,
            max_seq_len=trial_length + 1,
            vf_share_layers=preset.vf_share_layers,
        )
    )
    # The algorithm's default module with our cores (or PPO's plus the reward head).
    module_class = RewardPredictionPPOModule if preset.reward_prediction_coeff else None
    load_state_path = str(init_from) if init_from is not None else None
    module_spec = RLModuleSpec(module_class=module_class, catalog_class=MetaRLCatalog, load_state_path=load_state_path)
    model_config.update(core=preset.core, attention_layers=preset.attention_layers,
                        attention_heads=preset.attention_heads, attention_window=preset.attention_window)  # fmt: skip
    if preset.reward_logits_weight:
        model_config[LOGITS_WEIGHT_KEY] = preset.reward_logits_weight
    config = (
        algorithm_class(preset.algo)
        .get_default_config()
        .environment(task.rllib_env, env_config=dict(env_config))
        .env_runners(
            env_runner_cls=TrialEnvRunner,
            num_env_runners=preset.num_workers,
            num_envs_per_env_runner=preset.envs_per_worker,
            rollout_fragment_length=fragment,
        )
        .learners(num_learners=0)  # in the trial's process: a remote learner hangs IMPALA/APPO on 2 cores
        .training(
            lr=learning_rate(preset),
            gamma=preset.gamma,
            entropy_coeff=preset.entropy_coeff,
            vf_loss_coeff=preset.vf_loss_coeff,
            train_batch_size_per_learner=batch,
        )
        .rl_module(rl_module_spec=module_spec, model_config=model_config)
        .callbacks(MetaRLMetrics)
        .debugging(seed=seed)
    )
    # RLlib's IMPALA and APPO hand their learner whole env-runner samples (a package is complete once one sample()
    # reaches train_batch_size_per_learner), so each V-trace update here uses the whole rollout: IMPALA makes one
    # gradient step per rollout, APPO num_epochs (its circular buffer replays each batch), PPO 6 x 5 minibatches.
    # The smaller train_batch_size_per_learner sets only APPO's target-network period (target_network_update_freq x
    # circular_buffer_num_batches x num_epochs x it trained steps: 2 x 8 x 6 x 256 on eleven-arm, ~3 rollouts).
    if preset.algo in ("appo", "impala"):
        config.training(train_batch_size_per_learner=minibatch)
    if preset.algo == "appo":
        config.training(circular_buffer_iterations_per_batch=preset.num_epochs)
    if preset.algo in ("ppo", "a2c"):
        config.training(lambda_=preset.lambda_)
    if preset.reward_prediction_coeff:
        config.learners(learner_class=RewardPredictionPPOLearner,
                        learner_config_dict={COEFF_KEY: preset.reward_prediction_coeff})  # fmt: skip
    if preset.algo == "ppo":
        config.training(
            vf_clip_param=preset.vf_clip_param,
            num_epochs=preset.num_epochs,
            minibatch_size=minibatch,
        )
    if task.held_out_overrides:
        config.evaluation(
            evaluation_interval=preset.evaluation_every,
            evaluation_duration=preset.evaluation_trials,
            evaluation_duration_unit="episodes",
            evaluation_num_env_runners=0,  # the trial's own process: no extra CPU for Tune to reserve
            evaluation_config=config.overrides(env_config=task.held_out_config(env_config), explore=False),
        )
    return config
