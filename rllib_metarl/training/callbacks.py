"""Per-trial meta-RL metrics into RLlib's results (and from there into Tune, TensorBoard and pandas)."""

from __future__ import annotations

from typing import Any

from ray.rllib.callbacks.callbacks import RLlibCallback

from rllib_metarl.training.metrics import CHECKPOINT_SCORE, METRICS_GROUP, METRICS_WINDOW


class MetaRLMetrics(RLlibCallback):
    """Logs the env's ``info["episode_metrics"]`` of every finished trial as ``env_runners/meta/<name>``, and copies
    the training return to the result's top level as ``CHECKPOINT_SCORE`` (NaN before a trial has finished).

    The envs compute the figures themselves (fraction of optimal pulls, regret, informative-arm use), so this
    callback stays the same for every task. Only the trial's last step is read: RLlib hands earlier chunks of a long
    episode separately, but the last info always sits in the final chunk.
    """

    def on_episode_end(self, *, episode: Any, metrics_logger: Any = None, **kwargs: Any) -> None:
        if metrics_logger is None:
            return
        last_info = episode.get_infos(-1)
        for name, value in (last_info or {}).get("episode_metrics", {}).items():
            metrics_logger.log_value((METRICS_GROUP, name), float(value), reduce="mean", window=METRICS_WINDOW)

    def on_train_result(self, *, result: dict, **kwargs: Any) -> None:
        result[CHECKPOINT_SCORE] = float(result.get("env_runners", {}).get("episode_return_mean", float("nan")))
