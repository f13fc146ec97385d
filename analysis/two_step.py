"""Two-step task: the probability of repeating the first-stage choice, by the previous trial's outcome and transition.

python -m analysis.two_step --experiment ~/ray_results/two_step-20261122-093000     # trained agent + references
python -m analysis.two_step                                                         # the reference agents only
rllib-metarl two-step --help   # the same command, installed

The analysis itself is :mod:`rllib_metarl.analysis.two_step`, which says what it computes and writes.
"""

import sys

from rllib_metarl.analysis.two_step import main
from rllib_metarl.cli.main import exit_code

if __name__ == "__main__":
    sys.exit(exit_code(main))
