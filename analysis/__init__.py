"""pandas analysis of rllib-metarl experiments: load Tune results, tabulate, plot."""
