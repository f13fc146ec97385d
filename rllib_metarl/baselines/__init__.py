"""Reference agents that act through the same env API as the learned ones."""

from rllib_metarl.baselines.bayes_optimal import DependentBayesOptimal, IndependentBayesOptimal, bayes_optimal_return

__all__ = ["DependentBayesOptimal", "IndependentBayesOptimal", "bayes_optimal_return"]
