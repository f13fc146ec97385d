"""How every analysis draws: matplotlib without a display, and one way to save a figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display needed
import matplotlib.pyplot as plt  # noqa: E402

DPI = 120


def save_figure(figure: plt.Figure, output: str | Path) -> Path:
    """Lay out, write the PNG and free the figure; return its path."""
    figure.tight_layout()
    figure.savefig(output, dpi=DPI)
    plt.close(figure)
    return Path(output)


__all__ = ["plt", "save_figure"]
