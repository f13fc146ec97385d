"""Files are written whole or not at all, and a full disk is answered with one line that names the file."""

import errno
import os
from pathlib import Path

import pandas as pd
import pytest

from rllib_metarl.cli.main import exit_code
from rllib_metarl.utils import atomic_io
from rllib_metarl.utils.atomic_io import append_line, disk_error_message, write_csv, write_text


def test_disk_errors_are_named_in_one_line_and_others_are_not_taken_for_them():
    full = OSError(errno.ENOSPC, "No space left on device", "/data/run/summary.csv")
    assert disk_error_message(full) == "No space left on device writing /data/run/summary.csv"
    assert disk_error_message(OSError(errno.EROFS, "Read-only file system")) == "Read-only file system"
    assert disk_error_message(OSError(errno.ECONNREFUSED, "Connection refused")) is None


def test_an_atomic_write_that_fails_keeps_the_old_file_and_leaves_no_partial_one(tmp_path, monkeypatch):
    target = tmp_path / "summary.csv"
    write_text("old\n", target)

    def full_disk(self, *args, **kwargs):
        Path(args[0]).write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full_disk)
    with pytest.raises(OSError):
        write_csv(pd.DataFrame({"a": [1]}), target)
    assert target.read_text() == "old\n" and list(tmp_path.iterdir()) == [target]


def cut_short_by_a_full_disk(monkeypatch):
    """``os.write`` in atomic_io writes the first three bytes it is given, then finds the disk full."""
    real_write = os.write

    def write(descriptor, data):
        real_write(descriptor, bytes(data[:3]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic_io.os, "write", write)


def test_an_append_cut_short_leaves_the_lines_before_whole_and_the_next_append_on_its_own_line(tmp_path, monkeypatch):
    results = tmp_path / "results.jsonl"
    append_line(results, '{"a": 1}')
    with monkeypatch.context() as patch:
        cut_short_by_a_full_disk(patch)
        with pytest.raises(OSError):
            append_line(results, '{"b": 2}')
    assert results.read_text() == '{"a": 1}\n'
    append_line(results, '{"c": 3}')
    assert results.read_text().splitlines() == ['{"a": 1}', '{"c": 3}']


def test_a_command_whose_disk_is_full_exits_1_with_one_line_and_other_errors_are_not_hidden(tmp_path, monkeypatch,
                                                                                            capsys):  # fmt: skip
    results = tmp_path / "results.jsonl"
    append_line(results, "kept")
    cut_short_by_a_full_disk(monkeypatch)

    def full(argv):
        append_line(results, "lost")

    def broken(argv):
        raise OSError(errno.ECONNREFUSED, "Connection refused")

    assert exit_code(full) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: No space left on device writing {results};")
    assert results.read_text() == "kept\n"
    with pytest.raises(OSError, match="Connection refused"):
        exit_code(broken)
    assert exit_code(lambda argv: pd.DataFrame()) == 0 and exit_code(lambda argv: 3) == 3
