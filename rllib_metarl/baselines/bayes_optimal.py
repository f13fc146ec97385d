"""The exact Bayes-optimal policy for the two-armed Bernoulli bandits, by dynamic programming over posterior counts.

Undiscounted, finite horizon n (the trial length): the policy that maximizes the expected total reward of a trial under
the task prior. It is the limit every agent on these tasks is measured against.

- Independent arms, p_1, p_2 ~ Beta(1, 1): the posterior of arm i is Beta(1 + s_i, 1 + f_i), so after m pulls the
  state is (n_1, s_1, s_2) with n_2 = m - n_1 and f_i = n_i - s_i. O(n^4) work, about a second for n = 100.
- Dependent arms, p_2 = 1 - p_1: a success on arm 1 or a failure on arm 2 is the same evidence for p_1, so the state
  after m pulls is a = (successes on arm 1 + failures on arm 2). The prior of p_1 is U[0, 1] (uniform) or uniform on a
  set of values (easy / medium / hard). O(n^2).

- k independent arms, small n (:class:`KArmedBayesOptimal`): arms with the same counts are interchangeable, so the
  state is the multiset of (successes, failures) of the arms pulled so far; the unpulled ones all look alike. Exact,
  by memoized recursion; the number of states grows quickly with n, hence the cap.

Ties are broken towards arm 0 (the first arm of the best kind for the k-armed DP).
``tests/baselines/test_bayes_optimal.py`` checks every DP against brute-force expectimax over raw histories, with
posteriors integrated numerically.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from rllib_metarl.utils.validation import validate_integer, validate_probabilities, validate_trial_length

# The k-armed DP visits every multiset of per-arm counts: n = 10 takes about a second, n = 20 far longer.
MAX_K_ARMED_TRIAL_LENGTH = 12
# The independent DP holds O(n^3) numbers per step and does O(n^4) work: n = 200 takes seconds, n = 500 far longer.
MAX_INDEPENDENT_TRIAL_LENGTH = 200


def posterior_mean(wins: np.ndarray | int, pulls: np.ndarray | int) -> np.ndarray | float:
    """An arm's posterior mean win rate under the uniform prior U[0, 1] = Beta(1, 1): (wins + 1) / (pulls + 2)."""
    return (wins + 1) / (pulls + 2)


def bayes_optimal_return(
    trial_length: int, dependent: bool, p1_choices: tuple[float, ...] | None = None, num_arms: int = 2
) -> float:
    """Expected return of a trial under the Bayes-optimal policy; NaN where the exact DP is out of reach."""
    independent_out_of_reach = not (num_arms == 2 and trial_length <= MAX_INDEPENDENT_TRIAL_LENGTH) and (
        trial_length > MAX_K_ARMED_TRIAL_LENGTH
    )
    if not dependent and independent_out_of_reach:
        return float("nan")
    return solver(num_arms, trial_length, dependent, p1_choices).value


class IndependentBayesOptimal:
    """Bayes-optimal play of the two-armed bandit with independent U[0, 1] arms."""

    def __init__(self, trial_length: int):
        self.trial_length = validate_trial_length(trial_length)
        # pull_arm_1[m][n1, s1, s2]: the optimal arm is 1 after m pulls, n1 of them on arm 0 (s1 successes) and s2
        # successes on arm 1.
        self.pull_arm_1: list[np.ndarray] = [np.zeros(0, dtype=bool)] * self.trial_length
        value_next = np.zeros((self.trial_length + 1,) * 3)
        for m in range(self.trial_length - 1, -1, -1):
            n1, s1, s2 = np.ogrid[: m + 1, : m + 1, : m + 1]
            p1 = posterior_mean(s1, n1)
            p2 = posterior_mean(s2, m - n1)
            q_arm_0 = (
                p1 * (1 + value_next[1 : m + 2, 1 : m + 2, : m + 1])
                + (1 - p1) * value_next[1 : m + 2, : m + 1, : m + 1]
            )
            q_arm_1 = (
                p2 * (1 + value_next[: m + 1, : m + 1, 1 : m + 2]) + (1 - p2) * value_next[: m + 1, : m + 1, : m + 1]
            )
            self.pull_arm_1[m] = q_arm_1 > q_arm_0
            value_next = np.maximum(q_arm_0, q_arm_1)
        self.value = float(value_next[0, 0, 0])

    def act(self, history: Sequence[tuple[int, float]]) -> int:
        """The optimal arm after ``history``, a sequence of (arm, reward) pairs of the current trial."""
        return self.act_counts(*_counts(history))

    def act_counts(self, successes: np.ndarray, failures: np.ndarray) -> int:
        """The optimal arm given each arm's successes and failures so far in the trial."""
        m = int(successes.sum() + failures.sum())
        return int(self.pull_arm_1[m][int(successes[0] + failures[0]), int(successes[0]), int(successes[1])])


class DependentBayesOptimal:
    """Bayes-optimal play of the two-armed bandit with p_2 = 1 - p_1.

    ``p1_choices=None``: p_1 ~ U[0, 1]. Otherwise p_1 is uniform on ``p1_choices`` (e.g. (0.1, 0.9) for easy).
    """

    def __init__(self, trial_length: int, p1_choices: Sequence[float] | None = None):
        self.trial_length = validate_trial_length(trial_length)
        self.p1_choices = None if p1_choices is None else validate_probabilities("p1_choices", p1_choices)
        self.pull_arm_1: list[np.ndarray] = [np.zeros(0, dtype=bool)] * self.trial_length
        value_next = np.zeros(self.trial_length + 1)
        for m in range(self.trial_length - 1, -1, -1):
            e = self.posterior_mean(np.arange(m + 1), m)  # P(arm 0 pays) after a = 0..m
            q_arm_0 = e * (1 + value_next[1 : m + 2]) + (1 - e) * value_next[: m + 1]
            q_arm_1 = (1 - e) * (1 + value_next[: m + 1]) + e * value_next[1 : m + 2]
            self.pull_arm_1[m] = q_arm_1 > q_arm_0
            value_next = np.maximum(q_arm_0, q_arm_1)
        self.value = float(value_next[0])

    def posterior_mean(self, a: np.ndarray, m: int) -> np.ndarray:
        """E[p_1 | a pieces of evidence for p_1 and m - a against it]."""
        if self.p1_choices is None:
            return posterior_mean(a, m)
        p = np.asarray(self.p1_choices)[:, None]
        log_likelihood = _x_log_y(a, p) + _x_log_y(m - a, 1 - p)
        best = log_likelihood.max(axis=0)
        # States the evidence rules out (every candidate impossible) are never reached, but a 0-probability transition
        # still multiplies their value: keep it finite.
        reachable = np.isfinite(best)
        weights = np.exp(log_likelihood - np.where(reachable, best, 0.0))
        mean = (weights * p).sum(axis=0) / np.where(reachable, weights.sum(axis=0), 1.0)
        return np.where(reachable, mean, 0.5)

    def act(self, history: Sequence[tuple[int, float]]) -> int:
        return self.act_counts(*_counts(history))

    def act_counts(self, successes: np.ndarray, failures: np.ndarray) -> int:
        m = int(successes.sum() + failures.sum())
        return int(self.pull_arm_1[m][int(successes[0] + failures[1])])


ArmCounts = tuple[tuple[int, int], ...]  # sorted (successes, failures) of every arm pulled so far


class KArmedBayesOptimal:
    """Bayes-optimal play of the k-armed bandit with independent U[0, 1] arms, for small trial lengths."""

    def __init__(self, num_arms: int, trial_length: int):
        self.trial_length = validate_trial_length(trial_length)
        if self.trial_length > MAX_K_ARMED_TRIAL_LENGTH:
            raise ValueError(
                f"the exact k-armed DP is limited to trial_length <= {MAX_K_ARMED_TRIAL_LENGTH}, got {trial_length}"
            )
        self.num_arms = validate_integer("num_arms", num_arms, minimum=2)
        self.best_kind: dict[ArmCounts, tuple[int, int]] = {}  # state -> counts of the arm kind to pull
        self._values: dict[ArmCounts, float] = {}
        self.value = self._value(())

    def _value(self, state: ArmCounts) -> float:
        if sum(s + f for s, f in state) == self.trial_length:
            return 0.0
        if state in self._values:
            return self._values[state]
        kinds = sorted(set(state) | ({(0, 0)} if len(state) < self.num_arms else set()))
        best_value, best_kind = -1.0, kinds[0]
        for s, f in kinds:
            p = posterior_mean(s, s + f)
            q = p * (1 + self._value(_pulled(state, (s, f), (s + 1, f)))) + (1 - p) * self._value(
                _pulled(state, (s, f), (s, f + 1))
            )
            if q > best_value + 1e-12:
                best_value, best_kind = q, (s, f)
        self.best_kind[state] = best_kind
        self._values[state] = best_value
        return best_value

    def act_counts(self, successes: np.ndarray, failures: np.ndarray) -> int:
        pulled = successes + failures > 0
        state = tuple(sorted(zip(successes[pulled].astype(int).tolist(), failures[pulled].astype(int).tolist(),
                                 strict=True)))  # fmt: skip
        s, f = self.best_kind[state]
        return int(np.flatnonzero((successes == s) & (failures == f))[0])


def _pulled(state: ArmCounts, before: tuple[int, int], after: tuple[int, int]) -> ArmCounts:
    """The state after one arm with counts ``before`` (``(0, 0)``: an unpulled arm) got counts ``after``."""
    arms = list(state)
    if before != (0, 0):
        arms.remove(before)
    return tuple(sorted([*arms, after]))


def _counts(history: Sequence[tuple[int, float]], num_arms: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(successes, failures) of every arm in ``history``, a sequence of (arm, reward) pairs."""
    successes, failures = np.zeros(num_arms), np.zeros(num_arms)
    for arm, reward in history:
        (successes if reward > 0 else failures)[arm] += 1
    return successes, failures


def _x_log_y(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x * log(y) with 0 * log(0) = 0 (no evidence against a value is no evidence)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, x * np.log(y))


@lru_cache(maxsize=16)
def solver(
    num_arms: int, trial_length: int, dependent: bool = False, p1_choices: tuple[float, ...] | None = None
) -> IndependentBayesOptimal | DependentBayesOptimal | KArmedBayesOptimal:
    """The DP that plays this bandit Bayes-optimally (built once per process and shape)."""
    if dependent:
        if num_arms != 2:
            raise ValueError(f"the dependent bandit has 2 arms, got num_arms={num_arms}")
        return DependentBayesOptimal(trial_length, p1_choices)
    if num_arms == 2 and trial_length <= MAX_INDEPENDENT_TRIAL_LENGTH:
        return IndependentBayesOptimal(trial_length)
    return KArmedBayesOptimal(num_arms, trial_length)
