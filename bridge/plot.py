"""A picture of a per-layer check: relative error of every layer's output,
in graph order, on a log scale, with the tolerance and the first divergence
marked (people see where a curve jumps faster than they read 500 rows).
Needs matplotlib: pip install 'keras-onnx-bridge[plot]'.
"""
from __future__ import annotations

import os
import tempfile

from .errors import DependencyError, OptionError

FLOOR = 1e-12   # where exact layers (error 0) are drawn on the log scale


def plot_layers(report, path, title: str = "") -> None:
    """Write `report`'s layer rows (check(..., layers=True)) as a PNG (or
    any format matplotlib knows from the file name) at `path`."""
    if report.layers is None:
        raise OptionError("the report has no layer rows: check with layers=True (--layers)")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise DependencyError("a plot of the layer errors needs matplotlib: pip install "
                              "'keras-onnx-bridge[plot]' (or pip install matplotlib)") from None
    rows = [r for r in report.layers if r.compared]
    n = len(report.layers)
    fig, ax = plt.subplots(figsize=(min(16.0, max(6.0, n / 30)), 3.6))
    ax.plot([r.index for r in rows], [max(r.rel, FLOOR) for r in rows], lw=0.7, color="0.6")
    groups = [("within tolerance", "tab:blue", [r for r in rows if r.rel <= report.rtol]),
              ("above, from its inputs", "tab:olive",
               [r for r in rows if r.rel > report.rtol and r.passed]),
              ("diverges", "tab:red", [r for r in rows if not r.passed])]
    for label, color, group in groups:
        if group:
            ax.scatter([r.index for r in group], [max(r.rel, FLOOR) for r in group], s=7,
                       color=color, label=label, zorder=3)
    ax.axhline(report.rtol, color="tab:red", ls="--", lw=0.8, label=f"tolerance {report.rtol:g}")
    first = report.first_diverging_row
    if first is not None:
        ax.axvline(first.index, color="tab:orange", lw=0.8)
        left = first.index > n / 2        # keep the label inside the picture
        ax.annotate(f"{first.path} ({first.class_name})", (first.index, max(first.rel, FLOOR)),
                    textcoords="offset points", xytext=(-6 if left else 6, 6), fontsize=8,
                    color="tab:orange", ha="right" if left else "left")
    ax.set_yscale("log")
    ax.set_xlim(0, n + 1)
    ax.set_xlabel("layer, in graph order")
    ax.set_ylabel("||onnx - keras|| / ||keras||")
    head = title or "error by layer"
    ax.set_title(f"{head}: " + (f"first divergence {first.path}" if first else "no layer diverges"),
                 fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    path = os.fspath(path)
    ext = os.path.splitext(path)[1] or ".png"
    fd, tmp = tempfile.mkstemp(prefix=".bridge-", suffix=ext, dir=os.path.dirname(os.path.abspath(path)))
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
