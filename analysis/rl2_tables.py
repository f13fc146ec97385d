"""RL^2's Tables 1 and 2 (Duan et al. 2016), measured here, beside the paper's figures.

python -m analysis.rl2_tables                                   # both tables, 1000 held-out trials per cell
python -m analysis.rl2_tables --table bandits --bandit-cells 10x5 100x5 --trials 1000
python -m analysis.rl2_tables --table mdps --mdp-cells 10 --update   # re-measure one cell of the saved tables
rllib-metarl rl2-tables --help   # the same command, installed

The analysis itself is :mod:`rllib_metarl.analysis.rl2_tables`, which says what it computes and writes.
"""

import sys

from rllib_metarl.analysis.rl2_tables import main
from rllib_metarl.cli.main import exit_code

if __name__ == "__main__":
    sys.exit(exit_code(main))
