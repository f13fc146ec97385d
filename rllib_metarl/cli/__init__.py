"""The command line: ``rllib-metarl`` (``python -m rllib_metarl``) and the argument types of every script."""
