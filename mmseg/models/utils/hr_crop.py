"""HRDA detail-crop boxes: the random draw, cropping a tensor, and scaling a box (spec §4.1, §4.2).

Boxes are ``(y1, y2, x1, x2)`` in pixels of the full-resolution (scale 1) image.
"""
from typing import Sequence, Tuple

import numpy as np
import torch

Box = Tuple[int, int, int, int]


def get_crop_bbox(img_h: int, img_w: int, crop_size: Sequence[int], divisible: int = 1) -> Box:
    """A random box of ``crop_size`` (H, W) inside an ``img_h`` × ``img_w`` image, as the reference.

    Offsets are ``np.random.randint(0, (margin + 1) // divisible) * divisible`` per axis (H first),
    with numpy's global RNG; the upper bound is exclusive, so for 1024 / 512 / 8 the largest offset
    is 504. An image of exactly the crop size gives the whole image without drawing.
    """
    crop_h, crop_w = crop_size
    if img_h == crop_h and img_w == crop_w:
        return 0, img_h, 0, img_w
    if crop_h > img_h or crop_w > img_w:
        raise ValueError(f'HRDA: hr_crop_size {list(crop_size)} is larger than the training image '
                         f'{img_h}x{img_w}; the detail crop must fit into the training crop')
    margin_h, margin_w = img_h - crop_h, img_w - crop_w
    if (margin_h + 1) // divisible == 0 or (margin_w + 1) // divisible == 0:
        raise ValueError(f'HRDA: no detail-crop offset is a multiple of crop_coord_divisible={divisible} '
                         f'for hr_crop_size {list(crop_size)} in a {img_h}x{img_w} image (margins '
                         f'{margin_h}, {margin_w}); each margin + 1 must be >= crop_coord_divisible')
    offset_h = np.random.randint(0, (margin_h + 1) // divisible) * divisible
    offset_w = np.random.randint(0, (margin_w + 1) // divisible) * divisible
    return offset_h, offset_h + crop_h, offset_w, offset_w + crop_w


def crop(tensor: torch.Tensor, box: Sequence[int]) -> torch.Tensor:
    """The box of the last two dimensions of a 2-, 3- or 4-dimensional tensor."""
    if not 2 <= tensor.dim() <= 4:
        raise ValueError(f'crop: expected a 2-, 3- or 4-dimensional tensor, got {tensor.dim()} dimensions')
    y1, y2, x1, x2 = box
    return tensor[..., y1:y2, x1:x2]


def scale_box(box: Sequence[int], scale: float) -> Box:
    """Each coordinate divided by ``scale`` and truncated to an int (the reference's ``int(v / scale)``)."""
    y1, y2, x1, x2 = box
    return int(y1 / scale), int(y2 / scale), int(x1 / scale), int(x2 / scale)
