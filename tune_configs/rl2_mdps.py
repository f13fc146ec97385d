"""Random tabular MDPs of RL^2 (Duan et al. 2016, Table 2): PPO + attention core + reward prediction, under Tune.

python tune_configs/rl2_mdps.py --n 10               # n inner episodes of 10 steps per trial, one MDP per trial
python tune_configs/rl2_mdps.py --n 10 --core lstm   # the LSTM (stays at the random level in 25 minutes)
python tune_configs/rl2_mdps.py --n 10 --core per_action --reward-prediction 0 --lr 1e-3
    # RL^2 with a memory row per (state, action); what it reaches: docs/results/rl2_tables.md
python -m analysis.rl2_tables                          # then the table, with the classical baselines beside it
"""

from rllib_metarl.training.runner import main

if __name__ == "__main__":
    raise SystemExit(main("tabular_mdp"))
