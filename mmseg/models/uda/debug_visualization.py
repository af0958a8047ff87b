"""The DACS debug panel (spec §5.6): one PNG per batch image in ``<work_dir>/class_mix_debug``, and with an
HRDA student the grid of its branch inputs and predictions (``*_s.png``).

Panels (top / bottom): source / target image, source label / target pseudo-label, mixed image / domain mask,
pseudo-label weight / mixed label, and, when the feature distance ran, FD mask / label at feature scale (the
reference leaves this column blank without FD; here it is left out). Every figure is titled with the iteration
and the batch image, every panel says what it shows, label panels share a legend of the classes they contain,
and weights, masks and attention maps have a colour bar. Drawing uses matplotlib's Agg canvas on a standalone
``Figure`` (no pyplot state) and draws no random numbers. When the run has a TensorBoard backend, the panels are
also sent there as images (``debug/class_mix_<j>``, ``debug/hrda_<j>``) at the iteration.
"""
import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from mmengine.visualization import TensorboardVisBackend, Visualizer
from torch import Tensor

from mmseg.datasets.cityscapes import CITYSCAPES_CLASSES, CITYSCAPES_PALETTE
from mmseg.utils.label_images import atomic_path, colorize
from mmseg.utils.result_plots import class_legend_handles
from ..utils.dacs_transforms import denorm

DEBUG_SUBDIR = 'class_mix_debug'
PANEL_ROWS = 2
PANEL_INCHES = 3
LEGEND_INCHES = 1.8
TITLE_INCHES = 0.4
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
    return colorize(_label_ids(label), DEBUG_PALETTE)


def _label_ids(label: Tensor) -> np.ndarray:
    return label.detach().cpu().reshape(label.shape[-2:]).numpy()


def _image(img: Tensor, mean: Tensor, std: Tensor) -> np.ndarray:
    """Normalised 3 x H x W image to H x W x 3 in [0, 1]."""
    return torch.clamp(denorm(img.detach().float(), mean, std), 0, 1).permute(1, 2, 0).cpu().numpy()


def _map(values: Tensor) -> np.ndarray:
    """H x W (or 1 x H x W) mask or weight as a float H x W array."""
    return values.detach().float().cpu().reshape(values.shape[-2:]).numpy()


def _show(ax: Axes, img: Optional[np.ndarray], title: str, colour_bar: bool = False, **kwargs) -> None:
    """``img`` on ``ax`` titled ``title``; with ``colour_bar`` a colour bar of its values beside it."""
    if img is None:
        return
    image = ax.imshow(img, **kwargs)
    ax.set_title(title, fontsize='medium')
    if colour_bar:
        ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.02)


def _new_panel(rows: int, cols: int, title: str) -> Tuple[Figure, np.ndarray]:
    """A figure of ``rows`` x ``cols`` panels of :data:`PANEL_INCHES` with ``title`` on top and room for the
    class legend on the right, and its axes array."""
    width, height = PANEL_INCHES * cols + LEGEND_INCHES, PANEL_INCHES * rows + TITLE_INCHES
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    axs = fig.subplots(rows, cols, squeeze=False,
                       gridspec_kw=dict(hspace=0.15, wspace=0.05, top=1 - TITLE_INCHES * 1.6 / height, bottom=0.01,
                                        left=0.005, right=1 - LEGEND_INCHES / width))
    fig.suptitle(title, fontsize='large')
    for ax in axs.flat:
        ax.axis('off')
    return fig, axs


def _add_legend(fig: Figure, labels: Sequence[np.ndarray], classes: Sequence[str]) -> None:
    """The legend of the classes that occur in ``labels`` (ids outside the classes are left out)."""
    present = np.unique(np.concatenate([np.unique(label) for label in labels])) if labels else []
    handles = class_legend_handles(present, classes, DEBUG_PALETTE)
    if handles:
        fig.legend(handles=handles, loc='center right', fontsize='small', frameon=False, title='classes')


def _send_to_tensorboard(fig: Figure, tag: str, step: int) -> None:
    """The drawn figure as an image to every TensorBoard backend of the current visualizer (none: nothing)."""
    if not Visualizer._instance_dict:  # no runner has built a visualizer (unit use)
        return
    backends = [b for b in Visualizer.get_current_instance()._vis_backends.values()
                if isinstance(b, TensorboardVisBackend)]
    if not backends:
        return
    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    for backend in backends:
        backend.add_image(tag, rgb, step=step)


def _save_panel(fig: Figure, path: str) -> str:
    """``fig`` as a PNG written to a temporary file next to ``path``, then renamed over it."""
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
                          gt_rescaled: Optional[Tensor] = None,
                          classes: Sequence[str] = CITYSCAPES_CLASSES) -> List[str]:
    """Write ``<work_dir>/class_mix_debug/{local_iter+1:06d}_{j}.png`` for each batch image j.

    Images are B x 3 x H x W normalised with ``mean``/``std`` (B x 3 x 1 x 1); ``gt``,
    ``mixed_label`` B x 1 x H x W; ``pseudo_label``, ``pseudo_weight`` B x H x W; ``mix_masks``
    one 1 x 1 x H x W mask per image; ``fdist_mask``, ``gt_rescaled`` B x 1 x h x w or None (then the
    figure has 4 columns instead of 5); ``classes`` name the label ids in the legend.
    Returns the written paths.
    """
    out_dir = os.path.join(work_dir, DEBUG_SUBDIR)
    os.makedirs(out_dir, exist_ok=True)
    with_fd = fdist_mask is not None or gt_rescaled is not None
    paths = []
    for j in range(img.shape[0]):
        fig, axs = _new_panel(PANEL_ROWS, 5 if with_fd else 4,
                              f'DACS iteration {local_iter + 1}, batch image {j}: source, target and their mix')
        labels = [_label_ids(gt[j]), _label_ids(pseudo_label[j]), _label_ids(mixed_label[j])]
        _show(axs[0][0], _image(img[j], mean[j], std[j]), 'Source image')
        _show(axs[1][0], _image(target_img[j], mean[j], std[j]), 'Target image')
        _show(axs[0][1], colorize_label(gt[j]), 'Source label (GT)')
        _show(axs[1][1], colorize_label(pseudo_label[j]), 'Target pseudo-label (teacher)')
        _show(axs[0][2], _image(mixed_img[j], mean[j], std[j]), 'Mixed image')
        _show(axs[1][2], _map(mix_masks[j][0]), 'Domain mask (white: source)', cmap='gray', vmin=0, vmax=1)
        _show(axs[0][3], _map(pseudo_weight[j]), 'Pseudo-label weight', colour_bar=True, vmin=0, vmax=1)
        _show(axs[1][3], colorize_label(mixed_label[j]), 'Mixed label')
        if with_fd:
            _show(axs[0][4], None if fdist_mask is None else _map(fdist_mask[j]), 'FD mask (thing classes)',
                  cmap='gray', vmin=0, vmax=1)
            if gt_rescaled is not None:
                _show(axs[1][4], colorize_label(gt_rescaled[j]), 'Source label at feature scale')
                labels.append(_label_ids(gt_rescaled[j]))
        _add_legend(fig, labels, classes)
        paths.append(_save_panel(fig, os.path.join(out_dir, f'{local_iter + 1:06d}_{j}.png')))
        _send_to_tensorboard(fig, f'debug/class_mix_{j}', local_iter + 1)
    return paths


@torch.no_grad()
def write_hrda_debug_grid(work_dir: str, local_iter: int, outputs: Dict[str, Dict[str, Tensor]], mean: Tensor,
                          std: Tensor, classes: Sequence[str] = CITYSCAPES_CLASSES) -> List[str]:
    """Write ``<work_dir>/class_mix_debug/{local_iter+1:06d}_{j}_s.png`` for each batch image j.

    ``outputs`` maps a row name (Source, Target, Mix) to an HRDA ``debug_output``: images B x 3 x H x W
    (normalised with ``mean``/``std``, B x 3 x 1 x 1), label maps B x H x W, attention B x 1 x H x W
    in [0, 1] (drawn with a colour bar). The grid has one row per entry and as many columns as the longest row.
    Returns the paths.
    """
    out_dir = os.path.join(work_dir, DEBUG_SUBDIR)
    os.makedirs(out_dir, exist_ok=True)
    mean, std = mean.cpu(), std.cpu()
    rows, cols = len(outputs), max(len(row) for row in outputs.values())
    batch_size = next(iter(next(iter(outputs.values())).values())).shape[0]
    paths = []
    for j in range(batch_size):
        fig, axs = _new_panel(rows, cols, f'HRDA iteration {local_iter + 1}, batch image {j}: branch inputs, '
                                          'predictions and scale attention')
        labels = []
        for r, (row_name, row) in enumerate(outputs.items()):
            for c, (name, out) in enumerate(row.items()):
                title = f'{row_name} {name}'
                if out.dim() == 4 and out.shape[1] == 3:
                    _show(axs[r][c], _image(out[j], mean[j], std[j]), title)
                elif out.dim() == 3:
                    labels.append(_label_ids(out[j]))
                    _show(axs[r][c], colorize_label(out[j]), title)
                else:
                    _show(axs[r][c], _map(out[j]), title, colour_bar=True, cmap='gray', vmin=0, vmax=1)
        _add_legend(fig, labels, classes)
        paths.append(_save_panel(fig, os.path.join(out_dir, f'{local_iter + 1:06d}_{j}_s.png')))
        _send_to_tensorboard(fig, f'debug/hrda_{j}', local_iter + 1)
    return paths
