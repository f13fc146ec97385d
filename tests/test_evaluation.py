"""Reading a checkpoint's weights runs no code from it: a crafted pickle is refused, plain arrays load."""

import os
import pickle

import numpy as np
import pytest

from rllib_metarl.evaluation import saved_module_state


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
