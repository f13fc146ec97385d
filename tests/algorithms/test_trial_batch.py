"""The learner's batch built from whole trials equals the one RLlib's default learner pipeline builds from the same
episodes, column by column, for every algorithm and for a task of several episodes per trial (tabular MDP)."""

import copy

import numpy as np
import pytest
import torch
import tree  # dm-tree, an RLlib dependency

from rllib_metarl.algorithms.trial_batch import (
    EXPLAINED_VARIANCE_KEY,
    TrialBatch,
    check_whole_trials,
    explained_variance,
    generalized_advantages,
)
from rllib_metarl.training.config import algorithm_config
from rllib_metarl.training.presets import get_preset

TOLERANCE = 1e-6


def rllib_flat_gae(values, rewards, terminateds, truncateds, gamma, lambda_):
    """RLlib's GeneralAdvantageEstimation on trials each extended by one step, written out: the value targets of the
    flat recursion over the concatenated trials (ray.rllib.utils.postprocessing.value_predictions), then the
    advantages standardised over every step."""
    from ray.rllib.utils.postprocessing.value_predictions import compute_value_targets

    flat = [np.asarray(a).reshape(-1) for a in (values, rewards, terminateds, truncateds)]
    targets = compute_value_targets(*flat, gamma=gamma, lambda_=lambda_)
    advantages = targets - flat[0]
    advantages = (advantages - advantages.mean()) / max(1e-4, advantages.std())
    return advantages.reshape(np.shape(values)), targets.reshape(np.shape(values))


def test_advantages_over_the_trial_axis_equal_rllibs_flat_recursion_bootstrap_steps_included():
    rng = np.random.default_rng(0)
    trials, steps = 7, 6  # 5 real steps and the bootstrap step
    values = rng.normal(size=(trials, steps)).astype(np.float32)
    rewards = rng.normal(size=(trials, steps)).astype(np.float32)
    rewards[:, -1] = 0.0
    terminateds = np.zeros((trials, steps), dtype=bool)
    truncateds = np.zeros((trials, steps), dtype=bool)
    terminateds[:4, -2] = True  # trials that ended ...
    truncateds[4:, -2] = True  # ... and trials cut at the batch's end, whose last value bootstraps them
    ours = generalized_advantages(values, rewards, terminateds, gamma=0.9, lambda_=0.8)
    theirs = rllib_flat_gae(values, rewards, terminateds, truncateds, gamma=0.9, lambda_=0.8)
    for mine, rllib in zip(ours, theirs, strict=True):
        assert mine.dtype == np.float32
        np.testing.assert_allclose(mine, rllib, atol=TOLERANCE, rtol=0)


def sampled_batches(algo_name: str, task: str) -> tuple[dict, dict, dict, dict]:
    """RLlib's default learner batch and ours from the same episodes of a briefly trained agent, with the shared data
    each leaves for the learner."""
    preset = get_preset(task, algo=algo_name, batch_path="rllib", envs_per_worker=8, trials_per_rollout=2)
    algorithm = algorithm_config(task, preset, {}, seed=0).build_algo()
    try:
        algorithm.train()  # values and policy away from their initial ones
        episodes = algorithm.env_runner.sample(explore=True)
        learner = algorithm.learner_group._learner
        rllib_shared, trial_shared = {}, {}
        rllib = learner._learner_connector(rl_module=learner.module, batch={}, episodes=copy.deepcopy(episodes),
                                           shared_data=rllib_shared, metrics=learner.metrics)  # fmt: skip
        gae = {"gamma": preset.gamma, "lambda_": preset.lambda_} if algo_name in ("ppo", "a2c") else {}
        trial = TrialBatch(**gae)(rl_module=learner.module, batch={}, episodes=episodes, shared_data=trial_shared)
    finally:
        algorithm.stop()
    return rllib, trial, rllib_shared, trial_shared


@pytest.mark.slow
@pytest.mark.parametrize(
    ("algo_name", "task"),
    [("ppo", "eleven_arm"), ("a2c", "eleven_arm"), ("appo", "eleven_arm"), ("impala", "eleven_arm"),
     ("ppo", "tabular_mdp")],
)  # fmt: skip
def test_the_trial_batch_equals_rllibs_column_by_column(local_ray, algo_name, task):
    rllib, trial, rllib_shared, trial_shared = sampled_batches(algo_name, task)
    rllib_columns, trial_columns = dict(tree.flatten_with_path(rllib)), dict(tree.flatten_with_path(trial))
    assert set(trial_columns) == set(rllib_columns)
    assert ("default_policy", "obs") in trial_columns and ("default_policy", "loss_mask") in trial_columns
    if algo_name in ("ppo", "a2c"):
        assert ("default_policy", "advantages") in trial_columns and (
            "default_policy",
            "value_targets",
        ) in trial_columns
    for column, expected in rllib_columns.items():
        got = trial_columns[column]
        assert got.dtype == expected.dtype and got.shape == expected.shape, column
        torch.testing.assert_close(got.double(), expected.double(), atol=TOLERANCE, rtol=0, msg=str(column))
    for flag in ("_zero_padded_for_mid=default_policy", "_added_loss_mask_for_valid_episode_ts"):
        assert trial_shared[flag] == rllib_shared[flag]


def test_the_presets_learner_builds_its_batch_from_trials_and_rllibs_pipeline_stays_one_setting_away():
    trial = algorithm_config("eleven_arm", get_preset("eleven_arm"), {}, seed=0)
    assert not trial.add_default_connectors_to_learner_pipeline
    pipeline = trial.build_learner_connector(None, None)
    assert [type(piece).__name__ for piece in pipeline.connectors] == ["TrialBatch"]
    rllib = algorithm_config("eleven_arm", get_preset("eleven_arm", batch_path="rllib"), {}, seed=0)
    assert rllib.add_default_connectors_to_learner_pipeline and rllib._learner_connector is None
    with pytest.raises(ValueError, match="unknown batch_path 'fast'; allowed: trial, rllib"):
        get_preset("eleven_arm", batch_path="fast")


class Episode:
    def __init__(self, length: int, t_started: int = 0):
        self.length, self.t_started = length, t_started

    def __len__(self) -> int:
        return self.length


def test_episodes_that_are_not_whole_trials_of_one_length_are_named():
    assert check_whole_trials([Episode(5), Episode(5)], max_seq_len=6) == 5
    with pytest.raises(ValueError, match=r"whole trials of one length, got episode lengths \[4, 5\]"):
        check_whole_trials([Episode(5), Episode(4)], max_seq_len=6)
    with pytest.raises(ValueError, match="whole trials"):
        check_whole_trials([Episode(5, t_started=3)], max_seq_len=6)
    with pytest.raises(ValueError, match=r"max_seq_len = trial length \+ 1 = 6, got 20"):
        check_whole_trials([Episode(5)], max_seq_len=20)


def test_explained_variance_is_one_for_exact_values_and_zero_for_the_mean():
    targets = np.array([1.0, 3.0, 2.0, 6.0])
    assert explained_variance(targets, targets) == 1.0
    assert explained_variance(targets, np.full(4, targets.mean())) == pytest.approx(0.0)
    assert explained_variance(targets, targets + np.array([1.0, -1.0, 1.0, -1.0])) == pytest.approx(1 - 1 / 3.5)
    assert np.isnan(explained_variance(np.ones(3), np.zeros(3)))


@pytest.mark.slow
def test_training_with_either_batch_path_gives_the_same_weights(local_ray):
    weights, initial = {}, {}
    for batch_path in ("trial", "rllib"):
        preset = get_preset("eleven_arm", batch_path=batch_path, envs_per_worker=8)
        algorithm = algorithm_config("eleven_arm", preset, {}, seed=3).build_algo()
        try:
            module = algorithm.learner_group._learner.module["default_policy"]
            initial = {name: value.clone() for name, value in module.state_dict().items()}
            for _ in range(3):
                result = algorithm.train()["learners"]["default_policy"]
            if batch_path == "trial":  # the batch's own explained variance; RLlib's reads a step where all agree
                assert abs(result["vf_explained_var"]) < 1e-5 and -1.0 < result[EXPLAINED_VARIANCE_KEY] < 1.0
            weights[batch_path] = algorithm.learner_group._learner.module["default_policy"].state_dict()
        finally:
            algorithm.stop()
    for name, value in weights["trial"].items():
        torch.testing.assert_close(value, weights["rllib"][name], atol=TOLERANCE, rtol=0, msg=name)
    assert any(not torch.equal(value, initial[name]) for name, value in weights["trial"].items())  # it learned
