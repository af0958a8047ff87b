"""``show_result_pyplot`` of mmsegmentation 1.x: a prediction drawn over its image with a legend of the classes
it contains."""
from pathlib import Path
from typing import Optional, Union

import cv2
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import nn

from mmseg.structures import SegDataSample
from mmseg.utils.label_images import overlay, write_image
from mmseg.utils.result_plots import class_legend_handles


def show_result_pyplot(model: nn.Module, img: Union[str, Path, np.ndarray], result: SegDataSample,
                       opacity: float = 0.5, title: str = '', show: bool = True, wait_time: float = 0,
                       out_file: Optional[Union[str, Path]] = None, with_legend: bool = True) -> np.ndarray:
    """Draw ``result.pred_sem_seg`` over ``img`` (a path or a BGR array) with the model's palette, a legend of the
    classes present (``model.dataset_meta``) and ``title``; show it with pyplot when ``show`` (``wait_time``
    seconds, 0: until the window is closed), write it to ``out_file`` when given. Returns the drawing as an
    RGB uint8 array."""
    if isinstance(img, (str, Path)):
        image = cv2.imread(str(img), cv2.IMREAD_COLOR)
        if image is None:
            raise OSError(f'Cannot read image {img}')
    else:
        image = img
    label = result.pred_sem_seg.data[0].cpu().numpy()
    classes, palette = model.dataset_meta['classes'], model.dataset_meta['palette']
    painted = overlay(image, label, palette, opacity)[..., ::-1]
    height, width = label.shape
    legend_width = 2.2 if with_legend else 0.0
    fig = Figure(figsize=(max(width / 100, 3.0) + legend_width, max(height / 100, 2.5) + 0.4), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1 - legend_width / fig.get_figwidth(), 0.92 if title else 1.0))
    ax.imshow(painted)
    ax.axis('off')
    if title:
        fig.suptitle(title, fontsize='medium')
    if with_legend:
        fig.legend(handles=class_legend_handles(np.unique(label), classes, palette), loc='center right',
                   fontsize='small', frameon=False, title='classes')
    canvas.draw()
    drawing = np.asarray(canvas.buffer_rgba())[..., :3].copy()
    if out_file is not None:
        write_image(out_file, drawing[..., ::-1])
    if show:
        import matplotlib.pyplot as plt  # only for the window
        plt.figure(title or 'prediction')
        plt.imshow(drawing)
        plt.axis('off')
        if wait_time > 0:
            plt.pause(wait_time)
            plt.close()
        else:
            plt.show()
    return drawing
