"""Eleven-armed bandit with an informative arm (Wang et al. 2016, exp. 3): PPO + LSTM under Tune.

python tune_configs/eleven_arm.py                  # local Ray, dashboard on, ASHA over 2 seeds
python tune_configs/eleven_arm.py --address HOST:PORT --num-samples 8
"""

from rllib_metarl.training.runner import main

if __name__ == "__main__":
    raise SystemExit(main("eleven_arm"))
