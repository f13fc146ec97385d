"""The names of the figures a training result holds (no Ray needed to read them)."""

# The training return of an iteration: the mean return of the trials that ended in it.
RETURN_METRIC = "env_runners/episode_return_mean"
# The same figure at the top level of every result, for Tune to rank checkpoints by (training.tune_setup).
CHECKPOINT_SCORE = "training_return"
# The per-trial figures the envs report appear as env_runners/meta/<name>, apart from RLlib's own env_runners/*.
METRICS_GROUP = "meta"
# Moving-mean window, in trials, of every logged meta-RL metric.
METRICS_WINDOW = 200
