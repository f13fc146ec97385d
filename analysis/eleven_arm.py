"""Eleven-armed bandit: over training, how often the agent pulls the informative arm first, and then the target.

python -m analysis.eleven_arm --experiment ~/ray_results/eleven_arm-20261122-093000
rllib-metarl eleven-arm --help   # the same command, installed

The analysis itself is :mod:`rllib_metarl.analysis.eleven_arm`, which says what it computes and writes.
"""

import sys

from rllib_metarl.analysis.eleven_arm import main
from rllib_metarl.cli.main import exit_code

if __name__ == "__main__":
    sys.exit(exit_code(main))
