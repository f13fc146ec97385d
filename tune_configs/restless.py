"""Restless two-armed bandit, stable and volatile trials (Wang et al. 2016, exp. 4): PPO + LSTM under Tune.

python tune_configs/restless.py                       # mixed: each trial stable or volatile, the agent must tell
python tune_configs/restless.py --regime volatile --volatile-hazard 0.1
"""

from rllib_metarl.cli.arguments import probability
from rllib_metarl.tasks.bandits import RESTLESS_REGIMES
from rllib_metarl.training.command_line import EnvOption
from rllib_metarl.training.runner import main

OPTIONS = (
    EnvOption(("--regime",), "regime", str, "stable, volatile, or mixed (drawn per trial)", RESTLESS_REGIMES),
    EnvOption(("--volatile-hazard",), "volatile_hazard", probability, "swap probability per pull, volatile trials"),
    EnvOption(("--stable-hazard",), "stable_hazard", probability, "swap probability per pull, stable trials"),
)

if __name__ == "__main__":
    raise SystemExit(main("restless", env_options=OPTIONS))
