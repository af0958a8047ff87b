"""The DACS debug panel (spec §5.6): one 2 x 5 PNG per batch image in ``<work_dir>/class_mix_debug``,
and with an HRDA student the grid of its branch inputs and predictions (``*_s.png``).

Columns (top / bottom): source / target image, source GT / pseudo-label, mixed image / domain
mask, pseudo weight (colour range 0-1) / mixed label, FD mask / downscaled GT. The FD panels stay
blank when their inputs are None, as in the reference. Drawing uses matplotlib's Agg canvas on a
standalone ``Figure`` (no pyplot state) and draws no random numbers.
"""
import os
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import Tensor

from mmseg.datasets.cityscapes import CITYSCAPES_PALETTE
from mmseg.utils.label_images import atomic_path, colorize
from ..utils.dacs_transforms import denorm

DEBUG_SUBDIR = 'class_mix_debug'
PANEL_ROWS, PANEL_COLS = 2, 5
PANEL_INCHES = 3
PANEL_DPI = 100


def _voc_colour(index: int) -> List[int]:
    """Colour ``index`` of the standard PASCAL VOC colour map (bits of the index spread over R, G, B)."""
    rgb = [0, 0, 0]
    for bit in range(8):
        for channel in range(3):
            rgb[channel] |= ((index >> (3 * bit + channel)) & 1) << (7 - bit)
    return rgb


def _debug_palette() -> np.ndarray:
    """256 x 3 uint8: the Cityscapes colours, the VOC colour map for ids 19..254, black for 255."""
    palette = [list(c) for c in CITYSCAPES_PALETTE]
    palette += [_voc_colour(i) for i in range(len(palette), 255)]
    palette.append([0, 0, 0])
    return np.asarray(palette, dtype=np.uint8)


DEBUG_PALETTE = _debug_palette()


def colorize_label(label: Tensor) -> np.ndarray:
    """H x W (or 1 x H x W) label map to an H x W x 3 uint8 image with :data:`DEBUG_PALETTE`."""
    return colorize(label.detach().cpu().reshape(label.shape[-2:]).numpy(), DEBUG_PALETTE)


def _image(img: Tensor, mean: Tensor, std: Tensor) -> np.ndarray:
    """Normalised 3 x H x W image to H x W x 3 in [0, 1]."""
    return torch.clamp(denorm(img.detach().float(), mean, std), 0, 1).permute(1, 2, 0).cpu().numpy()


def _map(values: Tensor) -> np.ndarray:
    """H x W (or 1 x H x W) mask or weight as a float H x W array."""
    return values.detach().float().cpu().reshape(values.shape[-2:]).numpy()


def _show(ax: Axes, img: Optional[np.ndarray], title: str, **kwargs) -> None:
    if img is not None:
        ax.imshow(img, **kwargs)
        ax.set_title(title)


def _new_panel(rows: int, cols: int) -> Tuple[Figure, np.ndarray]:
    """A figure of ``rows`` x ``cols`` panels of :data:`PANEL_INCHES` and its axes array."""
    fig = Figure(figsize=(PANEL_INCHES * cols, PANEL_INCHES * rows))
    FigureCanvasAgg(fig)
    axs = fig.subplots(rows, cols, squeeze=False,
                       gridspec_kw=dict(hspace=0.1, wspace=0, top=0.95, bottom=0, right=1, left=0))
    return fig, axs


def _save_panel(fig: Figure, axs: np.ndarray, path: str) -> str:
    """``fig`` without axes as a PNG written to a temporary file next to ``path``, then renamed over it."""
    for ax in axs.flat:
        ax.axis('off')
    tmp = atomic_path(path)
    try:
        fig.savefig(tmp, format='png', dpi=PANEL_DPI)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


@torch.no_grad()
def write_class_mix_debug(work_dir: str, local_iter: int, img: Tensor, target_img: Tensor, mixed_img: Tensor,
                          mean: Tensor, std: Tensor, gt: Tensor, pseudo_label: Tensor, mix_masks: List[Tensor],
                          pseudo_weight: Tensor, mixed_label: Tensor, fdist_mask: Optional[Tensor] = None,
                          gt_rescaled: Optional[Tensor] = None) -> List[str]:
    """Write ``<work_dir>/class_mix_debug/{local_iter+1:06d}_{j}.png`` for each batch image j.

    Images are B x 3 x H x W normalised with ``mean``/``std`` (B x 3 x 1 x 1); ``gt``,
    ``mixed_label`` B x 1 x H x W; ``pseudo_label``, ``pseudo_weight`` B x H x W; ``mix_masks``
    one 1 x 1 x H x W mask per image; ``fdist_mask``, ``gt_rescaled`` B x 1 x h x w or None.
    Returns the written paths.
    """
    out_dir = os.path.join(work_dir, DEBUG_SUBDIR)
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for j in range(img.shape[0]):
        fig, axs = _new_panel(PANEL_ROWS, PANEL_COLS)
        _show(axs[0][0], _image(img[j], mean[j], std[j]), 'Source Image')
        _show(axs[1][0], _image(target_img[j], mean[j], std[j]), 'Target Image')
        _show(axs[0][1], colorize_label(gt[j]), 'Source Seg GT')
        _show(axs[1][1], colorize_label(pseudo_label[j]), 'Target Seg (Pseudo) GT')
        _show(axs[0][2], _image(mixed_img[j], mean[j], std[j]), 'Mixed Image')
        _show(axs[1][2], _map(mix_masks[j][0]), 'Domain Mask', cmap='gray')
        _show(axs[0][3], _map(pseudo_weight[j]), 'Pseudo W.', vmin=0, vmax=1)
        _show(axs[1][3], colorize_label(mixed_label[j]), 'Seg Targ')
        _show(axs[0][4], None if fdist_mask is None else _map(fdist_mask[j]), 'FDist Mask', cmap='gray')
        _show(axs[1][4], None if gt_rescaled is None else colorize_label(gt_rescaled[j]), 'Scaled GT')
        paths.append(_save_panel(fig, axs, os.path.join(out_dir, f'{local_iter + 1:06d}_{j}.png')))
    return paths


@torch.no_grad()
def write_hrda_debug_grid(work_dir: str, local_iter: int, outputs: Dict[str, Dict[str, Tensor]], mean: Tensor,
                          std: Tensor) -> List[str]:
    """Write ``<work_dir>/class_mix_debug/{local_iter+1:06d}_{j}_s.png`` for each batch image j.

    ``outputs`` maps a row name (Source, Target, Mix) to an HRDA ``debug_output``: images B x 3 x H x W
    (normalised with ``mean``/``std``, B x 3 x 1 x 1), label maps B x H x W, attention B x 1 x H x W
    in [0, 1]. The grid has one row per entry and as many columns as the longest row. Returns the paths.
    """
    out_dir = os.path.join(work_dir, DEBUG_SUBDIR)
    os.makedirs(out_dir, exist_ok=True)
    mean, std = mean.cpu(), std.cpu()
    rows, cols = len(outputs), max(len(row) for row in outputs.values())
    batch_size = next(iter(next(iter(outputs.values())).values())).shape[0]
    paths = []
    for j in range(batch_size):
        fig, axs = _new_panel(rows, cols)
        for r, (row_name, row) in enumerate(outputs.items()):
            for c, (name, out) in enumerate(row.items()):
                title = f'{row_name} {name}'
                if out.dim() == 4 and out.shape[1] == 3:
                    _show(axs[r][c], _image(out[j], mean[j], std[j]), title)
                elif out.dim() == 3:
                    _show(axs[r][c], colorize_label(out[j]), title)
                else:
                    _show(axs[r][c], _map(out[j]), title, cmap='gray', vmin=0, vmax=1)
        paths.append(_save_panel(fig, axs, os.path.join(out_dir, f'{local_iter + 1:06d}_{j}_s.png')))
    return paths
