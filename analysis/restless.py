"""Restless bandit: the trained agent beside the Bayes-optimal player, per regime (stable, volatile).

python -m analysis.restless --experiment ~/ray_results/restless-20261122-093000 [EXPERIMENT ...]
rllib-metarl restless --help   # the same command, installed

The analysis itself is :mod:`rllib_metarl.analysis.restless`, which says what it computes and writes.
"""

import sys

from rllib_metarl.analysis.restless import main
from rllib_metarl.cli.main import exit_code

if __name__ == "__main__":
    sys.exit(exit_code(main))
