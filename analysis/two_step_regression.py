"""Two-step task: a lagged logistic regression of the first-stage choice on past rewards and transitions.

python -m analysis.two_step_regression --experiment ~/ray_results/two_step-20261122-093000 [EXPERIMENT ...]
rllib-metarl two-step-regression --help   # the same command, installed

The analysis itself is :mod:`rllib_metarl.analysis.two_step_regression`, which says what it computes and writes.
"""

import sys

from rllib_metarl.analysis.two_step_regression import main
from rllib_metarl.cli.main import exit_code

if __name__ == "__main__":
    sys.exit(exit_code(main))
