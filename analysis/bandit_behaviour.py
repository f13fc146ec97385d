"""How the RL^2 table's bandit players choose: stays after a win and after a loss, arms tried, the best arm's share.

python -m analysis.bandit_behaviour --bandit-cells 100x50 100x10

The analysis itself is :mod:`rllib_metarl.analysis.bandit_behaviour`, which says what it computes and writes.
"""

import sys

from rllib_metarl.analysis.bandit_behaviour import main
from rllib_metarl.cli.main import exit_code

if __name__ == "__main__":
    sys.exit(exit_code(main))
