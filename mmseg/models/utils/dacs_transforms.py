"""ClassMix and the strong augmentation of DACS, as in DAFormer's ``dacs_transforms.py``.

Randomness: every random function takes an optional generator. Without one it draws from the
global RNG the reference used (numpy for the class choice and the blur sigma, torch for the
colour-jitter factors), so seeding random, numpy and torch reproduces the reference's draws exactly.

Reference quirks kept on purpose (spec §5.5, §13.6, §13.7):

- the ClassMix class pool is ``unique()`` of the whole label batch, 255 included;
- colour jitter runs when its draw is *greater* than ``p``, i.e. 80 % of the time for p=0.2;
- colour jitter has kornia-0.5 semantics and draws (additive brightness, HSV saturation and hue, random
  op order; :mod:`~mmseg.models.utils.color_jitter`);
"""
import math
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from .color_jitter import apply_color_jitter, color_jitter_params
from .gaussian_blur import gaussian_blur2d

NumpyRNG = Union[np.random.RandomState, np.random.Generator]


def get_mean_std(img_metas: Sequence[dict], dev: Union[str, torch.device]) -> Tuple[Tensor, Tensor]:
    """Per-image normalisation mean and std from ``img_norm_cfg``, each B x 3 x 1 x 1."""
    mean = torch.stack([torch.as_tensor(m['img_norm_cfg']['mean'], device=dev) for m in img_metas])
    std = torch.stack([torch.as_tensor(m['img_norm_cfg']['std'], device=dev) for m in img_metas])
    return mean.view(-1, 3, 1, 1), std.view(-1, 3, 1, 1)


def denorm(img: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    """Normalised image to [0, 1]: ``(img * std + mean) / 255``."""
    return img.mul(std).add(mean) / 255.0


def denorm_(img: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    """In-place :func:`denorm`; returns ``img``."""
    return img.mul_(std).add_(mean).div_(255.0)


def renorm(img: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    """[0, 1] image to normalised: ``(img * 255 - mean) / std``."""
    return img.mul(255.0).sub(mean).div(std)


def renorm_(img: Tensor, mean: Tensor, std: Tensor) -> Tensor:
    """In-place :func:`renorm`; returns ``img``."""
    return img.mul_(255.0).sub_(mean).div_(std)


def generate_class_mask(label: Tensor, classes: Tensor) -> Tensor:
    """int64 mask (1 x H x W) that is 1 where ``label`` (1 x H x W or H x W) is one of ``classes``.

    ``classes`` are distinct, as :func:`get_class_masks` draws them.
    """
    return torch.isin(label, classes).to(torch.int64).reshape(1, *label.shape[-2:])


def get_class_masks(labels: Tensor, rng: Optional[NumpyRNG] = None) -> List[Tensor]:
    """One ClassMix mask (1 x 1 x H x W) per image of ``labels`` (B x 1 x H x W).

    For each image, half of the classes of the whole batch (rounded up, 255 included) are drawn
    without replacement with ``rng.choice``; ``rng=None`` uses numpy's global RNG as the
    reference, so ``np.random.seed(s)`` reproduces its masks.
    """
    rng = np.random if rng is None else rng
    classes = torch.unique(labels)
    n_classes = classes.shape[0]
    masks = []
    for label in labels:
        choice = rng.choice(n_classes, (n_classes + n_classes % 2) // 2, replace=False)
        chosen = classes[torch.as_tensor(choice, dtype=torch.long, device=classes.device)]
        masks.append(generate_class_mask(label, chosen).unsqueeze(0))
    return masks


def one_mix(mask: Optional[Tensor], data: Optional[Tensor] = None,
            target: Optional[Tensor] = None) -> Tuple[Optional[Tensor], Optional[Tensor]]:
    """Mix a (source, target) pair stacked on dim 0 with ``mask`` (1 x 1 x H x W; 1 takes the source).

    ``data`` is 2 x C x H x W and ``target`` 2 x H x W; the results get a leading batch dim of 1
    (1 x C x H x W and 1 x 1 x H x W). ``mask=None`` returns the inputs unchanged.
    """
    if mask is None:
        return data, target
    if data is not None:
        data = torch.where(mask[0].bool(), data[0], data[1]).unsqueeze(0)
    if target is not None:
        target = torch.where(mask[0].bool(), target[0], target[1]).unsqueeze(0)
    return data, target


def color_jitter(color_jitter: float, mean: Tensor, std: Tensor, data: Optional[Tensor] = None,
                 target: Optional[Tensor] = None, s: float = 0.25, p: float = 0.2,
                 generator: Optional[torch.Generator] = None) -> Tuple[Optional[Tensor], Optional[Tensor]]:
    """Colour jitter of 3-channel normalised images when ``color_jitter > p`` (reference quirk).

    Works on [0, 1] images (denormalise, kornia-0.5 ``ColorJitter(s, s, s, s)``, renormalise; see
    :mod:`~mmseg.models.utils.color_jitter`). Factors are drawn per sample and the op order once
    per call, from ``generator`` (the global torch RNG if None) in the reference's order.
    """
    if data is not None and data.shape[1] == 3 and color_jitter > p:
        params = color_jitter_params(data.shape[0], s, generator, data.device)
        data = apply_color_jitter(denorm(data, mean, std), params)
        renorm_(data, mean, std)
    return data, target


def blur_kernel_size(size: int) -> int:
    """The reference's kernel size for one axis: ceil(0.1·size), minus 1 if even (51 for 512)."""
    k = math.ceil(0.1 * size)
    return int(math.floor(k - 0.5 + k % 2))


def gaussian_blur(blur: float, data: Optional[Tensor] = None, target: Optional[Tensor] = None,
                  rng: Optional[NumpyRNG] = None) -> Tuple[Optional[Tensor], Optional[Tensor]]:
    """Gaussian blur of 3-channel images when ``blur > 0.5``, sigma ~ U(0.15, 1.15) (same in x and y),
    with kornia 0.5's arithmetic (:func:`~mmseg.models.utils.gaussian_blur.gaussian_blur2d`).

    Sigma comes from ``rng.uniform`` (numpy's global RNG if None, as the reference).
    """
    if data is not None and data.shape[1] == 3 and blur > 0.5:
        sigma = float((np.random if rng is None else rng).uniform(0.15, 1.15))
        kernel_size = (blur_kernel_size(data.shape[2]), blur_kernel_size(data.shape[3]))
        data = gaussian_blur2d(data, kernel_size, (sigma, sigma))
    return data, target


def strong_transform(param: dict, data: Optional[Tensor] = None, target: Optional[Tensor] = None,
                     generator: Optional[torch.Generator] = None,
                     rng: Optional[NumpyRNG] = None) -> Tuple[Optional[Tensor], Optional[Tensor]]:
    """Mix, colour jitter, blur, in this order; labels and weights only go through the mix.

    ``param`` has the reference keys ``mix``, ``color_jitter``, ``color_jitter_s``,
    ``color_jitter_p``, ``blur``, ``mean`` and ``std``. ``generator`` drives the jitter factors,
    ``rng`` the blur sigma.
    """
    assert data is not None or target is not None
    data, target = one_mix(param['mix'], data=data, target=target)
    data, target = color_jitter(param['color_jitter'], param['mean'], param['std'], data=data, target=target,
                                s=param['color_jitter_s'], p=param['color_jitter_p'], generator=generator)
    return gaussian_blur(param['blur'], data=data, target=target, rng=rng)
