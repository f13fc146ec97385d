"""The names of the figures a training result holds (no Ray needed to read them)."""

# The training return of an iteration: the mean return of the trials that ended in it.
RETURN_METRIC = "env_runners/episode_return_mean"
# The mean return of the last METRICS_WINDOW or more trials, at the top level of every result, for Tune to rank
# checkpoints by (training.callbacks, training.tune_setup). Not RETURN_METRIC alone, which averages the trials of one
# iteration: with a few trials per iteration (16 on the two-armed bandits) its best is the luckiest batch.
CHECKPOINT_SCORE = "training_return"
# The per-trial figures the envs report appear as env_runners/meta/<name>, apart from RLlib's own env_runners/*.
METRICS_GROUP = "meta"
# Window, in trials, of every logged meta-RL metric. RLlib reduces the env runners' metrics every iteration, so a
# metric is the mean over one iteration's trials (at most this many); the checkpoint score's window spans iterations.
METRICS_WINDOW = 200
