"""Classical bandit algorithms of RL^2's Table 1, each playing a batch of trials at once.

Every policy keeps, per trial, the successes and failures of every arm and reads them as a Beta(1 + s, 1 + f)
posterior (the task prior is U[0, 1] = Beta(1, 1)). Its ``act()`` returns one arm per trial; ties are broken uniformly
at random. Policies never see the task, only their own pulls and rewards, through
:func:`rllib_metarl.baselines.play.play_baseline`, which steps the very envs (and seeds) the agent is evaluated on.

Tuned parameters (``epsilon``, ``c``, ``discount``) are chosen by :mod:`rllib_metarl.baselines.tuning` on trials
disjoint from the held-out ones, as the paper tuned them by grid search.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from rllib_metarl.baselines.bayes_optimal import posterior_mean, solver
from rllib_metarl.baselines.choice import epsilon_mix, random_argmax
from rllib_metarl.utils.validation import validate_fraction


class BanditPolicy:
    """Base class: Beta posterior counts for a batch of trials. Subclasses implement :meth:`act`."""

    name = "policy"

    def reset(self, num_trials: int, num_arms: int, trial_length: int, rng: np.random.Generator) -> None:
        self.successes = np.zeros((num_trials, num_arms))
        self.failures = np.zeros((num_trials, num_arms))
        self.trial_length = trial_length
        self.t = 0
        self.rng = rng

    def act(self) -> np.ndarray:
        raise NotImplementedError

    def update(self, arms: np.ndarray, rewards: np.ndarray) -> None:
        rows = np.arange(len(arms))
        self.successes[rows, arms] += rewards
        self.failures[rows, arms] += 1 - rewards
        self.t += 1

    @property
    def pulls(self) -> np.ndarray:
        return self.successes + self.failures

    @property
    def posterior_means(self) -> np.ndarray:
        return posterior_mean(self.successes, self.pulls)

    def argmax(self, scores: np.ndarray) -> np.ndarray:
        """The best-scoring arm of every trial, ties broken uniformly at random."""
        return random_argmax(scores, self.rng)


class RandomPolicy(BanditPolicy):
    """Pulls an arm uniformly at random: ``n / 2`` in expectation."""

    name = "Random"

    def act(self) -> np.ndarray:
        return self.rng.integers(self.successes.shape[1], size=len(self.successes))


class GreedyPolicy(BanditPolicy):
    """Pulls the arm with the highest posterior mean (1 + s) / (2 + n): an untried arm counts as 0.5."""

    name = "Greedy"

    def act(self) -> np.ndarray:
        return self.argmax(self.posterior_means)


class EpsilonGreedyPolicy(GreedyPolicy):
    """Greedy, except that with probability ``epsilon`` it pulls an arm uniformly at random."""

    name = "eps-Greedy"

    def __init__(self, epsilon: float = 0.1):
        self.epsilon = validate_fraction("epsilon", epsilon)

    def act(self) -> np.ndarray:
        return epsilon_mix(super().act(), self.epsilon, self.successes.shape[1], self.rng)


class UCB1Policy(BanditPolicy):
    """UCB1 (Auer et al. 2002) on the posterior mean: ``(1 + s) / (2 + n) + c * sqrt(2 ln(t + 1) / (n + 1))``.

    The pseudo-counts keep untried arms finite, so with more arms than pulls (k = 50, n = 10) it does not spend the
    whole trial pulling each arm once; ``c`` scales the bonus (``c = 1``: Auer et al.'s).
    """

    name = "UCB1"

    def __init__(self, c: float = 1.0):
        if c < 0:
            raise ValueError(f"c must be >= 0, got {c!r}")
        self.c = c

    def act(self) -> np.ndarray:
        bonus = self.c * np.sqrt(2 * np.log(self.t + 1) / (self.pulls + 1))
        return self.argmax(self.posterior_means + bonus)


class ThompsonSamplingPolicy(BanditPolicy):
    """Thompson sampling (Thompson 1933): one draw from every arm's Beta posterior, pull the best draw."""

    name = "TS"

    def act(self) -> np.ndarray:
        return self.argmax(self.rng.beta(self.successes + 1, self.failures + 1))


class OptimisticThompsonSamplingPolicy(BanditPolicy):
    """Optimistic Thompson sampling (Chapelle and Li 2011): a draw below the posterior mean is raised to the mean.

    ``scale`` shrinks each draw's distance from the mean before that (``scale = 1``, the default: Chapelle and Li's
    OTS; towards 0 it approaches Greedy). The tables use the default: tuned, ``scale`` collapses to Greedy-like play,
    far from the paper's OTS figures, which stay close to TS.
    """

    name = "OTS"

    def __init__(self, scale: float = 1.0):
        self.scale = validate_fraction("scale", scale)

    def act(self) -> np.ndarray:
        means = self.posterior_means
        draws = means + self.scale * (self.rng.beta(self.successes + 1, self.failures + 1) - means)
        return self.argmax(np.maximum(draws, means))


class GittinsPolicy(BanditPolicy):
    """Gittins index policy (Gittins 1979) for Bernoulli arms with Beta(1, 1) priors and discount ``discount``.

    The index is Bayes-optimal for the infinite-horizon discounted problem, not for our n-pull undiscounted one; the
    paper used it anyway, and so do we, with ``discount`` tuned per (n, k). Indices come from
    :func:`gittins_indices` (exact calibration, see there).
    """

    name = "Gittins"

    def __init__(self, discount: float = 0.9):
        if not 0.0 < discount <= MAX_GITTINS_DISCOUNT:
            raise ValueError(f"discount must be in (0, {MAX_GITTINS_DISCOUNT}], got {discount!r}")
        self.discount = discount

    def reset(self, num_trials: int, num_arms: int, trial_length: int, rng: np.random.Generator) -> None:
        super().reset(num_trials, num_arms, trial_length, rng)
        self.indices = gittins_indices(self.discount, trial_length)

    def act(self) -> np.ndarray:
        s, f = self.successes.astype(int), self.failures.astype(int)
        return self.argmax(self.indices[s, f])


MAX_GITTINS_DISCOUNT = 0.995


@lru_cache(maxsize=16)
def gittins_indices(discount: float, max_pulls: int, grid_size: int = 1001, tolerance: float = 1e-3) -> np.ndarray:
    """Gittins indices of Beta(1 + s, 1 + f) Bernoulli arms, ``index[s, f]`` for ``s + f <= max_pulls``.

    Calibration (retirement) method: the index of a state is the per-step retirement reward ``lam`` at which
    retiring and continuing to pull are equally good. One backward induction over all (s, f) states, for a grid of
    ``grid_size`` values of ``lam`` at once, gives every state's continue-minus-retire gap as a function of ``lam``;
    the gap decreases in ``lam``, and its zero, linearly interpolated between grid points, is the index. The
    recursion is truncated at a depth where ``discount ** depth < tolerance`` beyond ``max_pulls``; there a state
    is valued as if its posterior mean were known (retire or pull forever).
    """
    depth = max_pulls + int(np.ceil(np.log(tolerance) / np.log(discount)))
    lam = np.linspace(0.0, 1.0, grid_size)[:, None]
    retire = lam / (1 - discount)
    means = np.arange(depth + 2) + 1.0  # s + 1 at depth m: mean (s + 1) / (m + 2)
    values = np.maximum(retire, means / (depth + 2) / (1 - discount))
    indices = np.full((max_pulls + 1, max_pulls + 1), np.nan)
    for m in range(depth, -1, -1):
        p = means[: m + 1] / (m + 2)
        cont = p * (1 + discount * values[:, 1 : m + 2]) + (1 - p) * discount * values[:, : m + 1]
        if m <= max_pulls:
            gap = cont - retire  # (grid, m + 1), decreasing along the grid
            first = np.argmax(gap <= 0, axis=0)  # first grid point where retiring is at least as good
            first = np.maximum(first, 1)
            low, high = gap[first - 1, np.arange(m + 1)], gap[first, np.arange(m + 1)]
            step = lam[1, 0] - lam[0, 0]
            index = lam[first - 1, 0] + step * low / np.where(low - high > 0, low - high, 1.0)
            s = np.arange(m + 1)
            indices[s, m - s] = np.clip(index, 0.0, 1.0)
        values = np.maximum(cont, retire)
    return indices


class BayesOptimalPolicy(BanditPolicy):
    """The exact Bayes-optimal policy, by dynamic programming over posterior counts (:mod:`.bayes_optimal`).

    Independent arms: two arms up to n = 200, any number of arms up to n = 12. ``dependent=True``: the two-armed
    dependent bandit (p_2 = 1 - p_1) with p_1 ~ U[0, 1] or uniform on ``p1_choices``.
    """

    name = "Bayes-optimal"

    def __init__(self, dependent: bool = False, p1_choices: tuple[float, ...] | None = None):
        self.dependent = dependent
        self.p1_choices = p1_choices

    def reset(self, num_trials: int, num_arms: int, trial_length: int, rng: np.random.Generator) -> None:
        super().reset(num_trials, num_arms, trial_length, rng)
        self.solver = solver(num_arms, trial_length, self.dependent, self.p1_choices)

    def act(self) -> np.ndarray:
        return np.array([self.solver.act_counts(s, f) for s, f in zip(self.successes, self.failures, strict=True)])
