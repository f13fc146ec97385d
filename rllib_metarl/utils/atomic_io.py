"""Files written whole or not at all: an interrupted run or a full disk never leaves a half-written one; and the
one-line message for an error of the disk."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

# Errors of the disk, not of the program: answered with one line, not a traceback.
DISK_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)


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


def append_line(path: Path, line: str) -> None:
    """Append ``line`` and a newline whole or not at all: a write cut short (full disk, interruption) is cut back off
    the file, so the lines before stay readable and the next append starts on a line of its own."""
    data = (line + "\n").encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        start = os.lseek(descriptor, 0, os.SEEK_END)
        try:
            written = 0
            while written < len(data):
                written += os.write(descriptor, data[written:])
        except BaseException as error:
            os.ftruncate(descriptor, start)
            if isinstance(error, OSError) and error.filename is None:
                error.filename = str(path)  # os.write names no file; the one-line message should
            raise
    finally:
        os.close(descriptor)


def disk_error_message(error: OSError) -> str | None:
    """One line for an error of the disk (full, read-only, not permitted), naming the file; None for other errors."""
    if error.errno not in DISK_ERRNOS:
        return None
    where = f" writing {error.filename}" if error.filename else ""
    return f"{os.strerror(error.errno)}{where}"
