"""Two-armed bandit, independent Bernoulli arms p_1, p_2 ~ U[0,1] (Wang et al. 2016, exp. 1): PPO + LSTM under Tune."""

from rllib_metarl.training.runner import main

if __name__ == "__main__":
    raise SystemExit(main("two_armed_independent"))
