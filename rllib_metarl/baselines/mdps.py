"""Classical tabular-RL algorithms of RL^2's Table 2, each playing a batch of trials (one MDP each) at once.

Every policy keeps, per trial, the transition counts and reward sums it has seen, and reads them with the task's own
prior: ``P(.|s, a) ~ Dirichlet(1, ..., 1)`` gives the posterior Dirichlet(1 + counts); ``mu(s, a) ~ N(1, 1)`` with
unit reward noise gives the posterior ``N((1 + sum r) / (1 + n), 1 / (1 + n))``. At the start of every inner episode
a policy plans ``Q[h, s, a]`` for the episode's ``H`` steps by finite-horizon value iteration on some model of the
MDP (which model is what tells the algorithms apart), then acts greedily on it, ties broken at random.

Tuned parameters (``epsilon``, ``num_samples``, ``scale``, ``beta``) are chosen by
:mod:`rllib_metarl.baselines.tuning` on trials disjoint from the held-out ones.
"""

from __future__ import annotations

import numpy as np

from rllib_metarl.baselines.choice import epsilon_mix, random_argmax
from rllib_metarl.utils.validation import validate_fraction, validate_integer
from rllib_metarl.utils.value_iteration import optimal_q_values


class MDPPolicy:
    """Base class: posterior statistics of a batch of trials. Subclasses implement :meth:`plan`."""

    name = "policy"

    def reset(
        self, num_trials: int, num_states: int, num_actions: int, episode_length: int, rng: np.random.Generator
    ) -> None:
        self.transition_counts = np.zeros((num_trials, num_states, num_actions, num_states))
        self.reward_sums = np.zeros((num_trials, num_states, num_actions))
        self.visits = np.zeros((num_trials, num_states, num_actions))
        self.episode_length = episode_length
        self.steps = 0
        self.rng = rng

    def plan(self) -> np.ndarray:
        """``Q[trial, h, s, a]`` for the coming inner episode."""
        raise NotImplementedError

    def begin_episode(self) -> None:
        self.q_values = self.plan()

    def act(self, states: np.ndarray, h: int) -> np.ndarray:
        return random_argmax(self.q_values[np.arange(len(states)), h, states], self.rng)

    def update(
        self, states: np.ndarray, actions: np.ndarray, rewards: np.ndarray, next_states: np.ndarray, episode_done: bool
    ) -> None:
        rows = np.arange(len(states))
        self.visits[rows, states, actions] += 1
        self.reward_sums[rows, states, actions] += rewards
        if not episode_done:  # after the last step the env restarts in state 0: that is no transition of the MDP
            self.transition_counts[rows, states, actions, next_states] += 1
        self.steps += 1

    # -- the posterior ------------------------------------------------------------------------------------------------
    @property
    def mean_transitions(self) -> np.ndarray:
        alpha = self.transition_counts + 1
        return alpha / alpha.sum(axis=-1, keepdims=True)

    @property
    def mean_rewards(self) -> np.ndarray:
        return (1 + self.reward_sums) / (1 + self.visits)

    def sample_mdp(self) -> tuple[np.ndarray, np.ndarray]:
        """One MDP per trial from the posterior: (transitions, mean rewards)."""
        gammas = self.rng.gamma(self.transition_counts + 1)  # Dirichlet draws, batched
        transitions = gammas / gammas.sum(axis=-1, keepdims=True)
        rewards = self.rng.normal(self.mean_rewards, 1 / np.sqrt(1 + self.visits))
        return transitions, rewards


class RandomMDPPolicy(MDPPolicy):
    """Acts uniformly at random: 1 per step in expectation."""

    name = "Random"

    def plan(self) -> np.ndarray:
        return np.zeros((*self.visits.shape[:1], self.episode_length, *self.visits.shape[1:]))


class GreedyMDPPolicy(MDPPolicy):
    """Plans on the posterior-mean MDP (certainty equivalence) and acts on it."""

    name = "Greedy"

    def plan(self) -> np.ndarray:
        return optimal_q_values(self.mean_transitions, self.mean_rewards, self.episode_length)


class EpsilonGreedyMDPPolicy(GreedyMDPPolicy):
    """Greedy, except that with probability ``epsilon`` an action is taken uniformly at random."""

    name = "eps-Greedy"

    def __init__(self, epsilon: float = 0.1):
        self.epsilon = validate_fraction("epsilon", epsilon)

    def act(self, states: np.ndarray, h: int) -> np.ndarray:
        return epsilon_mix(super().act(states, h), self.epsilon, self.visits.shape[-1], self.rng)


class PSRLPolicy(MDPPolicy):
    """Posterior sampling for RL (Strens 2000; Osband et al. 2013): one MDP drawn from the posterior per episode."""

    name = "PSRL"

    def plan(self) -> np.ndarray:
        return optimal_q_values(*self.sample_mdp(), self.episode_length)


class OPSRLPolicy(MDPPolicy):
    """Optimistic posterior sampling: ``num_samples`` posterior MDPs per episode, acting on the largest of their Q."""

    name = "OPSRL"

    def __init__(self, num_samples: int = 5):
        self.num_samples = validate_integer("num_samples", num_samples)

    def plan(self) -> np.ndarray:
        return np.max([optimal_q_values(*self.sample_mdp(), self.episode_length) for _ in range(self.num_samples)], 0)


class UCRL2Policy(MDPPolicy):
    """UCRL2 (Jaksch et al. 2010), episodic: extended value iteration over the confidence set of MDPs.

    Confidence radii after n visits of (s, a), t steps into the trial, with ``delta = 0.1``: rewards
    ``scale * sqrt(7 ln(2 S A t / delta) / (2 n))``, transitions (L1) ``scale * sqrt(14 S ln(2 A t / delta) / n)``.
    The bounds assume rewards in [0, 1]; ours are Gaussian, so ``scale`` is tuned.
    """

    name = "UCRL2"
    delta = 0.1

    def __init__(self, scale: float = 1.0):
        if scale < 0:
            raise ValueError(f"scale must be >= 0, got {scale!r}")
        self.scale = scale

    def plan(self) -> np.ndarray:
        num_states, num_actions = self.visits.shape[1:]
        t = max(self.steps, 1)
        n = np.maximum(self.visits, 1)
        reward_radius = self.scale * np.sqrt(7 * np.log(2 * num_states * num_actions * t / self.delta) / (2 * n))
        transition_radius = self.scale * np.sqrt(14 * num_states * np.log(2 * num_actions * t / self.delta) / n)
        visited = self.visits > 0
        empirical = np.where(
            visited[..., None],
            self.transition_counts / np.maximum(self.transition_counts.sum(-1, keepdims=True), 1),
            1 / num_states,
        )
        empirical_rewards = np.where(visited, self.reward_sums / n, 1.0)  # unvisited: the prior mean
        optimistic_rewards = empirical_rewards + reward_radius
        q_values = np.zeros((len(n), self.episode_length, num_states, num_actions))
        values_next = np.zeros((len(n), num_states))
        for h in range(self.episode_length - 1, -1, -1):
            q_values[:, h] = optimistic_rewards + _optimistic_expectation(empirical, transition_radius, values_next)
            values_next = q_values[:, h].max(axis=-1)
        return q_values


def _optimistic_expectation(empirical: np.ndarray, radius: np.ndarray, values: np.ndarray) -> np.ndarray:
    """max of E_p[values] over p within L1 distance ``radius`` of ``empirical`` (Jaksch et al. 2010, Fig. 2).

    Moves up to radius / 2 of probability onto the best next state, taken from the worst ones first.
    """
    order = np.argsort(-values, axis=-1)  # (trials, S'), best first
    p = np.take_along_axis(empirical, np.broadcast_to(order[:, None, None, :], empirical.shape), axis=-1).copy()
    p[..., 0] = np.minimum(1.0, p[..., 0] + radius / 2)
    excess = p.sum(axis=-1) - 1.0
    for j in range(p.shape[-1] - 1, 0, -1):
        taken = np.minimum(excess, p[..., j])
        p[..., j] -= taken
        excess -= taken
    return np.einsum("bsat,bt->bsa", p, np.take_along_axis(values, order, axis=-1))


class BEBPolicy(MDPPolicy):
    """Bayesian exploration bonus (Kolter and Ng 2009): the posterior-mean MDP, rewards ``+ beta / (1 + n(s, a))``."""

    name = "BEB"

    def __init__(self, beta: float = 1.0):
        if beta < 0:
            raise ValueError(f"beta must be >= 0, got {beta!r}")
        self.beta = beta

    def plan(self) -> np.ndarray:
        bonus = self.beta / (1 + self.visits)
        return optimal_q_values(self.mean_transitions, self.mean_rewards + bonus, self.episode_length)
