"""Harlow task: the fraction of correct choices per trial index (1..6) on held-out objects, over training.

python -m analysis.harlow --experiment ~/ray_results/harlow-20261122-093000
rllib-metarl harlow --help   # the same command, installed

The analysis itself is :mod:`rllib_metarl.analysis.harlow`, which says what it computes and writes.
"""

import sys

from rllib_metarl.analysis.harlow import main
from rllib_metarl.cli.main import exit_code

if __name__ == "__main__":
    sys.exit(exit_code(main))
