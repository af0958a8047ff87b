"""Loading of label maps (mmseg 0.16 ``LoadAnnotations``)."""
from typing import Optional

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio

from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadAnnotations(BaseTransform):
    """Read ``results['seg_map_path']`` unchanged (pillow) into ``results['gt_seg_map']`` (H, W) uint8.

    Palette PNGs give their indices, grey PNGs their values, as the reference's
    ``imfrombytes(flag='unchanged', backend='pillow').astype(np.uint8)``. Adds ``gt_seg_map`` to
    ``results['seg_fields']``. Images are loaded by mmcv's ``LoadImageFromFile`` (OpenCV, BGR uint8).

    Args:
        imdecode_backend: ``mmcv.imfrombytes`` backend.
        backend_args: ``mmengine.fileio`` backend arguments.
    """

    def __init__(self, imdecode_backend: str = 'pillow', backend_args: Optional[dict] = None) -> None:
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        path = results.get('seg_map_path')
        if path is None:
            raise KeyError(f'LoadAnnotations: sample {results.get("img_path")!r} has no seg_map_path; the data set '
                           'was built without labels (no seg_map_path in data_prefix), so drop LoadAnnotations')
        label = mmcv.imfrombytes(fileio.get(path, backend_args=self.backend_args), flag='unchanged',
                                 backend=self.imdecode_backend)
        if label.ndim == 3 and label.shape[2] == 1:
            label = label[:, :, 0]
        if label.ndim != 2:
            raise ValueError(f'LoadAnnotations: {path} has shape {label.shape}; expected a single-channel '
                             'train-id label map (run tools/convert_datasets/*.py)')
        results['gt_seg_map'] = label.astype(np.uint8)
        seg_fields = results.setdefault('seg_fields', [])
        if 'gt_seg_map' not in seg_fields:
            seg_fields.append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(imdecode_backend={self.imdecode_backend!r})'
