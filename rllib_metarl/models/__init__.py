"""The agent's networks: memory cores (LSTM, GRU, causal attention, SNAIL, additive, per-action; ``cores``), the
reward-prediction head (``reward_prediction``) and the heads that score actions with shared weights
(``action_scores``). This package's own names need no Ray, so presets can check a choice
before Ray starts."""

CORES = ("lstm", "gru", "attention", "snail", "additive", "per_action")
CORES_WITHOUT_TOKENIZER = ("attention", "snail")  # cores that may read the raw inputs, with no MLP before them
ATTENTION_WINDOWS = (1, 2)  # steps per attention token: the step alone, or with the one before
REWARD_LOGITS_BETA = "reward_logits_beta"  # the reward-prediction module's weight, and its name in the metrics
# A run that starts from a checkpoint (--init-from) without these starts them afresh: an agent trained without
# reading its reward head can go on reading it, from the weight the run gives.
WEIGHTS_STARTED_AFRESH = (REWARD_LOGITS_BETA,)
