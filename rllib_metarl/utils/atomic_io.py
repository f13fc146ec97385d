"""Files written whole or not at all: an interrupted run or a full disk never leaves a half-written one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """``write(partial)``, then rename the partial file over ``path``; on any failure the partial file is removed
    and ``path`` keeps what it held before."""
    partial = path.with_suffix(path.suffix + ".partial")
    try:
        write(partial)
        partial.replace(path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    write_atomically(path, lambda partial: frame.to_csv(partial, index=False))


def write_text(text: str, path: Path) -> None:
    write_atomically(path, lambda partial: partial.write_text(text))
