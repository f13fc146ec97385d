"""TrialEnvRunner: whole trials of every copy, episodes as RLlib's own runner stores them, replayable in the env."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from ray.rllib.core.columns import Columns

from rllib_metarl.tasks.registry import make_agent_env
from rllib_metarl.training.config import algorithm_config
from rllib_metarl.training.env_runner import TrialEnvRunner
from rllib_metarl.training.presets import get_preset


@pytest.fixture(scope="module")
def eleven_arm_config():
    preset = get_preset("eleven_arm", envs_per_worker=4, trials_per_rollout=2)
    return algorithm_config("eleven_arm", preset, {}, seed=7)


def test_runner_returns_whole_trials_with_rllibs_episode_contents(eleven_arm_config):
    from ray.rllib.env.single_agent_env_runner import SingleAgentEnvRunner

    assert eleven_arm_config.env_runner_cls is TrialEnvRunner
    runner = TrialEnvRunner(config=eleven_arm_config)
    episodes = runner.sample()  # the config's rollout: 2 trials of 5 pulls in each of 4 copies
    assert len(episodes) == 8
    assert all(e.is_done and len(e) == 5 and e.t_started == 0 for e in episodes)
    reference = SingleAgentEnvRunner(config=eleven_arm_config).sample(num_timesteps=20)
    # RLlib's runner also keeps every step's recurrent state; ours does not (a trial starts from the initial state).
    expected_keys = set(reference[0].extra_model_outputs) - {Columns.STATE_OUT}
    for episode in episodes:
        assert set(episode.extra_model_outputs) == expected_keys
        assert episode.get_observations().shape == reference[0].get_observations().shape
        assert set(episode.get_infos(-1)["episode_metrics"]) >= {"informative_first", "regret"}
    metrics = runner.get_metrics()
    assert metrics["num_episodes"] == 8
    assert 0 <= metrics["meta"]["informative_first"] <= 1


def test_episodes_replay_exactly_in_the_single_env_and_logp_matches(eleven_arm_config):
    runner = TrialEnvRunner(config=eleven_arm_config)
    episodes = runner.sample(num_episodes=4)
    assert len(episodes) == 4
    for copy, episode in enumerate(episodes):
        env = make_agent_env("eleven_arm")
        observation, _ = env.reset(seed=runner._seed + copy)  # copy i is seeded with seed + i, as RLlib does
        assert np.array_equal(observation, episode.get_observations(0))
        for t, action in enumerate(episode.get_actions()):
            observation, reward, *_ = env.step(action)
            assert np.array_equal(observation, episode.get_observations(t + 1))
            assert reward == episode.get_rewards(t)
        logits = torch.as_tensor(episode.get_extra_model_outputs("action_dist_inputs"))
        logp = torch.log_softmax(logits, dim=-1)[torch.arange(5), torch.as_tensor(episode.get_actions())]
        assert np.allclose(logp.numpy(), episode.get_extra_model_outputs("action_logp"), atol=1e-5)


def test_greedy_sampling_takes_the_most_likely_action(eleven_arm_config):
    runner = TrialEnvRunner(config=eleven_arm_config)
    for episode in runner.sample(num_episodes=4, explore=False):
        logits = episode.get_extra_model_outputs("action_dist_inputs")
        assert np.array_equal(episode.get_actions(), logits.argmax(axis=-1))


def test_two_runners_with_one_seed_sample_the_same_trials(eleven_arm_config):
    torch.manual_seed(0)
    first = TrialEnvRunner(config=eleven_arm_config).sample(num_episodes=4)
    torch.manual_seed(0)
    second = TrialEnvRunner(config=eleven_arm_config).sample(num_episodes=4)
    for a, b in zip(first, second, strict=True):
        assert np.array_equal(a.get_actions(), b.get_actions())
        assert np.array_equal(a.get_rewards(), b.get_rewards())


def test_copies_out_of_lock_step_are_an_error_not_silent_garbage(eleven_arm_config):
    runner = TrialEnvRunner(config=eleven_arm_config)
    runner.trial_length = 3  # the env's trials last 5 pulls
    with pytest.raises(RuntimeError, match="0 of 4 env copies ended their trial at step 3, of 3"):
        runner.sample(num_episodes=4)
