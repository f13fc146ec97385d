"""Two-step task (Daw et al. 2011; Wang et al. 2018): PPO + LSTM under Tune.

python tune_configs/two_step.py                       # Wang et al. 2018's parameters, "two steps in one" input
python tune_configs/two_step.py --input-form full     # two env steps per trial, the one-hot stage as input
python tune_configs/two_step.py --variant 2016
python -m analysis.two_step --experiment ~/ray_results/<name>   # then the stay-probability analysis
"""

from rllib_metarl.tasks.two_step import INPUT_FORMS, TWO_STEP_VARIANTS
from rllib_metarl.training.command_line import EnvOption
from rllib_metarl.training.runner import main

OPTIONS = (
    EnvOption(("--input-form",), "input_form", str, "one env step per trial, or two", INPUT_FORMS),
    EnvOption(
        ("--variant",),
        "variant",
        str,
        "a published variant's parameters",
        tuple(TWO_STEP_VARIANTS),
        expand=lambda name: TWO_STEP_VARIANTS[name],
    ),  # fmt: skip
)

if __name__ == "__main__":
    raise SystemExit(main("two_step", env_options=OPTIONS))
