"""The two-step regression: its regressors on a hand-made trajectory, and the reference learners' textbook signatures
(model-free: reward matters whatever the transition; model-based: the transition flips it), also where the
stay-probability bars confuse them."""

import pandas as pd
import pytest

from rllib_metarl.analysis import two_step, two_step_regression
from rllib_metarl.analysis.two_step_regression import fit_regression, lagged_design
from rllib_metarl.baselines.two_step import ModelBasedAgent, ModelFreeAgent, play_two_step


def test_each_regressor_is_the_signed_choice_of_the_trial_k_back_when_it_was_of_its_kind():
    trials = pd.DataFrame({
        "episode": [0] * 4 + [1] * 3,
        "trial_index": [0, 1, 2, 3, 0, 1, 2],
        "first_stage_action": [1, 0, 0, 1, 0, 1, 1],
        "common": [True, False, True, True, True, True, False],
        "rewarded": [True, True, False, True, False, False, True],
    })  # fmt: skip
    design, choices = lagged_design(trials, lags=2)
    # Trials with two trials before them in their episode: episode 0's trials 2 and 3, episode 1's trial 2.
    assert choices.tolist() == [0, 1, 1] and len(design) == 3
    first = design.iloc[0]  # episode 0, trial 2: lag 1 = trial 1 (action 0, uncommon, rewarded), lag 2 = trial 0
    assert first["uncommon, rewarded lag 1"] == -1 and first["common, rewarded lag 2"] == 1
    assert first.drop(["uncommon, rewarded lag 1", "common, rewarded lag 2"]).abs().sum() == 0
    last = design.iloc[2]  # episode 1, trial 2: lag 1 = trial 1 (action 1, common, unrewarded); never episode 0's
    assert last["common, unrewarded lag 1"] == 1 and last["common, unrewarded lag 2"] == -1
    assert last.abs().sum() == 2


def contrasts_at_lag_1(weights):
    return weights.query("lag == 1").set_index("term").loc[["reward effect", "model-based index"]]


@pytest.mark.parametrize("alpha", [0.5, 0.2])
def test_the_references_come_out_with_their_textbook_signatures(alpha):
    free = fit_regression(play_two_step(ModelFreeAgent(alpha=alpha), None, num_episodes=200, seed=3))
    based = fit_regression(play_two_step(ModelBasedAgent(alpha=alpha), None, num_episodes=200, seed=3))
    assert two_step_regression.signature(free) == "model-free"
    assert two_step_regression.signature(based) == "model-based"
    free_reward, free_interaction = contrasts_at_lag_1(free).itertuples()
    based_reward, based_interaction = contrasts_at_lag_1(based).itertuples()
    assert free_reward.ci95_low > 0 and free_interaction.ci95_low < 0 < free_interaction.ci95_high
    assert based_interaction.ci95_low > 0 and based_reward.ci95_low < 0 < based_reward.ci95_high
    assert set(free["lag"]) == {1, 2, 3, 4, 5} and (free["ci95_low"] <= free["estimate"]).all()


def test_the_regression_tells_apart_what_the_stay_bars_confuse():
    """At alpha 0.2 the model-free learner's stay bars show margins in the model-based direction; its regression shows
    no reward x transition interaction at lag 1."""
    trials = play_two_step(ModelFreeAgent(alpha=0.2), None, num_episodes=200, seed=3)
    bars = two_step.signature(two_step.stay_probabilities(trials))
    assert bars["rewarded_margin"] > 0.05 and bars["unrewarded_margin"] > 0.05
    _, interaction = contrasts_at_lag_1(fit_regression(trials)).itertuples()
    assert interaction.ci95_low < 0 < interaction.ci95_high
