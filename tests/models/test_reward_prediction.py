"""The reward-prediction auxiliary loss: its formula, that it trains the core, and that its agents save and act; and
the policy that reads the predicted rewards (``reward_logits_weight``)."""

import numpy as np
import pytest
import torch
from ray.rllib.algorithms.ppo.torch.ppo_torch_learner import PPOTorchLearner
from ray.rllib.core.columns import Columns

from rllib_metarl.evaluation import evaluate_module, load_module
from rllib_metarl.models.reward_prediction import (
    COEFF_KEY,
    REWARD_PREDICTIONS,
    RewardPredictionPPOLearner,
    RewardPredictionPPOModule,
)
from rllib_metarl.training.command_line import parse_experiment
from rllib_metarl.training.config import algorithm_config, build_rl_module
from rllib_metarl.training.presets import get_preset


def test_the_loss_adds_the_masked_squared_error_of_the_taken_actions_prediction(monkeypatch):
    monkeypatch.setattr(PPOTorchLearner, "compute_loss_for_module", lambda self, **kwargs: torch.tensor(0.5))
    learner = object.__new__(RewardPredictionPPOLearner)  # the loss alone: no module or optimizer needed
    logged = {}
    learner.metrics = type("Metrics", (), {"log_value": lambda self, key, value, **kw: logged.update({key: value})})()
    predictions = torch.tensor([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])  # (B=1, T=3, actions=2)
    batch = {
        Columns.ACTIONS: torch.tensor([[1, 0, 1]]),
        Columns.REWARDS: torch.tensor([[0.0, 1.0, 100.0]]),
        Columns.LOSS_MASK: torch.tensor([[True, True, False]]),  # the last step is padding
    }
    config = type("Config", (), {"learner_config_dict": {COEFF_KEY: 0.1}})()
    loss = learner.compute_loss_for_module(module_id="p", config=config, batch=batch,
                                           fwd_out={REWARD_PREDICTIONS: predictions})  # fmt: skip
    error = ((2.0 - 0.0) ** 2 + (3.0 - 1.0) ** 2) / 2  # actions 1 and 0 at the two valid steps
    assert loss.item() == pytest.approx(0.5 + 0.1 * error)
    assert logged[("p", "reward_prediction_loss")].item() == pytest.approx(error)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"reward_prediction_coeff": -1.0}, r"reward_prediction_coeff must be a finite number in \[0, inf\), got -1.0"),
     ({"reward_prediction_coeff": 1.0, "algo": "a2c"}, "reward_prediction_coeff 1.0 needs algo='ppo', got algo='a2c'"),
     ({"reward_logits_weight": -2.0}, r"reward_logits_weight must be a finite number in \[0, inf\), got -2.0"),
     ({"reward_logits_weight": 3.0, "reward_prediction_coeff": 0.0},
      "reward_logits_weight 3.0 reads the reward-prediction head: it needs reward_prediction_coeff > 0")],
)  # fmt: skip
def test_bad_reward_prediction_settings_are_named(overrides, message):
    with pytest.raises(ValueError, match=message):
        get_preset("tabular_mdp", **overrides)


@pytest.mark.parametrize(
    ("good", "field", "value", "bad", "message"),
    [(["--reward-prediction", "0.5"], "reward_prediction_coeff", 0.5, ["--reward-prediction", "1", "--algo", "impala"],
      "needs algo='ppo'"),
     (["--reward-logits", "5"], "reward_logits_weight", 5.0, ["--reward-logits", "5", "--reward-prediction", "0"],
      "needs reward_prediction_coeff > 0")],
)  # fmt: skip
def test_the_flag_reaches_the_preset_and_a_bad_one_exits_before_ray(good, field, value, bad, message, capsys):
    experiment = parse_experiment("tabular_mdp", [*good, "--storage-path", "/tmp"])
    assert getattr(experiment.preset, field) == value
    with pytest.raises(SystemExit) as stop:
        parse_experiment("tabular_mdp", bad)
    assert stop.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_the_auxiliary_loss_trains_the_core_and_the_agent_saves_and_acts(local_ray, tmp_path):
    preset = get_preset("tabular_mdp", core="attention", attention_window=2, tokenizer_hiddens=(), lstm_cell_size=16,
                        reward_prediction_coeff=1.0, envs_per_worker=8)  # fmt: skip
    algorithm = algorithm_config("tabular_mdp", preset, {"num_episodes": 2}, seed=0).build_algo()
    try:
        learner_module = algorithm.learner_group._learner.module["default_policy"]
        head_before = learner_module.reward_head.weight.detach().clone()
        losses = [algorithm.train()["learners"]["default_policy"]["reward_prediction_loss"] for _ in range(3)]
        assert isinstance(learner_module, RewardPredictionPPOModule)
        assert all(np.isfinite(losses)) and not torch.equal(head_before, learner_module.reward_head.weight)
        checkpoint = algorithm.save_to_path(str(tmp_path / "checkpoint"))
    finally:
        algorithm.stop()
    module = load_module(checkpoint)
    assert isinstance(module, RewardPredictionPPOModule)
    trials = evaluate_module(module, "tabular_mdp", {"num_episodes": 2}, num_trials=10, seed=1)
    assert len(trials) == 10 and np.isfinite(trials["return"]).all()


def test_the_policy_reads_the_detached_reward_predictions_times_a_learned_weight():
    preset = get_preset("tabular_mdp", lstm_cell_size=16, reward_logits_weight=3.0)
    module = build_rl_module("tabular_mdp", preset, {"num_episodes": 2})
    assert module.reward_logits_beta.item() == 3.0
    features = torch.randn(4, 7, 16)
    logits = module._logits(features)
    torch.testing.assert_close(logits, module.pi(features) + 3.0 * module.reward_head(features))
    logits.sum().backward()  # the policy's gradient reaches beta and the policy's layer, not the reward head
    assert module.reward_logits_beta.grad is not None and module.reward_logits_beta.grad.abs() > 0
    assert module.reward_head.weight.grad is None
    plain_preset = get_preset("tabular_mdp", lstm_cell_size=16, reward_logits_weight=0.0)
    module = build_rl_module("tabular_mdp", plain_preset, {"num_episodes": 2})
    assert module.reward_logits_beta is None
    torch.testing.assert_close(module._logits(features), module.pi(features))
