"""k-armed Bernoulli bandits of RL^2 (Duan et al. 2016, Table 1): PPO + LSTM under Tune.

python tune_configs/rl2_bandits.py --n 10 --k 5      # n pulls per trial, k arms with p_i ~ U[0, 1]
python tune_configs/rl2_bandits.py --n 10 --k 5 --core per_action
    # RL^2 with a memory row per arm: near the Bayes-optimal in seconds, not minutes (PPO only); how fast:
    # docs/notes/2026-12-07-time-to-threshold.md
python -m analysis.rl2_tables                          # then the table, with the classical baselines beside it
"""

from rllib_metarl.cli.arguments import positive_int
from rllib_metarl.training.command_line import EnvOption
from rllib_metarl.training.runner import main

ARMS = EnvOption(("-k", "--k", "--num-arms"), "num_arms", positive_int, "arms, the paper's k")

if __name__ == "__main__":
    raise SystemExit(main("k_armed", env_options=(ARMS,)))
