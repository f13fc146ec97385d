"""Bad command-line input: a clear error naming the value and what is allowed, exit code 2, before Ray starts."""

import importlib.util
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rllib_metarl.cli.arguments import positive_int
from rllib_metarl.tasks.bandits import DEPENDENT_DIFFICULTIES
from rllib_metarl.training.command_line import EnvOption, build_parser, parse_experiment
from rllib_metarl.training.ray_session import local_cpus
from rllib_metarl.training.tune_setup import scheduler

ROOT = Path(__file__).resolve().parents[2]
DEPENDENT_VARIANTS = {d: f"dependent_{d}" for d in DEPENDENT_DIFFICULTIES}


ARMS = EnvOption(("-k", "--k", "--num-arms"), "num_arms", positive_int, "arms")


@pytest.mark.parametrize(
    ("task", "argv", "message"),
    [
        ("eleven_arm", ["--scheduler", "hyperband"], ["invalid choice: 'hyperband'", "asha", "pbt", "fifo"]),
        ("eleven_arm", ["-e", "twelve_arm"], ["invalid choice: 'twelve_arm'", "eleven_arm", "k_armed"]),
        ("eleven_arm", ["--algo", "a3c"], ["invalid choice: 'a3c'", "ppo", "appo", "impala", "a2c"]),
        ("eleven_arm", ["--core", "mamba"], ["invalid choice: 'mamba'", "lstm", "gru", "attention"]),
        ("eleven_arm", ["-n", "0"], "expected a positive integer, got '0'"),
        ("eleven_arm", ["--trial-length", "-3"], "expected a positive integer, got '-3'"),
        ("eleven_arm", ["--lr", "-0.1"], "expected a positive number, got '-0.1'"),
        ("eleven_arm", ["--entropy-coeff", "-0.01"], "argument --entropy-coeff: expected a number >= 0, got '-0.01'"),
        ("k_armed", ["--gamma", "1.01"], "argument --gamma: expected a discount in (0, 1], got '1.01'"),
        ("k_armed", ["--gamma", "0"], "argument --gamma: expected a discount in (0, 1], got '0'"),
        ("k_armed", ["--lr-final", "1e-4"], "a learning-rate decay needs both lr_final and lr_decay_steps"),
        ("eleven_arm", ["--lr", "inf"], "argument --lr: expected a positive number, got 'inf'"),
        ("eleven_arm", ["--stop-return", "nan"], "argument --stop-return: expected a finite number, got 'nan'"),
        ("eleven_arm", ["--set", "gamma=5"], "preset field gamma must be a finite number in (0, 1], got 5.0"),
        ("eleven_arm", ["--set", "lr=inf"], "argument --set: preset field lr takes a finite number, got 'inf'"),
        ("eleven_arm", ["--set", "num_epochs=2.5"], "preset field num_epochs takes an integer, got '2.5'"),
        ("eleven_arm", ["--set", "learning_rate=0.1"], ["unknown preset field 'learning_rate'", "lr", "gamma"]),
        ("eleven_arm", ["--set", "gamma"], "argument --set: expected FIELD=VALUE, got 'gamma'"),
        ("eleven_arm", ["--set", "vf_share_layers=maybe"], "preset field vf_share_layers takes true or false"),
        ("eleven_arm", ["--set", "core=mamba"], "unknown core 'mamba'; allowed: lstm, gru, attention"),
        ("eleven_arm", ["--name", "../elsewhere"], "--name: '../elsewhere' is not an experiment name"),
        ("eleven_arm", ["--name", "/tmp/absolute"], "--name: '/tmp/absolute' is not an experiment name"),
        ("eleven_arm", ["--name", "a/b"], "--name: 'a/b' is not an experiment name"),
        ("eleven_arm", ["--name", ".."], "--name: '..' is not an experiment name"),
        ("eleven_arm", ["--name", "x" * 300], "is 300 bytes long; a folder name takes at most 255"),
        ("eleven_arm", ["-w", "1000"], "-w 1000: a trial takes 1001 CPUs (1 + 1 per remote env runner)"),
        ("eleven_arm", ["--num-samples", "5000"], "--num-samples 5000 is more than 1000 Tune trials"),
        ("eleven_arm", ["--address", "127.0.0.1:1"], "--address: nothing answers at 127.0.0.1:1"),
        ("eleven_arm", ["-n", "100000000"], ["trial_length=100000000: a run would need about", "GiB of memory"]),
        ("harlow", ["--env-arg", "code_size=1000000000"], "harlow with code_size=1000000000: a run would need about"),
        ("tabular_mdp", ["--env-arg", "num_states=100000"], "tabular_mdp with num_states=100000: a run would need"),
        ("k_armed", ["--k", "1000000000"], "k_armed with num_arms=1000000000: a run would need about"),
        ("eleven_arm", ["--eval-trials", "100000000000"], "a run would need about"),
        ("two_step", ["--env-arg", "trial_statistics=7"], "two_step: trial_statistics must be True or False, got 7"),
        (  # the statistics' inputs count: 5,000 pulls of 50 arms fit without them (15 GiB), not with them (30 GiB)
            "k_armed",
            ["--env-arg", "trial_statistics=True", "-n", "5000", "--k", "50"],
            "with trial_statistics=True, trial_length=5000, num_arms=50: a run would need about 30.1 GiB",
        ),  # fmt: skip
        ("k_armed", ["--set", "statistics_head=true"], "statistics_head reads the trial statistics: add --env-arg"),
        ("k_armed", ["--env-arg", "statistics_uncertainty=True"], "k_armed: statistics_uncertainty=True adds to the"),
        ("two_step", ["--env-arg", "redraw_each_episode=7"], "redraw_each_episode must be True or False, got 7"),
        ("harlow", ["--env-arg", "correct_reward=nan"], "correct_reward must be a finite number, got 'nan'"),
        ("restless", ["--env-arg", "p_high=True"], "p_high must be numbers in [0, 1], got (True,)"),
        ("eleven_arm", ["--seed", "-1"], "argument --seed: expected a seed, an integer in [0, 2147483647], got '-1'"),
        ("eleven_arm", ["--seed", "99999999999"], "expected a seed, an integer in [0, 2147483647], got '99999999999'"),
        ("eleven_arm", ["--seed", "1.5"], "expected a seed, an integer in [0, 2147483647], got '1.5'"),
        ("k_armed", ["--lr-decay-steps", "0"], "argument --lr-decay-steps: expected a positive integer, got '0'"),
        (
            "k_armed",
            ["--scheduler", "pbt", "--lr-final", "1e-4", "--lr-decay-steps", "1000"],
            "--scheduler pbt mutates the learning rate itself",
        ),
        ("eleven_arm", ["--entropy-coeff", "nan"], "expected a number >= 0, got 'nan'"),
        ("k_armed", ["--set", "entropy_final=0.001"], "an entropy decay needs both entropy_final and entropy_decay"),
        ("k_armed", ["--set", "entropy_decay_steps=0"], "preset field entropy_decay_steps must be"),
        (
            "k_armed",
            ["--scheduler", "pbt", "--set", "entropy_final=0", "--set", "entropy_decay_steps=1000"],
            "--scheduler pbt mutates the entropy coefficient itself: drop entropy_final and entropy_decay_steps",
        ),
        ("eleven_arm", ["--num-epochs", "0"], "argument --num-epochs: expected a positive integer, got '0'"),
        ("k_armed", ["--attention-window", "2"], "only the attention core reads several steps per token"),
        ("tabular_mdp", ["--core", "lstm", "--attention-window", "2"], "only the attention core reads several steps"),
        ("tabular_mdp", ["--attention-window", "3"], "argument --attention-window: invalid choice: 3"),
        (
            "tabular_mdp",
            ["--core", "gru", "--no-tokenizer"],
            "snail cores may have no tokenizer, got core='gru'",
        ),
        ("tabular_mdp", ["--reward-prediction", "-1"], "argument --reward-prediction: expected a number >= 0"),
        ("eleven_arm", ["-w", "two"], "expected an integer >= 0, got 'two'"),
        ("eleven_arm", ["--init-from", "/no/such/run"], "--init-from: checkpoint '/no/such/run' does not exist"),
        ("eleven_arm", ["--init-from", "/tmp"], "'/tmp' is not an RLlib algorithm checkpoint"),
        (
            "eleven_arm",
            ["--env-arg", "arms=3"],
            "has no parameter 'arms'; allowed: ['trial_length', 'meta', 'task_seed']",
        ),
        ("eleven_arm", ["--env-arg", "oops"], "expected KEY=VALUE, got 'oops'"),
        ("dependent_uniform", ["--difficulty", "extreme"], ["invalid choice: 'extreme'", "uniform", "hard"]),
        ("dependent_uniform", ["--env-arg", "p1_choices=[0.5, 1.5]"], r"p1_choices must lie in [0, 1], got 1.5"),
        ("k_armed", ["--env-arg", "num_arms=1"], "num_arms must be an integer >= 2, got 1"),
        ("k_armed", ["--k", "1"], "num_arms must be an integer >= 2, got 1"),
        ("k_armed", ["--k", "-5"], "argument -k/--k/--num-arms: expected a positive integer, got '-5'"),
        ("tabular_mdp", ["--n", "-2"], "argument -n/--n/--trial-length: expected a positive integer, got '-2'"),
        ("tabular_mdp", ["--env-arg", "num_states=1"], "num_states must be an integer >= 2, got 1"),
        ("eleven_arm", ["--storage-path", "/proc/no/such/place"], "--storage-path '/proc/no/such/place' cannot be"),
        ("eleven_arm", ["--storage-path", "/proc/1"], "--storage-path '/proc/1' is not writable"),
        (
            "eleven_arm",
            ["--scheduler", "pbt", "--num-samples", "1"],
            "--scheduler pbt needs --num-samples of at least 2",
        ),
    ],
)
def test_bad_input_exits_2_naming_the_value(task, argv, message, capsys):
    variants = DEPENDENT_VARIANTS if task.startswith("dependent") else None
    started = time.perf_counter()
    with pytest.raises(SystemExit) as exit_info:
        parse_experiment(task, argv, variants, (ARMS,) if task == "k_armed" else ())
    assert time.perf_counter() - started < 10  # answered at once (an unreachable --address: within its 5 s probe)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert "Traceback" not in error and len(error.strip().splitlines()[-1]) > 0  # argparse's usage, then one line
    for part in [message] if isinstance(message, str) else message:
        assert part in error.strip().splitlines()[-1]


def test_the_papers_n_and_k_set_the_task(tmp_path):
    bandits = parse_experiment("k_armed", ["--n", "100", "--k", "10", "--storage-path", str(tmp_path)], None, (ARMS,))
    assert bandits.env_config == {"trial_length": 100, "num_arms": 10, "meta": True}
    mdps = parse_experiment("tabular_mdp", ["--n", "25", "--storage-path", str(tmp_path)])
    assert mdps.env_config == {"num_episodes": 25, "meta": True}  # n counts inner episodes for MDPs
    assert (mdps.preset.core, mdps.preset.attention_window) == ("attention", 2)  # the preset's, not a flag's default
    assert not mdps.preset.vf_share_layers
    shared = parse_experiment("tabular_mdp", ["--share-core", "--storage-path", str(tmp_path)])
    assert shared.preset.vf_share_layers


def test_good_input_builds_the_experiment(tmp_path):
    experiment = parse_experiment(
        "dependent_uniform",
        ["--difficulty", "hard", "-n", "50", "--no-meta", "--lr", "0.01", "--storage-path", str(tmp_path)],
        DEPENDENT_VARIANTS,
    )
    assert experiment.task == "dependent_hard"
    assert experiment.env_config == {"trial_length": 50, "meta": False, "task_seed": 0}
    assert experiment.preset.lr == 0.01
    assert experiment.preset.entropy_coeff == 0.01  # the preset's
    assert experiment.preset.gamma == 0.9  # the preset's
    assert parse_experiment("eleven_arm", ["--gamma", "1", "--storage-path", str(tmp_path)]).preset.gamma == 1.0
    assert (
        parse_experiment("eleven_arm", ["--entropy-coeff", "0", "--storage-path", str(tmp_path)]).preset.entropy_coeff
        == 0
    )
    assert (experiment.preset.algo, experiment.preset.core) == ("ppo", "lstm")  # the defaults
    assert experiment.path.parent == tmp_path
    assert experiment.concurrent_trials == min(experiment.preset.num_samples, local_cpus())  # resolved once, here


def test_set_reaches_every_preset_field_and_the_older_flags_still_set_theirs(tmp_path):
    argv = ["--set", "gamma=0.99", "--set", "tokenizer_hiddens=32,32", "--set", "stop_return=none",
            "--set", "vf_share_layers=true", "--entropy-coeff", "0.02", "--storage-path", str(tmp_path)]  # fmt: skip
    preset = parse_experiment("eleven_arm", argv).preset
    assert (preset.gamma, preset.tokenizer_hiddens, preset.stop_return) == (0.99, (32, 32), None)
    assert preset.vf_share_layers and preset.entropy_coeff == 0.02
    last_wins = parse_experiment("eleven_arm", ["--lr", "0.1", "--set", "lr=0.2", "--storage-path", str(tmp_path)])
    assert last_wins.preset.lr == 0.2


def test_help_lists_the_daily_flags_and_every_preset_field_with_the_tasks_value():
    help_text = build_parser("eleven_arm").format_help()
    options = [line for line in help_text.splitlines() if line.startswith("  -")]
    assert len(options) <= 20, options
    assert "--entropy-coeff" not in help_text and "--set FIELD=VALUE" in help_text
    assert "entropy_coeff=0.05" in " ".join(help_text.split())  # the eleven-arm preset's value


def test_help_states_each_default_once_and_never_as_none():
    help_text = " ".join(build_parser("eleven_arm").format_help().split())
    assert "(default: None)" not in help_text and "(default: the task's) (default" not in help_text
    assert "learning rate (default: the preset's)" in help_text
    assert "Tune trial scheduler (default: asha)" in help_text


def test_script_rejects_bad_input_before_ray_starts():
    started = time.time()
    result = subprocess.run(
        [sys.executable, str(ROOT / "tune_configs" / "eleven_arm.py"), "--scheduler", "nope"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "invalid choice: 'nope'" in result.stderr
    assert "Traceback" not in result.stderr
    assert "Ray instance" not in result.stdout + result.stderr
    assert time.time() - started < 30


def test_evaluate_command_names_a_missing_checkpoint(tmp_path):
    missing = tmp_path / "checkpoint_000009"
    result = subprocess.run(
        [sys.executable, "-m", "rllib_metarl", "evaluate", str(missing)], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert f"checkpoint '{missing}' does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def run_module(*args):
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, cwd=ROOT)


def fake_checkpoint(root, module_bytes=None):
    checkpoint = root / "checkpoint_000001"
    module_dir = checkpoint / "learner_group" / "learner" / "rl_module" / "default_policy"
    module_dir.mkdir(parents=True)
    if module_bytes is not None:
        (module_dir / "module_state.pt").write_bytes(module_bytes)
    return checkpoint


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--trials", "0"], "expected a positive integer, got '0'"),
        (["--env", "nine_arm"], "invalid choice: 'nine_arm'"),
        (["--env", "eleven_arm", "--env-arg", "trial_length=five"], "trial_length must be a positive integer"),
        (["--env", "eleven_arm", "--env-arg", "arms=2"], "has no parameter 'arms'"),
    ],
)
def test_evaluate_command_rejects_bad_arguments(tmp_path, args, message):
    checkpoint = fake_checkpoint(tmp_path, b"not a torch file")
    result = run_module("rllib_metarl", "evaluate", str(checkpoint), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_evaluate_command_names_a_corrupt_or_wrong_checkpoint(tmp_path):
    corrupt = fake_checkpoint(tmp_path / "corrupt", b"\x00garbage\xff" * 10)
    result = run_module("rllib_metarl", "evaluate", str(corrupt), "--env", "eleven_arm")
    assert result.returncode == 2
    assert f"checkpoint '{corrupt}' cannot be loaded" in result.stderr
    assert "Traceback" not in result.stderr

    not_a_checkpoint = tmp_path / "results"
    not_a_checkpoint.mkdir()
    result = run_module("rllib_metarl", "evaluate", str(not_a_checkpoint), "--env", "eleven_arm")
    assert result.returncode == 2
    assert "is not an RLlib algorithm checkpoint" in result.stderr

    # Without --env the task comes from the Tune trial's params.json; a bare folder has none.
    result = run_module("rllib_metarl", "evaluate", str(corrupt))
    assert result.returncode == 2
    assert "cannot tell which task" in result.stderr


def test_learning_curve_command_names_a_missing_experiment(tmp_path):
    result = run_module("analysis.learning_curve", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "holds no Tune trials" in result.stderr
    assert "Traceback" not in result.stderr


def script_options(script: str) -> tuple[EnvOption, ...]:
    """The env flags a tune_configs script declares (its OPTIONS), loaded without running it."""
    spec = importlib.util.spec_from_file_location(script, ROOT / "tune_configs" / f"{script}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.OPTIONS


@pytest.mark.parametrize(
    ("task", "argv", "message"),
    [
        ("two_step", ["--variant", "2017"], ["invalid choice: '2017'", "2018", "2016"]),
        ("two_step", ["--input-form", "three"], ["invalid choice: 'three'", "two_steps_in_one", "full"]),
        ("two_step", ["--env-arg", "common_prob=1.2"], "common_prob must be in [0, 1], got 1.2"),
        ("restless", ["--volatile-hazard", "1.5"], "expected a probability in [0, 1], got '1.5'"),
        ("restless", ["--regime", "calm"], ["invalid choice: 'calm'", "stable", "volatile", "mixed"]),
        ("harlow", ["--env-arg", "object_pool='validation'"], "object_pool must be one of ('train', 'test')"),
        ("harlow", ["--code-size", "0"], "expected a positive integer, got '0'"),
    ],
)
def test_wang_task_scripts_reject_bad_input(task, argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_experiment(task, argv, None, script_options(task))
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    for part in [message] if isinstance(message, str) else message:
        assert part in error


def test_wang_task_scripts_set_the_task(tmp_path):
    two_step = parse_experiment("two_step", ["--variant", "2016", "--storage-path", str(tmp_path)], None,
                                script_options("two_step"))  # fmt: skip
    assert two_step.env_config == {"common_prob": 0.75, "swap_prob": 0.0, "redraw_each_episode": True,
                                   "num_trials": 20, "meta": True}  # fmt: skip
    argv = ["--regime", "volatile", "--volatile-hazard", "0.1", "-n", "50", "--storage-path", str(tmp_path)]
    restless = parse_experiment("restless", argv, None, script_options("restless"))
    assert restless.env_config == {"trial_length": 50, "regime": "volatile", "volatile_hazard": 0.1, "meta": True}
    harlow = parse_experiment("harlow", ["--n", "8", "--storage-path", str(tmp_path)], None, script_options("harlow"))
    assert harlow.env_config == {"num_trials": 8, "meta": True}


def test_pbt_mutates_the_entropy_coefficient_around_the_presets_or_the_flags(tmp_path):

    for task, flags, centre in (
        ("eleven_arm", [], 0.05),
        ("eleven_arm", ["--algo", "impala"], 0.15),  # the preset's own value for IMPALA
        ("dependent_uniform", ["--entropy-coeff", "0.02"], 0.02),
    ):
        argv = ["--scheduler", "pbt", *flags, "--storage-path", str(tmp_path)]
        experiment = parse_experiment(task, argv)
        mutations = scheduler(experiment)._hyperparam_mutations
        assert mutations["entropy_coeff"] == pytest.approx([0.0, 0.3 * centre, centre, 3 * centre])
        assert experiment.preset.lr_final is None  # PBT mutates the rate: dependent_uniform's decay is dropped


@pytest.mark.parametrize("answer", [b"HTTP/1.0 400 Bad Request\r\n\r\n", None], ids=["http-server", "silent-server"])
def test_an_address_where_something_other_than_ray_answers_is_refused_within_the_probe(answer, capsys):
    server = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def serve():
        connection, _ = server.accept()
        accepted.append(connection)
        if answer is not None:
            connection.recv(64)
            connection.sendall(answer)

    threading.Thread(target=serve, daemon=True).start()
    address = f"127.0.0.1:{server.getsockname()[1]}"
    started = time.perf_counter()
    try:
        with pytest.raises(SystemExit) as exit_info:
            parse_experiment("eleven_arm", ["--address", address])
    finally:
        server.close()
        for connection in accepted:
            connection.close()
    assert exit_info.value.code == 2 and time.perf_counter() - started < 10
    assert f"--address: something other than Ray answers at {address}" in capsys.readouterr().err.splitlines()[-1]
