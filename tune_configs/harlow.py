"""Harlow task (Harlow 1949; Wang et al. 2018) with code-vector objects: PPO + LSTM under Tune.

python tune_configs/harlow.py                         # trains on the train pool, evaluates on held-out objects
python -m analysis.harlow --experiment ~/ray_results/<name>     # then accuracy per trial index over training
"""

from rllib_metarl.cli.arguments import positive_int
from rllib_metarl.training.command_line import EnvOption
from rllib_metarl.training.runner import main

OPTIONS = (EnvOption(("--code-size",), "code_size", positive_int, "length of an object's code vector"),)

if __name__ == "__main__":
    raise SystemExit(main("harlow", env_options=OPTIONS))
