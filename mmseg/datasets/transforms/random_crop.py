"""Random crop with the class-ratio retry rule (mmseg 0.16 ``RandomCrop``)."""
from typing import Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mmseg.registry import TRANSFORMS
from .utils import geometric_keys

MAX_CROP_TRIES = 10


@TRANSFORMS.register_module()
class RandomCrop(BaseTransform):
    """Crop ``crop_size`` = (H, W) at a random offset from the image and every label map.

    Offsets are ``np.random.randint(0, margin + 1)`` per axis (H first), with margin =
    max(size − crop, 0), so a smaller image is returned whole. With ``cat_max_ratio`` < 1 the
    box is checked up to 10 times: it is accepted if ``gt_seg_map`` inside it has more than one
    class other than ``ignore_index`` and the largest of them covers less than ``cat_max_ratio`` of
    the non-ignored pixels; after each failed check a new box is drawn, so if all 10 checks fail
    the 11th box is used unchecked. A depth map (``gt_depth_map``) gets the same box; the box is
    recorded as ``results['crop_bbox']`` (y1, y2, x1, x2), which :meth:`crop_to` replays. Randomness
    comes from numpy's global RNG, as the reference (seeded per data-loader worker by mmengine's
    ``worker_init_fn``).

    Args:
        crop_size: (H, W), or one int for both.
        cat_max_ratio: maximum share of the largest class; 1 disables the check.
        ignore_index: label value left out of the class ratio.
    """

    def __init__(self, crop_size: Union[int, Tuple[int, int]], cat_max_ratio: float = 1.0,
                 ignore_index: int = 255) -> None:
        crop_size = (crop_size, crop_size) if isinstance(crop_size, int) else tuple(crop_size)
        if len(crop_size) != 2 or min(crop_size) <= 0:
            raise ValueError(f'RandomCrop: crop_size must be a positive (H, W), got {crop_size}')
        self.crop_size = crop_size
        self.cat_max_ratio = cat_max_ratio
        self.ignore_index = ignore_index

    def crop_bbox(self, img: np.ndarray) -> Tuple[int, int, int, int]:
        """A random (y1, y2, x1, x2) box of ``crop_size`` inside ``img``."""
        margin_h = max(img.shape[0] - self.crop_size[0], 0)
        margin_w = max(img.shape[1] - self.crop_size[1], 0)
        offset_h = np.random.randint(0, margin_h + 1)
        offset_w = np.random.randint(0, margin_w + 1)
        return offset_h, offset_h + self.crop_size[0], offset_w, offset_w + self.crop_size[1]

    @staticmethod
    def crop(img: np.ndarray, bbox: Tuple[int, int, int, int]) -> np.ndarray:
        """``img[y1:y2, x1:x2]``."""
        y1, y2, x1, x2 = bbox
        return img[y1:y2, x1:x2, ...]

    def accepts(self, seg_map: np.ndarray) -> bool:
        """The class-ratio check on a cropped label map."""
        labels, counts = np.unique(seg_map, return_counts=True)
        counts = counts[labels != self.ignore_index]
        return len(counts) > 1 and np.max(counts) / np.sum(counts) < self.cat_max_ratio

    def transform(self, results: dict) -> dict:
        img = results['img']
        bbox = self.crop_bbox(img)
        if self.cat_max_ratio < 1.0:
            if 'gt_seg_map' not in results:
                raise KeyError('RandomCrop with cat_max_ratio < 1 needs gt_seg_map; put LoadAnnotations before it')
            for _ in range(MAX_CROP_TRIES):
                if self.accepts(self.crop(results['gt_seg_map'], bbox)):
                    break
                bbox = self.crop_bbox(img)
        return self.crop_to(results, bbox)

    def crop_to(self, results: dict, bbox: Tuple[int, int, int, int]) -> dict:
        """Cut the image, its label maps and depth map to ``bbox`` and record it as ``crop_bbox``."""
        results['img'] = self.crop(results['img'], bbox)
        results['img_shape'] = results['img'].shape[:2]
        for key in geometric_keys(results):
            results[key] = self.crop(results[key], bbox)
        results['crop_bbox'] = tuple(int(v) for v in bbox)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(crop_size={self.crop_size}, cat_max_ratio={self.cat_max_ratio}, '
                f'ignore_index={self.ignore_index})')
