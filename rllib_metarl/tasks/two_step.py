"""The two-step task (Daw et al. 2011) as used by Wang et al. 2016 (exp. 5) and Wang et al. 2018.

A trial: a first-stage choice between two actions, a transition to one of two second-stage states (action 0 leads to
state S1 commonly and to S2 rarely, action 1 the reverse), then a reward of 1 with the probability of the state reached.
One state pays with 0.9, the other with 0.1, and they swap now and then, so the agent must keep track of which state is
good and plan through the transition structure. An agent that does so (model-based) repeats its first-stage action after
a rewarded common and after an unrewarded uncommon transition; a model-free learner repeats after any reward.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from rllib_metarl.tasks.task import Task, TrialSizes
from rllib_metarl.utils.validation import (
    validate_action,
    validate_flag,
    validate_fraction,
    validate_integer,
    validate_probabilities,
    validate_task_mode,
)

INPUT_FORMS = ("two_steps_in_one", "full")
# Parameters of the two published variants; ``TwoStepTask(**TWO_STEP_VARIANTS["2016"])`` builds the older one.
TWO_STEP_VARIANTS: dict[str, dict[str, Any]] = {
    "2018": {"common_prob": 0.8, "swap_prob": 0.025, "redraw_each_episode": False, "num_trials": 100},
    # The 2016 paper re-draws the rewarded state per episode and uses shorter episodes; it states no exact trial
    # count that we could check, so 20 is our choice.
    "2016": {"common_prob": 0.75, "swap_prob": 0.0, "redraw_each_episode": True, "num_trials": 20},
}
STAGE_ONE, S1, S2 = 0, 1, 2


class TwoStepTask(gym.Env):
    """The two-step task; one episode (one RLlib episode) is ``num_trials`` trials.

    - Action space: ``Discrete(2)``. At the first stage, the first-stage choice. At the second stage (``"full"`` form
      only) either action: the reward depends on the state alone, as in Wang et al. 2018.
    - Observation:
      ``input_form="two_steps_in_one"`` (default): one env step is one whole trial (the reproducers' simplification,
      which learns much faster). The observation is the one-hot second-stage state the previous trial reached
      ``[S1, S2]`` (zeros at the start); the wrapper adds the previous first-stage action and reward.
      ``input_form="full"``: two env steps per trial. The observation is the one-hot current state
      ``[stage 1, S1, S2]``; the reward arrives after the second-stage step.
    - Rewards: 1 with the reward probability of the second-stage state reached, else 0.
    - Starting state: the rewarded state (S1 or S2, probability ``reward_probs[0]``) drawn uniformly at the start of
      an episode in meta mode or with ``redraw_each_episode``; otherwise drawn once and carried on.
      After every trial the two states swap reward probabilities with probability ``swap_prob``.
    - Episode end: terminated after ``num_trials`` trials.

    ``info`` at the end of every trial (every step in the default form; ``info["trial_end"]`` marks it):
    ``first_stage_action``, ``second_stage_state`` (1 = S1, 2 = S2), ``common`` (the transition was the common one),
    ``rewarded``, ``good_state`` (the state with the high reward probability during that trial) and ``trial_index``.
    The analysis reads these and never re-derives the bookkeeping.
    """

    metadata: dict[str, Any] = {"render_modes": []}
    reward_values: tuple[float, ...] = (0.0, 1.0)

    def __init__(
        self,
        num_trials: int = 100,
        common_prob: float = 0.8,
        reward_probs: tuple[float, float] = (0.9, 0.1),
        swap_prob: float = 0.025,
        redraw_each_episode: bool = False,
        input_form: str = "two_steps_in_one",
        meta: bool = True,
        task_seed: int | None = None,
    ):
        self.num_trials = validate_integer("num_trials", num_trials, minimum=1)
        self.common_prob = validate_fraction("common_prob", common_prob)
        self.reward_probs = validate_probabilities("reward_probs", reward_probs)
        if len(self.reward_probs) != 2:
            raise ValueError(f"reward_probs needs two probabilities (good state, other state), got {reward_probs!r}")
        self.swap_prob = validate_fraction("swap_prob", swap_prob)
        if input_form not in INPUT_FORMS:
            raise ValueError(f"input_form must be one of {INPUT_FORMS}, got {input_form!r}")
        self.meta, self.task_seed = validate_task_mode(meta, task_seed)
        self.redraw_each_episode = validate_flag("redraw_each_episode", redraw_each_episode)
        self.input_form = input_form
        self.steps_per_trial = 1 if input_form == "two_steps_in_one" else 2
        self.trial_length = self.num_trials * self.steps_per_trial  # env steps per episode
        self.action_space = gym.spaces.Discrete(2)
        size = 2 if input_form == "two_steps_in_one" else 3
        self.observation_space = gym.spaces.Box(0.0, 1.0, shape=(size,), dtype=np.float32)
        self.good_state: int | None = None

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        redraw = self.meta or self.redraw_each_episode or self.good_state is None
        if redraw or (seed is not None and self.task_seed is None):
            rng = self.np_random if self.task_seed is None else np.random.default_rng(self.task_seed)
            self.good_state = S1 if rng.random() < 0.5 else S2
        self._trial = 0
        self._stage = 1
        self._first_action = -1
        self._state = STAGE_ONE
        self._rewards = 0.0
        observation = np.zeros(self.observation_space.shape, dtype=np.float32)
        if self.input_form == "full":
            observation[STAGE_ONE] = 1.0
        return observation, {}

    def step(self, action):
        if self.good_state is None or self._trial >= self.num_trials:
            raise RuntimeError("step() called before reset() or after the episode ended")
        action = validate_action(action, 2)
        if self._stage == 1:
            self._first_action = action
            common = self.np_random.random() < self.common_prob
            # Action 0 commonly leads to S1, action 1 to S2.
            self._state = (S1 if action == 0 else S2) if common else (S2 if action == 0 else S1)
            self._common = bool(common)
            if self.input_form == "full":
                self._stage = 2
                observation = np.zeros(3, dtype=np.float32)
                observation[self._state] = 1.0
                return observation, 0.0, False, False, {"trial_end": False, "stage": 1}
        return self._finish_trial()

    def _finish_trial(self):
        reward_prob = self.reward_probs[0] if self._state == self.good_state else self.reward_probs[1]
        rewarded = bool(self.np_random.random() < reward_prob)
        info: dict[str, Any] = {
            "trial_end": True,
            "stage": 2 if self.input_form == "full" else 1,
            "trial_index": self._trial,
            "first_stage_action": self._first_action,
            "second_stage_state": self._state,
            "common": self._common,
            "rewarded": rewarded,
            "good_state": self.good_state,
        }
        self._rewards += float(rewarded)
        reached = self._state
        self._trial += 1
        self._stage = 1
        if self.np_random.random() < self.swap_prob:
            self.good_state = S1 + S2 - self.good_state
        terminated = self._trial == self.num_trials
        if terminated:
            info["episode_metrics"] = {"reward_rate": self._rewards / self.num_trials}
        if self.input_form == "two_steps_in_one":
            observation = np.zeros(2, dtype=np.float32)
            observation[reached - 1] = 1.0
        else:
            observation = np.zeros(3, dtype=np.float32)
            observation[STAGE_ONE] = 1.0
        return observation, float(rewarded), terminated, False, info


def _two_step_random(kwargs: dict[str, Any]) -> float:
    return kwargs["num_trials"] * float(np.mean(kwargs.get("reward_probs", (0.9, 0.1))))


def _two_step_sizes(kwargs: dict[str, Any]) -> TrialSizes:
    full = kwargs.get("input_form") == "full"
    return TrialSizes(int(kwargs["num_trials"]) * (2 if full else 1), 3 + 2 + 1 + 1, floats_per_copy=8)


TASKS = (
    Task(
        "two_step",
        TwoStepTask,
        "TwoStepTask",
        "Daw et al.'s two-step task, 100 trials per episode (Wang et al. 2018; 2016 variant via parameters)",
        {"num_trials": 100, "input_form": "two_steps_in_one", "meta": True},
        random_return=_two_step_random,
        trial_size_parameter="num_trials",
        trial_size_unit="trials",
        sizes=_two_step_sizes,
        preset={"lr": 1e-3, "envs_per_worker": 16, "trials_per_rollout": 1, "minibatches": 4, "stop_time_s": 300.0},
    ),
)
