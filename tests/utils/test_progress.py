"""Long commands show a progress bar with the time left on a terminal, and nothing in logs or pipes."""

import io
import re
import sys

from rllib_metarl.baselines.bandits import GreedyPolicy
from rllib_metarl.baselines.play import play_baseline
from rllib_metarl.evaluation import evaluate_module
from rllib_metarl.training.config import build_rl_module
from rllib_metarl.training.presets import get_preset


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_evaluations_and_baselines_show_a_bar_with_the_time_left_on_a_terminal_only(monkeypatch):
    module = build_rl_module("eleven_arm", get_preset("eleven_arm"), {})
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    evaluate_module(module, "eleven_arm", num_trials=20, batch_size=10)
    play_baseline(GreedyPolicy(), "k_armed", num_trials=30)
    shown = terminal.getvalue()
    assert re.search(r"eleven_arm, frozen weights: .*\d+/20 \[\d\d:\d\d<", shown)  # [elapsed<time left]
    assert re.search(r"k_armed, Greedy: .*\d+/30 \[", shown)
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    evaluate_module(module, "eleven_arm", num_trials=20, batch_size=10)
    assert pipe.getvalue() == ""
