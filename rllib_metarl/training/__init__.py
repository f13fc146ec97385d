"""Training: presets, the RLlib config, the env runner, callbacks, Ray start-up, Tune wiring and the runner."""
