"""Packing of a pipeline result into model inputs and a ``SegDataSample`` (mmseg 1.x ``PackSegInputs``)."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import PixelData

from mmseg.registry import TRANSFORMS
from mmseg.structures import SegDataSample
from .depth_loading import DEPTH_MAP
from .valid_pseudo_mask import VALID_PSEUDO_MASK

DEFAULT_META_KEYS = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'scale_factor', 'flip',
                     'flip_direction')


@TRANSFORMS.register_module()
class PackSegInputs(BaseTransform):
    """``dict(inputs=(3, H, W) tensor, data_samples=SegDataSample)``.

    The image stays BGR uint8 (HWC → CHW, contiguous): normalisation and padding happen in the
    model's ``SegDataPreProcessor`` on the device. ``gt_seg_map`` becomes ``gt_sem_seg`` (1, H, W)
    int64 when present, ``valid_pseudo_mask`` (``GenerateValidPseudoMask``) the sample's
    ``valid_pseudo_mask`` (1, H, W) uint8, ``gt_depth_map`` (``LoadDepthMap``, CDDA) the sample's
    ``gt_depth_map`` (1, H, W) float32; the ``meta_keys`` present in the result become the
    sample's metainfo.

    Args:
        meta_keys: result keys copied into the metainfo.
    """

    def __init__(self, meta_keys: Sequence[str] = DEFAULT_META_KEYS) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim == 2:
            img = img[:, :, None]
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        data_sample = SegDataSample()
        if 'gt_seg_map' in results:
            gt = np.ascontiguousarray(results['gt_seg_map'][None].astype(np.int64))
            data_sample.gt_sem_seg = PixelData(data=torch.from_numpy(gt))
        if VALID_PSEUDO_MASK in results:
            mask = np.ascontiguousarray(results[VALID_PSEUDO_MASK][None].astype(np.uint8))
            data_sample.set_field(PixelData(data=torch.from_numpy(mask)), VALID_PSEUDO_MASK)
        if DEPTH_MAP in results:
            depth = np.ascontiguousarray(results[DEPTH_MAP][None].astype(np.float32))
            data_sample.set_field(PixelData(data=torch.from_numpy(depth)), DEPTH_MAP)
        data_sample.set_metainfo({key: results[key] for key in self.meta_keys if key in results})
        return dict(inputs=inputs, data_samples=data_sample)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(meta_keys={self.meta_keys})'
