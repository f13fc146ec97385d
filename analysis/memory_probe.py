"""What the RL^2 bandit agents' memory holds of a trial: linear read-outs of the state each pull is chosen from.

python -m analysis.memory_probe --bandit-cells 100x10 100x50

The analysis itself is :mod:`rllib_metarl.analysis.memory_probe`, which says what it computes and writes.
"""

import sys

from rllib_metarl.analysis.memory_probe import main
from rllib_metarl.cli.main import exit_code

if __name__ == "__main__":
    sys.exit(exit_code(main))
