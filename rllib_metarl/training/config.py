"""The RLlib AlgorithmConfig of a task and a preset, with the plugin's env runner, catalog, callbacks and wrapper."""

from __future__ import annotations

import dataclasses
import functools
from typing import TYPE_CHECKING, Any

from rllib_metarl.algorithms import algorithm_class
from rllib_metarl.tasks import Task, get_task, make_agent_env, register_rllib_envs
from rllib_metarl.training.presets import Preset, get_preset
from rllib_metarl.wrappers import action_layout, statistics_layout

if TYPE_CHECKING:
    from pathlib import Path

    from ray.rllib.algorithms.algorithm_config import AlgorithmConfig


def linear_decay(start: float, final: float | None, steps: int | None) -> float | list[list[float]]:
    """A constant ``start``, or RLlib's ``[[step, value], ...]`` schedule falling linearly to ``final`` over ``steps``
    sampled env steps: the form RLlib takes for the learning rate and the entropy coefficient."""
    if steps is None:
        return start
    return [[0, start], [steps, final]]


def build_rl_module(task_name: str | Task, preset: Preset, env_config: dict[str, Any], seed: int = 0) -> Any:
    """The RLModule that ``algorithm_config`` trains, built alone on the task's agent env (initial weights)."""
    config = algorithm_config(task_name, preset, env_config, seed)
    return config.get_rl_module_spec(env=make_agent_env(task_name, env_config)).build()


def algorithm_config(
    task_name: str | Task,
    preset: Preset | None = None,
    env_config: dict[str, Any] | None = None,
    seed: int = 0,
    init_from: Path | None = None,
) -> AlgorithmConfig:
    """The preset's algorithm (default: the task's preset) with its memory-core RLModule on the task's agent env
    (action-reward-timestep input), its weights loaded from ``init_from`` (an RLModule folder of a checkpoint) when
    given. A plain RLlib ``AlgorithmConfig``: change it with RLlib's builder methods, then ``config.build_algo()`` or
    ``tune.Tuner(config.algo_class, param_space=config)``.

    The batch holds whole trials: every env copy plays ``trials_per_rollout`` complete trials per iteration, so
    each iteration reports a return, and ``max_seq_len = trial_length + 1`` keeps a trial in one sequence
    (PPO appends one masked step per episode; the attention core's memory spans the same steps).
    """
    # Ray and the modules built on it are imported here, not at the top: Ray reads its settings when first imported,
    # and the runner makes them before that (rllib_metarl.training.ray_session).
    from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig
    from ray.rllib.core.rl_module.rl_module import RLModuleSpec

    from rllib_metarl.algorithms.trial_batch import TrialBatch
    from rllib_metarl.models.cores import MetaRLCatalog
    from rllib_metarl.models.per_action import LAYOUT_KEY as ACTION_LAYOUT_KEY
    from rllib_metarl.models.per_action import PerActionPPOModule
    from rllib_metarl.models.reward_prediction import (
        COEFF_KEY,
        LOGITS_WEIGHT_KEY,
        RewardPredictionPPOLearner,
        RewardPredictionPPOModule,
    )
    from rllib_metarl.models.statistics_head import LAYOUT_KEY, StatisticsHeadPPOModule
    from rllib_metarl.training.callbacks import MetaRLMetrics
    from rllib_metarl.training.env_runner import TrialEnvRunner

    register_rllib_envs()
    task = get_task(task_name)
    preset = preset or get_preset(task.name)
    env_config = dict(env_config or {})
    trial_length = task.trial_length_of(env_config)  # env steps per trial
    fragment = trial_length * preset.trials_per_rollout
    batch = max(preset.num_workers, 1) * preset.envs_per_worker * fragment
    # A minibatch shorter than one sequence reaches the learner without its recurrent states.
    minibatch = max(batch // preset.minibatches, trial_length + 1)
    model_config = dataclasses.asdict(
        DefaultModelConfig(
            fcnet_hiddens=list(preset.tokenizer_hiddens),
            head_fcnet_hiddens=list(preset.head_hiddens),
            use_lstm=True,  # "recurrent": the core below decides which
            lstm_cell_size=preset.lstm_cell_size,
            max_seq_len=trial_length + 1,
            vf_share_layers=preset.vf_share_layers,
        )
    )
    # The algorithm's default module with our cores (or PPO's plus the reward head).
    module_class = RewardPredictionPPOModule if preset.reward_prediction_coeff else None
    if preset.statistics_head:
        layout = statistics_layout(make_agent_env(task, env_config))
        if layout is None:
            raise ValueError("statistics_head reads the trial statistics: give the env config trial_statistics=True")
        module_class = StatisticsHeadPPOModule
    if preset.core == "per_action":
        model_config[ACTION_LAYOUT_KEY] = action_layout(make_agent_env(task, env_config))
        module_class = PerActionPPOModule
    load_state_path = str(init_from) if init_from is not None else None
    module_spec = RLModuleSpec(module_class=module_class, catalog_class=MetaRLCatalog, load_state_path=load_state_path)
    model_config.update(core=preset.core, attention_layers=preset.attention_layers,
                        attention_heads=preset.attention_heads, attention_window=preset.attention_window,
                        snail_filters=preset.snail_filters, snail_key_size=preset.snail_key_size,
                        heads_read_input=preset.heads_read_input)  # fmt: skip
    if preset.reward_logits_weight:
        model_config[LOGITS_WEIGHT_KEY] = preset.reward_logits_weight
    if preset.statistics_head:
        model_config[LAYOUT_KEY] = layout
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
            lr=linear_decay(preset.lr, preset.lr_final, preset.lr_decay_steps),
            gamma=preset.gamma,
            entropy_coeff=linear_decay(preset.entropy_coeff, preset.entropy_final, preset.entropy_decay_steps),
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
    if preset.batch_path == "trial":  # the learner's batch from whole trials (PPO and A2C: with GAE)
        gae = {"gamma": preset.gamma, "lambda_": preset.lambda_} if preset.algo in ("ppo", "a2c") else {}
        config.learners(add_default_connectors_to_learner_pipeline=False,
                        learner_connector=functools.partial(TrialBatch, **gae))  # fmt: skip
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
