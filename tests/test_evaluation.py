"""Evaluation: reading a checkpoint's weights runs no code from it (a crafted pickle is refused, plain arrays load),
and playing with frozen weights leaves the process's random state alone."""

import os
import pickle

import numpy as np
import pandas as pd
import pytest
import torch

from rllib_metarl.evaluation import evaluate_module, saved_module_state
from tests.models.test_cores_and_algorithms import build_module


class Payload:
    """What a crafted checkpoint carries: unpickling it would run a command."""

    def __reduce__(self):
        return (os.system, ("touch PWNED",))


def test_weights_load_and_a_crafted_pickle_is_refused_without_running(tmp_path):
    weights = {"encoder.w": np.arange(6, dtype=np.float32).reshape(2, 3), "beta": np.float32(1.5)}
    (tmp_path / "module_state.pkl").write_bytes(pickle.dumps(weights))
    loaded = saved_module_state(tmp_path)
    np.testing.assert_array_equal(loaded["encoder.w"], weights["encoder.w"])
    assert loaded["beta"] == 1.5
    (tmp_path / "module_state.pkl").write_bytes(pickle.dumps({"encoder.w": Payload()}))
    with pytest.raises(pickle.UnpicklingError, match="arrays only, not posix.system"):
        saved_module_state(tmp_path)
    assert not (tmp_path / "PWNED").exists() and not os.path.exists("PWNED")


def test_sampled_play_draws_from_its_own_generators_and_leaves_the_global_ones_alone():
    # A run that evaluates between training iterations (benchmarks/time_to_optimal.py) must train as one that does not:
    # training draws from torch's and numpy's global generators.
    module = build_module("lstm")
    torch.manual_seed(0)
    np.random.seed(0)
    torch_before, (_, numpy_key, numpy_position, *_) = torch.get_rng_state(), np.random.get_state()
    first = evaluate_module(module, "eleven_arm", num_trials=200, seed=1, explore=True, batch_size=100)
    assert torch.equal(torch.get_rng_state(), torch_before)
    _, key, position, *_ = np.random.get_state()
    assert np.array_equal(key, numpy_key) and position == numpy_position
    torch.rand(3)  # the caller's draws in between change nothing
    np.random.rand(3)
    pd.testing.assert_frame_equal(first, evaluate_module(module, "eleven_arm", num_trials=200, seed=1, explore=True,
                                                         batch_size=100))  # fmt: skip
