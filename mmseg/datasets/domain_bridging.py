"""DDB's domain bridging sample (``STDataset.get_bridging`` of the reference, spec ebda-cdda-ddb §3.3).

A bridged image ``x_b = M·x_s + (1 − M)·x_t`` of a normalised source and target crop (3 x H x W), with a mask
``M`` (1 x H x W int64, 1 = source pixel) of one of three modes:

- ``'class'`` (ClassMix, the fine class path): half of the classes of **this** source label (rounded up,
  ``torch.unique``, 255 included when present) drawn without replacement with numpy;
- ``'cut'`` (CutMix, the coarse region path): one box of a fixed area fraction (0.4): ``r_y = exp(u·ln 0.4)``,
  ``r_x = 0.4 / r_y``, size ``round(r·(H, W))``, top-left ``round(((H, W) − size)·u)`` (numpy, half to even);
- ``'zero'``: ``M = 0``, the target crop itself (CKD's student view).

Then, when on, the post-processing of the reference: colour jitter (kornia 0.5 ``ColorJitter(0.2, 0.2, 0.2, 0.2)``
on the de-normalised image) when a Python ``random.uniform`` draw exceeds 0.2, and a Gaussian blur when the next
one exceeds 0.5, sigma ~ numpy U(0.15, 1.15). **Reference quirk** (``st_dataset.py``): the blur's kernel size is
computed after an ``unsqueeze``, from the channel count (→ 1 row) and the image height (→ ``≈ 0.1·H`` columns), so
the blur is horizontal only, ``(1, k(H))``, e.g. (1, 51) at 512x512; ``reference_blur=False`` blurs in 2-D as
DACS does, ``(k(H), k(W))``.

The functions work on any affine image space given its ``mean`` / ``std`` (normalised images as the reference,
or RGB pixel values with mean 0 and std 1, as :class:`~.bridging_dataset.DomainBridgingDataset` calls them).
Random draws come from the global generators (numpy, Python ``random``, torch), in the reference's order, so the
data loader workers, which mmengine seeds, reproduce a run.
"""
import random
from typing import NamedTuple, Optional

import numpy as np
import torch
from torch import Tensor

from mmseg.models.utils.dacs_transforms import blur_kernel_size, color_jitter, generate_class_mask
from mmseg.models.utils.gaussian_blur import gaussian_blur2d

BRIDGING_MODES = ('class', 'cut', 'zero')
CUT_AREA = 0.4  # the fixed box area of the reference's CutMix


class BridgedSample(NamedTuple):
    """``img`` (3 x H x W float, normalised) and ``mask`` (1 x H x W int64, 1 = source pixel)."""
    img: Tensor
    mask: Tensor


def class_mask(label: Tensor) -> Tensor:
    """ClassMix mask of one source label (1 x H x W): half of its classes (rounded up, 255 included), drawn with
    numpy's global RNG (``np.random.choice(n, ceil(n / 2), replace=False)``)."""
    classes = torch.unique(label)
    n_classes = classes.shape[0]
    choice = np.random.choice(n_classes, (n_classes + n_classes % 2) // 2, replace=False)
    chosen = classes[torch.as_tensor(choice, dtype=torch.long, device=classes.device)]
    return generate_class_mask(label, chosen)


def cut_mask(height: int, width: int, area: float = CUT_AREA) -> Tensor:
    """CutMix mask (1 x H x W int64) of one box covering about ``area`` of the crop (numpy's global RNG)."""
    y_props = np.exp(np.random.uniform(low=0.0, high=1.0, size=(1, )) * np.log(area))
    x_props = area / y_props
    sizes = np.round(np.stack([y_props, x_props], axis=1) * np.array((height, width))[None, :])
    positions = np.round((np.array((height, width)) - sizes) * np.random.uniform(low=0.0, high=1.0, size=sizes.shape))
    y0, x0, y1, x1 = (int(v) for v in np.append(positions, positions + sizes, axis=1)[0])
    mask = torch.zeros((1, height, width), dtype=torch.int64)
    mask[0, y0:y1, x0:x1] = 1
    return mask


def bridging_mask(mode: str, source_label: Tensor, area: float = CUT_AREA) -> Tensor:
    """The mask of ``mode`` for a source label (1 x H x W)."""
    if mode == 'class':
        return class_mask(source_label)
    if mode == 'cut':
        return cut_mask(*source_label.shape[-2:], area=area)
    if mode == 'zero':
        return torch.zeros((1, *source_label.shape[-2:]), dtype=torch.int64, device=source_label.device)
    raise ValueError(f'domain bridging mode={mode!r}; expected one of {BRIDGING_MODES}')


def bridging_blur(img: Tensor, sigma: float, reference_blur: bool = True) -> Tensor:
    """Gaussian blur of a 3 x H x W image with kornia 0.5's arithmetic (reflect border): the reference's
    horizontal (1, k(H)) kernel, or with ``reference_blur=False`` DACS's 2-D (k(H), k(W)) one."""
    height, width = img.shape[-2:]
    rows = 1 if reference_blur else blur_kernel_size(height)
    columns = blur_kernel_size(height if reference_blur else width)
    return gaussian_blur2d(img.unsqueeze(0), (rows, columns), (sigma, sigma))[0]


def post_process(img: Tensor, mean: Tensor, std: Tensor, color_jitter_strength: float = 0.2,
                 color_jitter_probability: float = 0.2, blur: bool = True, jitter: bool = True,
                 reference_blur: bool = True) -> Tensor:
    """The reference's colour jitter (``jitter``; applied when a ``random.uniform`` draw exceeds
    ``color_jitter_probability``) and blur (``blur``; when the next draw exceeds 0.5) of a normalised 3 x H x W
    image; ``mean`` / ``std`` are 1 x 3 x 1 x 1."""
    if jitter:
        img, _ = color_jitter(random.uniform(0, 1), mean, std, data=img.unsqueeze(0), s=color_jitter_strength,
                              p=color_jitter_probability)
        img = img[0]
    if blur and random.uniform(0, 1) > 0.5:
        img = bridging_blur(img, float(np.random.uniform(0.15, 1.15)), reference_blur)
    return img


def bridge(source_img: Tensor, source_label: Tensor, target_img: Tensor, mode: str, mean: Optional[Tensor] = None,
           std: Optional[Tensor] = None, post_pmd: bool = True, post_blur: bool = True, area: float = CUT_AREA,
           color_jitter_strength: float = 0.2, color_jitter_probability: float = 0.2,
           reference_blur: bool = True) -> BridgedSample:
    """The bridged sample of a normalised source image, its label (1 x H x W) and a target image (3 x H x W):
    mask of ``mode``, ``mask·source + (1 − mask)·target``, then colour jitter (``post_pmd``) and blur
    (``post_blur``), which need ``mean`` / ``std`` (1 x 3 x 1 x 1) of the normalisation."""
    if source_img.shape != target_img.shape or source_img.shape[-2:] != source_label.shape[-2:]:
        raise ValueError(f'domain bridging needs a source image, source label and target image of one size; got '
                         f'{tuple(source_img.shape)}, {tuple(source_label.shape)} and {tuple(target_img.shape)}')
    mask = bridging_mask(mode, source_label, area)
    img = mask * source_img + (1 - mask) * target_img
    if post_pmd or post_blur:
        if mean is None or std is None:
            raise ValueError('domain bridging post-processing (post_pmd / post_blur) needs the mean and std of the '
                             'image normalisation')
        img = post_process(img, mean, std, color_jitter_strength, color_jitter_probability, blur=post_blur,
                           jitter=post_pmd, reference_blur=reference_blur)
    return BridgedSample(img, mask)
