"""Batch preparation on the device: BGR→RGB, normalisation, padding, stacking (spec §8.6).

Normalisation comes before padding, so padded image pixels are 0 in normalised space and padded
label pixels are ``seg_pad_val`` (255, ignored), as the reference's Normalize → Pad pipeline.
"""
import math
from typing import List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor
from mmengine.structures import PixelData

from mmseg.registry import MODELS

IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


@MODELS.register_module()
class SegDataPreProcessor(BaseDataPreprocessor):
    """Normalise and pad a list of (3, H, W) images (and their label maps) into one batch.

    Args:
        mean, std: per-channel statistics in RGB order (after ``bgr_to_rgb``).
        bgr_to_rgb: swap channels first (images are read as BGR).
        size: pad every image to this (H, W); else to the largest image of the batch.
        size_divisor: round the padded size up to a multiple of this.
        pad_val, seg_pad_val: values for padded image / label pixels.
    """

    def __init__(self, mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD,
                 bgr_to_rgb: bool = True, size: Optional[Sequence[int]] = None, size_divisor: Optional[int] = None,
                 pad_val: float = 0, seg_pad_val: int = 255):
        super().__init__()
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1), persistent=False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(-1, 1, 1), persistent=False)
        self.bgr_to_rgb = bgr_to_rgb
        self.size = tuple(size) if size is not None else None
        self.size_divisor = size_divisor
        self.pad_val = pad_val
        self.seg_pad_val = seg_pad_val

    def img_norm_cfg(self) -> dict:
        """The reference's ``img_norm_cfg`` meta entry (mean/std in RGB order, ``to_rgb``)."""
        return dict(mean=self.mean.flatten().tolist(), std=self.std.flatten().tolist(), to_rgb=self.bgr_to_rgb)

    def _target_size(self, images: List[torch.Tensor]):
        h = max(img.shape[1] for img in images)
        w = max(img.shape[2] for img in images)
        if self.size is not None:
            if h > self.size[0] or w > self.size[1]:
                raise ValueError(f'SegDataPreProcessor: image of size {(h, w)} is larger than size={self.size}')
            h, w = self.size
        if self.size_divisor:
            h = math.ceil(h / self.size_divisor) * self.size_divisor
            w = math.ceil(w / self.size_divisor) * self.size_divisor
        return h, w

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs: Union[torch.Tensor, List[torch.Tensor]] = data['inputs']
        data_samples = data.get('data_samples')
        images = list(inputs)
        for i, img in enumerate(images):
            if img.dim() != 3 or img.shape[0] != 3:
                raise ValueError(f'SegDataPreProcessor: inputs[{i}] must be a (3, H, W) image, '
                                 f'got shape {tuple(img.shape)}')
        if self.bgr_to_rgb:
            images = [img[[2, 1, 0], ...] for img in images]
        images = [(img.float() - self.mean) / self.std for img in images]
        h, w = self._target_size(images)
        padded = []
        for i, img in enumerate(images):
            pad = (0, w - img.shape[2], 0, h - img.shape[1])
            padded.append(F.pad(img, pad, value=self.pad_val))
            if data_samples is not None:
                sample = data_samples[i]
                sample.set_metainfo(dict(img_shape=tuple(img.shape[1:]), pad_shape=(h, w),
                                         img_norm_cfg=self.img_norm_cfg()))
                if 'gt_sem_seg' in sample:
                    sample.gt_sem_seg = PixelData(data=F.pad(sample.gt_sem_seg.data, pad, value=self.seg_pad_val))
                if 'seg_weight' in sample:
                    sample.seg_weight = PixelData(data=F.pad(sample.seg_weight.data, pad, value=0))
        return dict(inputs=torch.stack(padded, dim=0), data_samples=data_samples)
