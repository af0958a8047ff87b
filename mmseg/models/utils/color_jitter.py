"""Colour jitter with the semantics and random draws of kornia 0.5 ``ColorJitter``, which the reference used.

kornia 0.5.8 (the version of the DAFormer / MIC / DDB environments) and today's kornia differ in both
the arithmetic (kornia >= 0.6 multiplies brightness and uses another HSV conversion) and the random
draws, so the reference's operations are restated here and kornia itself is not called:

- parameters (``random_color_jitter_generator``): per sample, one ``torch.rand`` batch each for
  brightness, contrast, **hue, saturation** (in this order), each ``low + u·(high − low)``, then one
  ``torch.randperm(4)`` op order for the whole call; ranges ``[1 − s, 1 + s]`` (brightness clipped
  to [0, 2], contrast and saturation to >= 0) and ``[−s, s]`` for hue;
- operations, applied in ``order`` (0 brightness, 1 contrast, 2 saturation, 3 hue), each clamped
  to [0, 1] where kornia 0.5 clamps: brightness adds ``factor − 1``, contrast multiplies,
  saturation scales S in HSV, hue shifts H by ``factor·2π`` (``fmod``), with kornia 0.5's
  ``rgb_to_hsv`` / ``hsv_to_rgb``.
"""
import math
from typing import Dict, Optional

import torch
from torch import Tensor

ORDER_BRIGHTNESS, ORDER_CONTRAST, ORDER_SATURATION, ORDER_HUE = range(4)


def _uniform(batch: int, low: float, high: float, generator: Optional[torch.Generator],
             device: torch.device) -> Tensor:
    """``torch.distributions.Uniform(low, high).rsample((batch,))`` drawing from ``generator``."""
    low_t = torch.tensor(low, device=device)
    high_t = torch.tensor(high, device=device)
    return low_t + torch.rand((batch, ), generator=generator, device=device) * (high_t - low_t)


def color_jitter_params(batch: int, strength: float, generator: Optional[torch.Generator] = None,
                        device: Optional[torch.device] = None) -> Dict[str, Tensor]:
    """The parameters kornia 0.5 ``ColorJitter(s, s, s, s)`` draws for ``batch`` images (``p=1``).

    Draws from ``generator`` (the global torch RNG if None) on its device (CPU by default), in the
    reference's order, so a seeded run draws the same factors as the reference.
    """
    rng_device = generator.device if generator is not None else torch.device('cpu')
    brightness = _uniform(batch, max(0., 1 - strength), min(2., 1 + strength), generator, rng_device)
    contrast = _uniform(batch, max(0., 1 - strength), 1 + strength, generator, rng_device)
    hue = _uniform(batch, max(-0.5, -strength), min(0.5, strength), generator, rng_device)
    saturation = _uniform(batch, max(0., 1 - strength), 1 + strength, generator, rng_device)
    order = torch.randperm(4, generator=generator, device=rng_device, dtype=torch.float32).long()
    params = dict(brightness_factor=brightness, contrast_factor=contrast, hue_factor=hue,
                  saturation_factor=saturation, order=order)
    return params if device is None else {k: v.to(device) for k, v in params.items()}


def _per_sample(factor: Tensor, img: Tensor) -> Tensor:
    return factor.to(device=img.device, dtype=img.dtype).view(-1, *([1] * (img.dim() - 1)))


def rgb_to_hsv(image: Tensor, eps: float = 1e-6) -> Tensor:
    """kornia 0.5 ``rgb_to_hsv``: H in [0, 2π), S and V in [0, 1], on (B, 3, H, W)."""
    maxc, _ = image.max(-3)
    maxc_mask = image == maxc.unsqueeze(-3)
    _, max_indices = ((maxc_mask.cumsum(-3) == 1) & maxc_mask).max(-3)
    minc = image.min(-3)[0]
    v = maxc
    deltac = maxc - minc
    s = deltac / (v + eps)
    deltac = torch.where(deltac == 0, torch.ones_like(deltac), deltac)
    maxc_tmp = maxc.unsqueeze(-3) - image
    rc, gc, bc = maxc_tmp[..., 0, :, :], maxc_tmp[..., 1, :, :], maxc_tmp[..., 2, :, :]
    h = torch.stack([bc - gc, 2.0 * deltac + rc - bc, 4.0 * deltac + gc - rc], dim=-3)
    h = torch.gather(h, dim=-3, index=max_indices[..., None, :, :]).squeeze(-3)
    h = h / deltac
    h = (h / 6.0) % 1.0
    h = 2 * math.pi * h
    return torch.stack([h, s, v], dim=-3)


def hsv_to_rgb(image: Tensor) -> Tensor:
    """kornia 0.5 ``hsv_to_rgb`` (H in radians)."""
    h = image[..., 0, :, :] / (2 * math.pi)
    s = image[..., 1, :, :]
    v = image[..., 2, :, :]
    hi = torch.floor(h * 6) % 6
    f = ((h * 6) % 6) - hi
    one = torch.tensor(1.0, device=image.device)
    p = v * (one - s)
    q = v * (one - f * s)
    t = v * (one - (one - f) * s)
    hi = hi.long()
    indices = torch.stack([hi, hi + 6, hi + 12], dim=-3)
    out = torch.stack((v, q, p, p, t, v, t, v, v, q, p, p, p, p, t, v, v, q), dim=-3)
    return torch.gather(out, -3, indices)


def adjust_brightness(img: Tensor, factor: Tensor) -> Tensor:
    """Additive brightness (kornia 0.5 ``adjust_brightness(img, factor - 1)`` of ColorJitter), clamped."""
    return torch.clamp(img + _per_sample(factor - 1, img), 0.0, 1.0)


def adjust_contrast(img: Tensor, factor: Tensor) -> Tensor:
    """Multiplicative contrast (kornia 0.5), clamped."""
    return torch.clamp(img * _per_sample(factor, img), 0.0, 1.0)


def adjust_saturation(img: Tensor, factor: Tensor) -> Tensor:
    """Saturation scaled in HSV and clamped to [0, 1] (kornia 0.5)."""
    h, s, v = torch.chunk(rgb_to_hsv(img), chunks=3, dim=-3)
    s = torch.clamp(s * _per_sample(factor, s), min=0, max=1)
    return hsv_to_rgb(torch.cat([h, s, v], dim=-3))


def adjust_hue(img: Tensor, factor: Tensor) -> Tensor:
    """Hue shifted by ``factor·2π`` in HSV, ``fmod 2π`` (kornia 0.5 ColorJitter)."""
    h, s, v = torch.chunk(rgb_to_hsv(img), chunks=3, dim=-3)
    h = torch.fmod(h + _per_sample(factor * 2 * math.pi, h), 2 * math.pi)
    return hsv_to_rgb(torch.cat([h, s, v], dim=-3))


def apply_color_jitter(img: Tensor, params: Dict[str, Tensor]) -> Tensor:
    """kornia 0.5 ``ColorJitter.apply_transform`` of [0, 1] RGB images (B, 3, H, W) with ``params``."""
    operations = {
        ORDER_BRIGHTNESS: lambda x: adjust_brightness(x, params['brightness_factor']),
        ORDER_CONTRAST: lambda x: adjust_contrast(x, params['contrast_factor']),
        ORDER_SATURATION: lambda x: adjust_saturation(x, params['saturation_factor']),
        ORDER_HUE: lambda x: adjust_hue(x, params['hue_factor']),
    }
    for index in params['order'].tolist():
        img = operations[index](img)
    return img
