"""Per-trial meta-RL metrics into RLlib's results (and from there into Tune, TensorBoard and pandas)."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from ray.rllib.callbacks.callbacks import RLlibCallback

from rllib_metarl.training.metrics import CHECKPOINT_SCORE, METRICS_GROUP, METRICS_WINDOW


class MetaRLMetrics(RLlibCallback):
    """Logs the env's ``info["episode_metrics"]`` of every finished trial as ``env_runners/meta/<name>``, and puts
    the mean return of the last ``METRICS_WINDOW`` or more trials, over whole iterations, at the result's top level as
    ``CHECKPOINT_SCORE`` (NaN before a trial has finished).

    The envs compute the figures themselves (fraction of optimal pulls, regret, informative-arm use), so this
    callback stays the same for every task. Only the trial's last step is read: RLlib hands earlier chunks of a long
    episode separately, but the last info always sits in the final chunk.

    The score is kept here, on the algorithm's side, because RLlib reports ``episode_return_mean`` over the trials of
    one iteration: 16 on the two-armed bandits, whose best over hundreds of iterations is the luckiest batch of trials
    rather than the best policy. After a restore the window starts again from the first iteration it sees.
    """

    def __init__(self) -> None:
        super().__init__()
        self._recent: deque[tuple[float, int]] = deque()  # (mean return, trials) of the latest iterations

    def on_episode_end(self, *, episode: Any, metrics_logger: Any = None, **kwargs: Any) -> None:
        if metrics_logger is None:
            return
        last_info = episode.get_infos(-1)
        for name, value in (last_info or {}).get("episode_metrics", {}).items():
            metrics_logger.log_value((METRICS_GROUP, name), float(value), reduce="mean", window=METRICS_WINDOW)

    def on_train_result(self, *, result: dict, **kwargs: Any) -> None:
        runners = result.get("env_runners", {})
        # Both are NaN in an iteration whose env runner died before reporting (RLlib replaces it and goes on).
        trials = float(runners.get("num_episodes", float("nan")))
        mean = float(runners.get("episode_return_mean", float("nan")))
        if math.isfinite(trials) and trials > 0 and math.isfinite(mean):
            self._recent.append((mean, int(trials)))
        while len(self._recent) > 1 and sum(count for _, count in list(self._recent)[1:]) >= METRICS_WINDOW:
            self._recent.popleft()  # the newer iterations alone hold the window's trials
        total = sum(count for _, count in self._recent)
        score = sum(value * count for value, count in self._recent) / total if total else float("nan")
        result[CHECKPOINT_SCORE] = score
