"""Figure pieces shared by the result plots (``tools/synth_benchmark.py``, ``tools/analyze_results.py``), the
debug panels and ``show_result_pyplot``: atomic PNG writing, per-class IoU bars, a class legend (matplotlib's Agg
canvas, no pyplot)."""
import math
import os
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from mmseg.utils.label_images import atomic_path


def save_figure(fig: Figure, path: Path) -> None:
    """Write a figure as PNG atomically."""
    FigureCanvasAgg(fig)
    tmp = atomic_path(path)
    try:
        fig.savefig(tmp, format='png', dpi=100)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def plot_per_class_iou(ax: Axes, classes: Sequence[str], series: Dict[str, Sequence[Optional[float]]],
                       legend_kwargs: Optional[dict] = None) -> None:
    """Grouped bars on ``ax``: one group per class, one bar per series (legend label -> IoU in % per class of
    ``classes``); a missing (None) or NaN IoU is drawn as 0. ``legend_kwargs`` go to ``ax.legend``."""
    width = 0.8 / len(series)
    positions = np.arange(len(classes))
    for k, (label, values) in enumerate(series.items()):
        heights = [0.0 if v is None or math.isnan(v) else v for v in values]
        ax.bar(positions + k * width, heights, width, label=label)
    ax.set_xticks(positions + 0.4 - width / 2, classes, rotation=45, ha='right')
    ax.set_ylabel('IoU (%)')
    ax.legend(**(legend_kwargs or {}))


def class_legend_handles(label_ids: Iterable[int], classes: Sequence[str],
                         palette: Sequence[Sequence[int]]) -> List[Patch]:
    """One legend patch (palette colour, class name) per id of ``label_ids`` below ``len(classes)``, sorted; ids
    outside the class range (255: ignored) are left out."""
    ids = sorted({int(i) for i in label_ids if 0 <= int(i) < len(classes)})
    return [Patch(facecolor=np.asarray(palette[i]) / 255.0, edgecolor='black', linewidth=0.5, label=classes[i])
            for i in ids]


def plot_iou_heatmap(ax: Axes, values: np.ndarray, rows: Sequence[str], columns: Sequence[str]) -> None:
    """``values`` (rows x columns, IoU in %, NaN for none) as a heatmap on ``ax`` with a colour bar, each cell
    written (white on dark cells), NaN cells grey with '-'."""
    cmap = matplotlib.colormaps['viridis'].with_extremes(bad='lightgrey')
    image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0, vmax=100, aspect='auto')
    for (r, c), value in np.ndenumerate(values):
        text = '-' if math.isnan(value) else f'{value:.0f}'
        ax.text(c, r, text, ha='center', va='center', fontsize='small',
                color='white' if not math.isnan(value) and value < 60 else 'black')
    ax.set_xticks(np.arange(len(columns)), columns, rotation=45, ha='right')
    ax.set_yticks(np.arange(len(rows)), rows)
    ax.figure.colorbar(image, ax=ax, label='IoU (%)', fraction=0.03, pad=0.01)
