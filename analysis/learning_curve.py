"""Draw an experiment's learning curves (training return against env steps) with the optimum and random lines.

python -m analysis.learning_curve ~/ray_results/eleven_arm-20261122-101500 [--output curve.png]
rllib-metarl learning-curve --help   # the same command, installed

The analysis itself is :mod:`rllib_metarl.analysis.learning_curve`, which says what it computes and writes.
"""

import sys

from rllib_metarl.analysis.learning_curve import main
from rllib_metarl.cli.main import exit_code

if __name__ == "__main__":
    sys.exit(exit_code(main))
