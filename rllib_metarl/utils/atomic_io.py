"""Files written whole or not at all: an interrupted run never leaves a half-written one."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write atomically, so that an interrupted run never leaves a half-written file."""
    partial = path.with_suffix(path.suffix + ".partial")
    frame.to_csv(partial, index=False)
    partial.replace(path)


def write_text(text: str, path: Path) -> None:
    """Write atomically, as :func:`write_csv` does."""
    partial = path.with_suffix(path.suffix + ".partial")
    partial.write_text(text)
    partial.replace(path)
