"""Dependent bandits: train on each of {easy, medium, hard, uniform}, test on each (Wang et al. 2016, Fig. 3).

python -m analysis.generalization --storage-path ~/ray_results/wang
rllib-metarl generalization --help   # the same command, installed

The analysis itself is :mod:`rllib_metarl.analysis.generalization`, which says what it computes and writes.
"""

import sys

from rllib_metarl.analysis.generalization import main
from rllib_metarl.cli.main import exit_code

if __name__ == "__main__":
    sys.exit(exit_code(main))
