"""Depth maps of CDDA (spec ebda-cdda-ddb §2.2): file names, loading with the reference transform, padding.

A depth map is an 8-bit single-channel PNG of Depth Anything V2 (relative inverse depth, per image
min-max to 0..255, near = bright). At load time every value d becomes ``floor(255·exp(−6d/256))``
(computed in float32 and truncated through uint8 as the reference), so far pixels get fine bins and
near ones a few coarse bins; the 256 integer values are CDDA's depth bins. The map then follows the
image through the geometric transforms only: bilinear resize to the image's size (values become
non-integer), the image's crop and flip, padding with 255. A bin is ``long(depth)`` (truncation).
"""
import os.path as osp
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from mmcv.transforms import BaseTransform

from mmseg.registry import TRANSFORMS

#: The results key of the depth map (float32, H x W) and the data-sample field ``PackSegInputs`` packs it into.
DEPTH_MAP = 'gt_depth_map'
#: The results key of the depth file path (set by the data set from ``data_prefix['depth_path']``).
DEPTH_PATH = 'depth_path'
#: Padding value of depth maps (the segmentation pad value of the reference's ``Pad``).
DEPTH_PAD_VALUE = 255
#: Number of depth bins (the integer values of the transformed 8-bit map).
DEPTH_BINS = 256
#: File-name layouts of the reference's ``depth_type``: Cityscapes (0) replaces ``leftImg8bit`` by ``depth``,
#: GTA (1) and SYNTHIA (2) keep the image's name.
DEPTH_LAYOUTS = ('cityscapes', 'same_name')


def depth_file_name(img_name: str, layout: str) -> str:
    """The depth file of an image, relative to the depth folder, from the image's path relative to its folder.

    ``'cityscapes'``: ``aachen/aachen_000000_000019_leftImg8bit.png`` → ``aachen/aachen_000000_000019_depth.png``
    (the reference replaces ``leftImg8bit`` in the whole path); ``'same_name'``: the image's name (GTA, SYNTHIA).
    """
    if layout == 'cityscapes':
        return img_name.replace('leftImg8bit', 'depth')
    if layout == 'same_name':
        return img_name
    raise ValueError(f'depth layout {layout!r}; expected one of {DEPTH_LAYOUTS}')


def transform_depth(raw: np.ndarray) -> np.ndarray:
    """``floor(255·exp(−6·d/256))`` of raw PNG values ``d`` as float32 (reference: float32 math, uint8
    truncation)."""
    d = raw.astype(np.float32)
    return (np.exp(-6 * (d / 256)) * 255).astype(np.uint8).astype(np.float32)


#: :func:`transform_depth` of the 256 values of an 8-bit map (0 → 255, 255 → 0).
DEPTH_LUT = transform_depth(np.arange(256, dtype=np.uint8))


def read_depth_png(path: str, legacy_16bit: bool = False) -> np.ndarray:
    """The raw values (H x W) of a depth PNG: 8-bit single-channel or 3 equal channels (Depth Anything's
    ``--grayscale`` output). A 16-bit map is an error unless ``legacy_16bit`` (the reference reads it and the
    transform maps every value >= 255 to 0)."""
    raw = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if raw is None:
        reason = 'it does not exist' if not osp.isfile(path) else 'it is not a readable image'
        raise FileNotFoundError(f'depth map {path!r} cannot be read: {reason} (make the depth maps with '
                                '`python tools/make_depth_maps.py DATA_DIR` or download the CDDA authors\' maps)')
    if raw.ndim == 3:
        if raw.shape[2] >= 3 and not (np.array_equal(raw[..., 0], raw[..., 1])
                                      and np.array_equal(raw[..., 0], raw[..., 2])):
            raise ValueError(f'depth map {path!r} is a colour image; expected a grey 8-bit map '
                             '(Depth Anything V2 run with --grayscale, or tools/make_depth_maps.py)')
        raw = raw[..., 0]
    if raw.dtype != np.uint8:
        if raw.dtype == np.uint16 and legacy_16bit:
            return raw
        raise ValueError(f'depth map {path!r} has dtype {raw.dtype}; expected an 8-bit PNG (0..255, near = bright). '
                         'The reference reads 16-bit maps too, and its transform maps every value >= 255 to 0; '
                         'LoadDepthMap(legacy_16bit=True) keeps that')
    return raw


@TRANSFORMS.register_module()
class LoadDepthMap(BaseTransform):
    """Read ``results['depth_path']`` into ``results['gt_depth_map']`` (float32, H x W, reference transform).

    Put it after ``LoadImageFromFile``: the map must have the loaded image's size (an error names both
    files). ``Resize`` (bilinear), ``RandomCrop`` and ``RandomFlip`` carry it with the image, photometric
    transforms leave it alone, ``PackSegInputs`` packs it as the sample's ``gt_depth_map`` (1 x H x W).

    Args:
        legacy_16bit: accept 16-bit maps as the reference (they collapse to 0); by default an error.
    """

    def __init__(self, legacy_16bit: bool = False) -> None:
        self.legacy_16bit = legacy_16bit

    def transform(self, results: dict) -> dict:
        path = results.get(DEPTH_PATH)
        if path is None:
            raise KeyError(f'LoadDepthMap: sample {results.get("img_path")!r} has no depth_path; give the data set '
                           "data_prefix=dict(..., depth_path='depth_any/...')")
        raw = read_depth_png(path, self.legacy_16bit)
        ori_shape = results.get('ori_shape')
        if ori_shape is not None and tuple(raw.shape) != tuple(ori_shape[:2]):
            raise ValueError(f'LoadDepthMap: depth map {path!r} is {raw.shape[0]}x{raw.shape[1]} (HxW) but image '
                             f'{results.get("img_path")!r} is {ori_shape[0]}x{ori_shape[1]}; a depth map must have '
                             'the size of its image')
        results[DEPTH_MAP] = DEPTH_LUT[raw] if raw.dtype == np.uint8 else transform_depth(raw)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(legacy_16bit={self.legacy_16bit})'


def pad_depth(depth: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
    """``depth`` (..., H, W) padded at the bottom and right to ``size`` (H, W) with 255 (reference ``Pad``)."""
    h, w = depth.shape[-2:]
    if h > size[0] or w > size[1]:
        raise ValueError(f'depth map of size {(h, w)} is larger than the padded size {tuple(size)}')
    return F.pad(depth, (0, size[1] - w, 0, size[0] - h), value=DEPTH_PAD_VALUE)


def batch_depth_maps(data_samples: Sequence, size: Tuple[int, int]) -> Optional[torch.Tensor]:
    """The samples' ``gt_depth_map`` (1 x h x w each) padded to ``size`` and stacked to B x H x W, or None
    when no sample carries one."""
    carried = [DEPTH_MAP in sample for sample in data_samples]
    if not any(carried):
        return None
    if not all(carried):
        raise ValueError('only some samples of the batch carry a gt_depth_map (LoadDepthMap in the pipeline)')
    return torch.stack([pad_depth(getattr(sample, DEPTH_MAP).data[0], size) for sample in data_samples])
