"""Read the TensorBoard event files Tune writes for each trial back into pandas (no TensorBoard install needed).

from rllib_metarl.analysis.tensorboard import load_scalars
scalars = load_scalars("~/ray_results/eleven_arm-.../PPO_..._seed=0_...")
scalars[scalars.tag == "ray/tune/env_runners/episode_return_mean"]
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
from tensorboardX.proto.event_pb2 import Event  # tensorboardX comes with ray[tune]


def read_events(path: Path) -> Iterator[Event]:
    """The events of one TFRecord file: each record is length (8 bytes), its CRC (4), data, the data's CRC (4)."""
    with open(path, "rb") as records:
        while header := records.read(12):
            if len(header) < 12:
                return  # a record cut off by an interrupted writer
            (length,) = struct.unpack("<Q", header[:8])
            data = records.read(length)
            records.read(4)
            if len(data) < length:
                return
            event = Event()
            event.ParseFromString(data)
            yield event


def load_scalars(trial_dir: str | Path) -> pd.DataFrame:
    """Every scalar in a trial folder's event files: columns ``step``, ``tag``, ``value``."""
    files = sorted(Path(trial_dir).expanduser().glob("events.out.tfevents.*"))
    if not files:
        raise FileNotFoundError(f"{str(trial_dir)!r} has no TensorBoard event files")
    rows = [
        {"step": event.step, "tag": value.tag, "value": value.simple_value}
        for path in files
        for event in read_events(path)
        for value in event.summary.value
        if value.HasField("simple_value")
    ]
    return pd.DataFrame(rows, columns=["step", "tag", "value"])
