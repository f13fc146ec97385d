"""The plugin inside your own RLlib code: a standard AlgorithmConfig for a task, changed with RLlib's own builders.

python tune_configs/rllib_config.py                      # eleven_arm, 60 iterations of PPO (about 30 s), a line each
python tune_configs/rllib_config.py --task dependent_easy --iterations 40

``rllib_metarl.algorithm_config(task)`` is the task's preset as an RLlib config, with the plugin's env runner
(whole trials), catalog (memory cores), callbacks (``env_runners/meta/*``) and action-reward-timestep wrapper wired
in; from there it is RLlib's: ``.training(...)``, ``.env_runners(...)``, ``build_algo()`` or ``tune.Tuner``.
Results to expect on eleven_arm: the training return (sampled actions) stays near 7 to 10, random play's level, for
about 25 iterations, then climbs past 15 by about iteration 30 and levels off near 18 (the optimum is 20.55; sampled
actions keep exploring, and the main job's greedy held-out evaluation is the figure to set against it).
"""

import argparse

from rllib_metarl import TASKS, algorithm_config
from rllib_metarl.cli.arguments import positive_int
from rllib_metarl.training.ray_session import start_ray


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=list(TASKS), default="eleven_arm")
    parser.add_argument("--iterations", type=positive_int, default=60)
    args = parser.parse_args(argv)

    print(start_ray(None).describe())  # first: Ray reads its settings when it is imported
    config = algorithm_config(args.task).env_runners(num_envs_per_env_runner=32).debugging(seed=0)  # RLlib's builders
    algo = config.build_algo()
    for _ in range(args.iterations):
        result = algo.train()
        training_return = result["env_runners"]["episode_return_mean"]
        print(f"iteration {result['training_iteration']:3d}  training return {training_return:.3f}", flush=True)
    algo.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
