"""Two-armed dependent bandit, p_2 = 1 - p_1 (Wang et al. 2016, exp. 1): PPO + LSTM under Tune.

python tune_configs/two_armed_dependent.py --difficulty easy
"""

from rllib_metarl.tasks.bandits import DEPENDENT_DIFFICULTIES
from rllib_metarl.training.runner import main

if __name__ == "__main__":
    raise SystemExit(main("dependent_uniform", variants={d: f"dependent_{d}" for d in DEPENDENT_DIFFICULTIES}))
