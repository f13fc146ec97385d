"""Tune wiring of an experiment: the scheduler, stop criteria, checkpoints kept, progress table and the best result."""

from __future__ import annotations

import random
from typing import Any

from rllib_metarl.algorithms import algorithm_class
from rllib_metarl.tasks import register_rllib_envs
from rllib_metarl.training.command_line import Experiment
from rllib_metarl.training.config import algorithm_config
from rllib_metarl.training.metrics import CHECKPOINT_SCORE, RETURN_METRIC
from rllib_metarl.training.presets import Preset


def scheduler(experiment: Experiment) -> Any:
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, PopulationBasedTraining

    preset = experiment.preset
    max_t = preset.stop_time_s or 24 * 3600.0
    if experiment.scheduler == "asha":
        return ASHAScheduler(
            time_attr="time_total_s", max_t=max_t, grace_period=min(preset.grace_period_s, max_t), reduction_factor=2
        )
    if experiment.scheduler == "pbt":
        random.seed(experiment.seed)  # PBT draws its perturbations from Python's global generator
        return PopulationBasedTraining(
            time_attr="time_total_s",
            perturbation_interval=max(preset.grace_period_s / 2, 10.0),
            # With the 2 to 4 trials that fit on a small machine, the default 0.25 leaves no bottom quantile to replace.
            quantile_fraction=0.5,
            hyperparam_mutations={
                "lr": tune.loguniform(preset.lr / 4, preset.lr * 4),
                "entropy_coeff": [preset.entropy_coeff * factor for factor in (0.0, 0.3, 1.0, 3.0)],
            },
        )
    return FIFOScheduler()


def stop_criteria(preset: Preset) -> dict[str, float]:
    stop = {
        "training_iteration": preset.stop_iters,
        "time_total_s": preset.stop_time_s,
        RETURN_METRIC: preset.stop_return,
    }
    return {key: value for key, value in stop.items() if value is not None}


def make_tuner(experiment: Experiment) -> Any:
    """A Tuner for the experiment, restored from its folder when an earlier run of it was interrupted."""
    from ray import tune

    register_rllib_envs()  # a restored trial rebuilds its env by name: this Ray session must know the names too
    # The class, not a name such as "PPO": RLlib's string import of "PPO" pulls in DreamerV3 and its extra needs.
    trainable = algorithm_class(experiment.preset.algo)
    if tune.Tuner.can_restore(experiment.path):
        print(f"Resuming experiment {experiment.path}")
        return tune.Tuner.restore(str(experiment.path), trainable=trainable, resume_errored=True)
    preset = experiment.preset
    config = algorithm_config(experiment.task, preset, experiment.env_config, experiment.seed, experiment.init_from)
    param_space = config.to_dict()
    param_space["seed"] = tune.grid_search([experiment.seed + i for i in range(preset.num_samples)])
    return tune.Tuner(
        trainable,
        param_space=param_space,
        tune_config=tune.TuneConfig(metric=RETURN_METRIC, mode="max", scheduler=scheduler(experiment)),
        run_config=tune.RunConfig(
            name=experiment.name,
            storage_path=str(experiment.storage_path),
            stop=stop_criteria(preset),
            checkpoint_config=checkpoint_config(preset),
            failure_config=tune.FailureConfig(max_failures=2),
            progress_reporter=progress_reporter(),
            verbose=1,  # the status table only; every result is in the results folder and TensorBoard
        ),
    )


# Columns of the progress table: the return and the meta-RL metrics the envs report (absent ones are left out).
PROGRESS_METRICS = {
    "training_iteration": "iter",
    "time_total_s": "time (s)",
    "num_env_steps_sampled_lifetime": "env steps",
    # The learner's current rate, not the config's: PBT mutates it, --lr-final decays it.
    "learners/default_policy/default_optimizer_learning_rate": "lr",
    RETURN_METRIC: "return",
    "env_runners/meta/optimal_action_rate": "optimal arm",
    "env_runners/meta/regret": "regret",
    "env_runners/meta/informative_first": "informative first",
    "env_runners/meta/normalized_return": "return / oracle",
    "env_runners/meta/reward_rate": "reward rate",
    "env_runners/meta/accuracy_after_first": "correct, trials 2+",
    "evaluation/env_runners/meta/accuracy_after_first": "held-out correct, trials 2+",
}


def checkpoint_config(preset: Preset) -> Any:
    """A checkpoint every ``checkpoint_every`` iterations and at the end; Tune keeps the 3 with the highest training
    return, and the latest.

    Scored by the top-level ``CHECKPOINT_SCORE``, not by the nested RETURN_METRIC: Tune 2.60 looks a score's name
    up in the unflattened result, so a nested one is never found there, and it then keeps the 3 latest checkpoints
    instead (ray-project/ray#59130).
    """
    from ray import tune

    return tune.CheckpointConfig(
        checkpoint_frequency=preset.checkpoint_every,
        checkpoint_at_end=True,
        num_to_keep=3,
        checkpoint_score_attribute=CHECKPOINT_SCORE,
        checkpoint_score_order="max",
    )


def progress_reporter() -> Any:
    from ray.tune import CLIReporter

    # print_intermediate_tables: else Tune decides from its global verbosity when the reporter is built, which the
    # run before leaves at this run's verbose=1, and a curriculum's later stages would print no trial table.
    return CLIReporter(metric_columns=PROGRESS_METRICS, parameter_columns={"seed": "seed"}, max_report_frequency=30,
                       print_intermediate_tables=True)  # fmt: skip


def checkpoint_metrics(result: Any, checkpoint: Any) -> dict[str, Any]:
    """The training iteration and training return at which ``checkpoint`` was saved."""
    from ray.tune.utils import flatten_dict

    for saved, metrics in result.best_checkpoints:
        if saved.path == checkpoint.path:
            flat = flatten_dict(metrics, delimiter="/")
            return {
                "checkpoint_iteration": flat.get("training_iteration"),
                "checkpoint_training_return": flat.get(RETURN_METRIC),
            }
    return {"checkpoint_iteration": None, "checkpoint_training_return": None}


def best_checkpoint(results: Any) -> tuple[Any, Any]:
    """(result, checkpoint) of the trial and checkpoint with the highest training return."""
    best = results.get_best_result(metric=RETURN_METRIC, mode="max", scope="all")
    if best is None:
        raise RuntimeError("no trial reported a return: nothing to evaluate")
    checkpoint = best.get_best_checkpoint(RETURN_METRIC, "max") or best.checkpoint
    if checkpoint is None:
        raise RuntimeError(f"trial {best.path} saved no checkpoint")
    return best, checkpoint
