"""Keep-ratio resize of the image and its label maps (mmseg 0.16 ``Resize(img_scale, keep_ratio=True)``)."""
from typing import Optional, Tuple

import mmcv
from mmcv.transforms import Resize as MMCVResize

from mmseg.registry import TRANSFORMS
from .depth_loading import DEPTH_MAP
from .utils import seg_field_keys


@TRANSFORMS.register_module()
class Resize(MMCVResize):
    """Resize to ``scale`` = (W, H): with ``keep_ratio`` the image fits inside (long, short) edges.

    The factor is ``s = min(max(scale) / long_side, min(scale) / short_side)`` and the new size
    ``int(x * s + 0.5)`` (``mmcv.imrescale``), e.g. GTA 1914×1052 → 1280×704 at (1280, 720) and
    2560×1407 at (2560, 1440). The image uses ``interpolation`` (bilinear), every label map of
    ``seg_fields`` nearest, each rescaled from its own size as the reference, a depth map (``gt_depth_map``,
CDDA) bilinearly to exactly the resized image's size (its values become non-integer). Sets ``img_shape``,
    ``scale`` and ``scale_factor`` = (new_w / w, new_h / h).

    Args:
        scale: target (W, H), the reference's ``img_scale``.
        keep_ratio: keep the aspect ratio (the reference default); else resize to exactly ``scale``.
        interpolation, backend: image interpolation and resize backend of ``mmcv.imresize``.
        min_size: with ``keep_ratio``, mmseg 0.22's option (DDB's Mapillary pipeline): the short side becomes
            ``max(min(scale), min_size)`` whatever the aspect ratio (None: fit into ``scale``).
    """

    def __init__(self, scale: Tuple[int, int], keep_ratio: bool = True, interpolation: str = 'bilinear',
                 backend: str = 'cv2', min_size: Optional[int] = None) -> None:
        super().__init__(scale=tuple(scale), keep_ratio=keep_ratio, interpolation=interpolation, backend=backend)
        self.min_size = min_size

    def _resize_img(self, results: dict) -> None:
        if self.keep_ratio and self.min_size is not None:  # mmseg 0.22: short side to max(min(scale), min_size)
            h, w = results['img'].shape[:2]
            short = max(min(self.scale), self.min_size)
            results['scale'] = (short * h / w, short) if h > w else (short, short * w / h)
        super()._resize_img(results)

    def _resize_seg(self, results: dict) -> None:
        for key in seg_field_keys(results):
            if self.keep_ratio:
                results[key] = mmcv.imrescale(results[key], results['scale'], interpolation='nearest',
                                              backend=self.backend)
            else:
                results[key] = mmcv.imresize(results[key], results['scale'], interpolation='nearest',
                                             backend=self.backend)

    def transform(self, results: dict) -> dict:
        results = super().transform(results)
        if DEPTH_MAP in results:
            h, w = results['img'].shape[:2]
            results[DEPTH_MAP] = mmcv.imresize(results[DEPTH_MAP], (w, h), interpolation='bilinear',
                                               backend=self.backend)
        return results
