"""Algorithms and memory cores: every core steps exactly as it runs batched, every algorithm trains, bad names fail."""

import numpy as np
import pytest
import torch
from ray.rllib.core.columns import Columns

from rllib_metarl.algorithms import ALGORITHMS
from rllib_metarl.evaluation import evaluate_module
from rllib_metarl.models import CORES
from rllib_metarl.models.additive import AdditiveEncoderConfig
from rllib_metarl.models.cores import AttentionEncoderConfig
from rllib_metarl.models.snail import SnailEncoderConfig
from rllib_metarl.models.state import batched_initial_state
from rllib_metarl.training.config import algorithm_config, build_rl_module
from rllib_metarl.training.presets import get_preset

# The attention core reading two steps per token, with no tokenizer MLP (the tabular-MDP preset's), and reading one
# step per token after a tokenizer (every other preset's).
WINDOWED = {"attention_window": 2, "tokenizer_hiddens": ()}
ONE_STEP = {"attention_window": 1, "tokenizer_hiddens": (32,)}


def build_module(core: str, task: str = "eleven_arm", preset_overrides: dict | None = None, **env_config):
    preset = get_preset(task, core=core, envs_per_worker=4, **(preset_overrides or {}))
    module = build_rl_module(task, preset, env_config)
    module.eval()
    return module


def logits(module, observations, state):
    out = module.forward_inference({Columns.OBS: observations, Columns.STATE_IN: state})
    return out[Columns.ACTION_DIST_INPUTS], out[Columns.STATE_OUT]


# Heads with a hidden layer that read the step's input beside the core's output (models.input_skip).
SKIP = {"heads_read_input": True, "head_hiddens": (16,)}


@pytest.mark.parametrize(
    ("core", "overrides"),
    [(core, None) for core in CORES] + [("attention", WINDOWED), ("lstm", SKIP), ("snail", SKIP), ("additive", SKIP)],
)
def test_core_steps_exactly_as_the_whole_sequence(core, overrides):
    torch.manual_seed(0)
    module = build_module(core, preset_overrides=overrides)
    observations = torch.randn(3, 6, module.observation_space.shape[0])
    with torch.no_grad():
        whole, _ = logits(module, observations, batched_initial_state(module, 3))
        state, steps = batched_initial_state(module, 3), []
        for t in range(6):
            out, state = logits(module, observations[:, t : t + 1], state)
            steps.append(out)
        # Two chunks, the state carried between them: what training does with a long episode.
        first, carried = logits(module, observations[:, :4], batched_initial_state(module, 3))
        second, _ = logits(module, observations[:, 4:], carried)
    assert torch.allclose(whole, torch.cat(steps, dim=1), atol=1e-5)
    assert torch.allclose(whole, torch.cat([first, second], dim=1), atol=1e-5)
    assert not torch.allclose(whole[:, 0], whole[:, 5])  # the memory does change the output


def test_heads_that_read_the_input_get_it_beside_the_cores_output():
    module = build_module("lstm", preset_overrides=SKIP)
    inputs, cells = module.observation_space.shape[0], module.model_config["lstm_cell_size"]
    assert module.pi.net.mlp[0].in_features == module.vf.net.mlp[0].in_features == cells + inputs
    observations = torch.randn(2, 3, inputs)
    with torch.no_grad():
        joined = module.encoder({Columns.OBS: observations, Columns.STATE_IN: batched_initial_state(module, 2)})
    assert torch.equal(joined["encoder_out"]["actor"][..., cells:], observations)
    plain = build_module("lstm")
    assert plain.pi.net.mlp[0].in_features == cells and len(plain.pi.net.mlp) == 1  # RLlib's linear head


def test_attention_state_keeps_the_latest_observations_in_order():
    module = build_module("attention")
    encoder = module.encoder.actor_encoder
    memory_length = encoder.config.memory_length
    assert memory_length == 6  # eleven-arm: 5 pulls + 1
    observations = torch.arange(8.0)[None, :, None].repeat(1, 1, encoder.input_size)
    state = batched_initial_state(module, 1)["actor"]
    with torch.no_grad():
        for t in range(8):  # two steps past the memory's length: the oldest drop out
            state = encoder({Columns.OBS: observations[:, t : t + 1], Columns.STATE_IN: state})[Columns.STATE_OUT]
    assert state["length"].item() == memory_length
    assert state["memory"][0, :, 0].tolist() == [2.0, 3.0, 4.0, 5.0, 6.0, 7.0]


@pytest.mark.parametrize(
    ("core", "overrides"),
    [("attention", ONE_STEP), ("attention", WINDOWED), ("snail", {"tokenizer_hiddens": (32,)}),
     ("snail", {"tokenizer_hiddens": ()})],
)  # fmt: skip
def test_sampling_cache_is_used_and_never_stale(monkeypatch, core, overrides):
    torch.manual_seed(0)
    module = build_module(core, "tabular_mdp", overrides, num_episodes=2)  # 20-step trials
    encoder_class = type(module.encoder.actor_encoder)
    cached_steps = []
    step_from_cache = encoder_class._step_from_cache
    monkeypatch.setattr(encoder_class, "_step_from_cache",
                        lambda self, *a: cached_steps.append(1) or step_from_cache(self, *a))  # fmt: skip
    observations = torch.randn(4, 20, module.observation_space.shape[0])
    with torch.no_grad():
        state, steps, states = batched_initial_state(module, 4), [], []
        for t in range(20):
            out, state = logits(module, observations[:, t : t + 1], state)
            steps.append(out)
            states.append(state)
        assert len(cached_steps) == 2 * 19  # actor and critic encoders: every step after the first
        whole, _ = logits(module, observations, batched_initial_state(module, 4))
        assert torch.allclose(whole, torch.cat(steps, dim=1), atol=1e-5)

        # After step 10 the cache holds states[9]. A state from earlier in the trial, or new weights with the very
        # state the cache holds: each must re-encode, not reuse the cache.
        for change in ("earlier state", "new weights"):
            logits(module, observations[:, 9:10], states[8])  # the cache now holds states[9] (same values)
            if change == "new weights":
                module.load_state_dict({k: v + 0.1 for k, v in module.state_dict().items()})  # a weight sync
            past = states[8] if change == "earlier state" else states[9]
            cached_steps.clear()
            out, _ = logits(module, observations[:, 10:11], past)
            assert len(cached_steps) == 0, change
            seen = observations[:, [*range(9 if change == "earlier state" else 10), 10]]
            whole, _ = logits(module, seen, batched_initial_state(module, 4))
            assert torch.allclose(whole[:, -1:], out, rtol=1e-4, atol=1e-5), change


def test_snail_has_the_papers_blocks():
    """Two TC blocks of ceil(log2 T) dense blocks with dilations 1, 2, 4, ... (a receptive field of T steps), then
    single-head attention; each block's output joins its input."""
    module = build_module("snail", "tabular_mdp", {"tokenizer_hiddens": (), "snail_filters": 8, "snail_key_size": 4},
                          num_episodes=2)  # fmt: skip
    encoder = module.encoder.actor_encoder
    assert encoder.config.memory_length == 21  # 20 steps + 1: 5 dilations reach 32 steps back
    assert [block.dilation for block in encoder.dense_blocks] == [1, 2, 4, 8, 16] * 2
    inputs = encoder.input_size
    assert [block.conv.in_channels for block in encoder.dense_blocks] == [inputs + 8 * i for i in range(10)]
    assert encoder.attention.key.out_features == 4 and encoder.project.in_features == inputs + 8 * 10 + 4
    with pytest.raises(ValueError, match="filters must be a positive integer, got 0"):
        SnailEncoderConfig(input_dims=(3,), hidden_dim=8, filters=0).build()


def test_snail_sees_a_step_only_through_its_receptive_field_and_attention():
    """A change at step 3 changes no output before step 3 (causal) and changes the outputs after it."""
    torch.manual_seed(0)
    module = build_module("snail", "tabular_mdp", {"tokenizer_hiddens": ()}, num_episodes=2)
    observations = torch.randn(1, 12, module.observation_space.shape[0])
    changed = observations.clone()
    changed[0, 3] += 1.0
    with torch.no_grad():
        before, _ = logits(module, observations, batched_initial_state(module, 1))
        after, _ = logits(module, changed, batched_initial_state(module, 1))
    assert torch.equal(before[:, :3], after[:, :3])
    assert not torch.allclose(before[:, 3:], after[:, 3:])


def test_the_additive_core_sums_its_step_codes_and_reads_out_their_logarithm_and_mean():
    """With the identity as its code, the memory is each input's count so far: outputs log(1 + count), count / t."""
    encoder = AdditiveEncoderConfig(input_dims=(3,), hidden_dim=3).build()
    with torch.no_grad():
        encoder.code.weight.copy_(torch.eye(3))
        encoder.code.bias.zero_()
    observations = torch.eye(3)[[0, 2, 0, 0]][None]  # inputs 0, 2, 0, 0
    counts = torch.tensor([[1.0, 0, 0], [1, 0, 1], [2, 0, 1], [3, 0, 1]])
    state = {key: value[None] for key, value in encoder.get_initial_state().items()}
    with torch.no_grad():
        out = encoder({Columns.OBS: observations, Columns.STATE_IN: state})
    steps = torch.arange(1.0, 5.0)[:, None]
    assert torch.allclose(out["encoder_out"][0], torch.cat([torch.log1p(counts), counts / steps], dim=-1))
    assert out[Columns.STATE_OUT]["memory"][0].tolist() == [3.0, 0.0, 1.0]
    assert out[Columns.STATE_OUT]["steps"][0].tolist() == [4.0]
    with pytest.raises(ValueError, match="the additive core needs a positive width and a flat input, got hidden_dim=0"):
        AdditiveEncoderConfig(input_dims=(3,), hidden_dim=0).build()


def test_attention_config_rejects_bad_shapes():
    with pytest.raises(ValueError, match="hidden_dim \\(10\\) must be a multiple of num_heads \\(4\\)"):
        AttentionEncoderConfig(input_dims=(3,), hidden_dim=10, num_layers=1, num_heads=4).build()
    with pytest.raises(ValueError, match=r"input_window must be one of \(1, 2\), got 3"):
        AttentionEncoderConfig(input_dims=(3,), hidden_dim=8, num_layers=1, input_window=3).build()


def test_a_windowed_token_holds_the_step_before():
    """With two steps per token, a token's input is its step and the step before (zeros before the first), also
    when the state carries the trial over from an earlier call."""
    module = build_module("attention", preset_overrides=WINDOWED)
    encoder = module.encoder.actor_encoder
    assert encoder.tokenizer is None and encoder.embed.in_features == 2 * encoder.input_size
    seen = []
    encoder.embed.register_forward_hook(lambda _module, inputs, _out: seen.append(inputs[0]))
    observations = torch.arange(1.0, 5.0)[None, :, None].repeat(1, 1, encoder.input_size)
    with torch.no_grad():
        out = encoder({Columns.OBS: observations[:, :2], Columns.STATE_IN: batched_initial_state(encoder, 1)})
        encoder({Columns.OBS: observations[:, 2:], Columns.STATE_IN: out[Columns.STATE_OUT]})
    whole = torch.cat([seen[0][0], seen[1][0][-2:]])  # the second pass re-encodes the memory, then the new steps
    assert whole[:, 0].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert whole[:, encoder.input_size].tolist() == [0.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [({"core": "lstm", "attention_window": 2}, "only the attention core reads several steps per token"),
     ({"core": "gru", "tokenizer_hiddens": ()}, "only the attention and snail cores may have no tokenizer"),
     ({"core": "snail", "attention_window": 2}, "only the attention core reads several steps per token"),
     ({"core": "attention", "attention_window": 3}, r"attention_window must be one of \(1, 2\), got 3"),
     ({"head_hiddens": (64, 0)}, r"head_hiddens takes positive layer widths, got \(64, 0\)"),
     ({"heads_read_input": True}, "heads_read_input needs no statistics head and no reward prediction")],
)  # fmt: skip
def test_settings_a_core_or_head_cannot_take_are_named(overrides, message):
    with pytest.raises(ValueError, match=message):
        get_preset("tabular_mdp", **overrides)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [("algo", "a3c", "unknown algorithm 'a3c'; allowed: ppo, appo"), ("core", "mamba", "unknown core 'mamba'")],
)
def test_unknown_algorithm_or_core_is_named(name, value, message):
    with pytest.raises(ValueError, match=message):
        get_preset("eleven_arm", **{name: value})


def test_an_algorithms_own_entropy_coefficient_applies_unless_the_flag_sets_one():
    assert get_preset("eleven_arm", algo="impala").entropy_coeff == 0.15  # V-trace advantages are not standardized
    assert get_preset("eleven_arm", algo="ppo").entropy_coeff == 0.05
    assert get_preset("eleven_arm", algo="impala", entropy_coeff=0.02).entropy_coeff == 0.02
    assert get_preset("dependent_uniform", algo="impala").entropy_coeff == 0.01


def test_the_chosen_cores_and_algorithms_own_settings_apply_unless_set():
    mdp = get_preset("tabular_mdp")
    assert (mdp.algo, mdp.core, mdp.attention_window, mdp.tokenizer_hiddens) == ("ppo", "attention", 2, ())
    assert mdp.reward_prediction_coeff == 1.0
    lstm = get_preset("tabular_mdp", core="lstm")  # the attention settings are the attention core's alone
    assert (lstm.attention_window, lstm.tokenizer_hiddens, lstm.reward_prediction_coeff) == (1, (128,), 1.0)
    assert get_preset("tabular_mdp", algo="appo").reward_prediction_coeff == 0.0  # an auxiliary loss of PPO's
    assert get_preset("tabular_mdp", attention_window=1).tokenizer_hiddens == ()  # an override keeps the others
    assert (mdp.pretrain_memory_s, mdp.reward_logits_weight, mdp.lr) == (300.0, 10.0, 3e-5)
    appo = get_preset("tabular_mdp", algo="appo")
    assert (appo.pretrain_memory_s, appo.reward_logits_weight, appo.lr) == (0.0, 0.0, 1e-3)
    # No reward prediction, no use of its head: the preset's pretraining and logits weight go with it.
    plain = get_preset("tabular_mdp", reward_prediction_coeff=0.0)
    assert (plain.reward_prediction_coeff, plain.pretrain_memory_s, plain.reward_logits_weight) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("core", CORES)
def test_frozen_weight_evaluation_works_with_every_core(core):
    trials = evaluate_module(build_module(core), "eleven_arm", num_trials=20, seed=1)
    assert len(trials) == 20 and trials["return"].between(0.0, 25.0).all()


# Every algorithm, and every core across them.
ALGORITHMS_AND_CORES = [
    ("ppo", "lstm"),
    ("a2c", "gru"),
    ("impala", "attention"),
    ("appo", "snail"),
    ("ppo", "additive"),
    ("ppo", "per_action"),
]


def test_the_training_check_below_covers_every_algorithm_and_core():
    assert {algo for algo, _ in ALGORITHMS_AND_CORES} == set(ALGORITHMS)
    assert {core for _, core in ALGORITHMS_AND_CORES} == set(CORES)


@pytest.mark.parametrize(("algo", "core"), ALGORITHMS_AND_CORES)
@pytest.mark.slow
def test_every_algorithm_trains_a_few_iterations(local_ray, algo, core):
    skip = SKIP if algo in ("a2c", "appo") else {}  # heads that read the input, with GAE and with V-trace
    preset = get_preset("eleven_arm", algo=algo, core=core, envs_per_worker=8, **skip)
    algorithm = algorithm_config("eleven_arm", preset, {}, seed=0).build_algo()
    try:
        for _ in range(2):
            result = algorithm.train()
        assert result["num_env_steps_sampled_lifetime"] > 0
        assert np.isfinite(result["env_runners"]["episode_return_mean"])
        learner = result["learners"]["default_policy"]
        assert np.isfinite(learner["total_loss"] if "total_loss" in learner else learner["policy_loss"])
    finally:
        algorithm.stop()


def test_a2c_takes_one_gradient_step_per_batch(local_ray):
    preset = get_preset("eleven_arm", algo="a2c", envs_per_worker=8)
    config = algorithm_config("eleven_arm", preset, {}, seed=0)
    assert config.num_epochs == 1 and config.minibatch_size is None and not config.use_kl_loss
    algorithm = config.build_algo()
    try:
        learner = algorithm.train()["learners"]["default_policy"]
        # One minibatch of the whole batch: 8 copies x 4 trials x 5 pulls, plus the masked step per trial.
        assert learner["module_train_batch_size_mean"] == 8 * 4 * 5 + 8 * 4
        assert learner["num_module_steps_trained"] == 8 * 4 * 5 + 8 * 4
    finally:
        algorithm.stop()
