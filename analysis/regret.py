"""Cumulative regret within a trial (regret after each pull) for a trained agent and the classical bandit baselines.

python -m analysis.regret --experiment ~/ray_results/dependent_uniform-20261122-093000
python -m analysis.regret --task two_armed_independent          # the baselines only
rllib-metarl regret --help   # the same command, installed

The analysis itself is :mod:`rllib_metarl.analysis.regret`, which says what it computes and writes.
"""

import sys

from rllib_metarl.analysis.regret import main
from rllib_metarl.cli.main import exit_code

if __name__ == "__main__":
    sys.exit(exit_code(main))
