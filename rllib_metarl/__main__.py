"""``python -m rllib_metarl``: the same command line as ``rllib-metarl`` (:mod:`rllib_metarl.cli.main`)."""

import sys

from rllib_metarl.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
