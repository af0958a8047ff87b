"""Fog and rain renderings of an image with a metric depth map: the synthetic pair's Foggy / Rain Cityscapes.

Fog follows the optical model that Foggy Cityscapes uses (Sakaridis et al., 2018): ``I = R·t + L·(1 − t)`` with
the transmittance ``t = exp(−β·d)`` of a pixel at ``d`` metres and the atmospheric light ``L`` (a constant light
grey here; Foggy Cityscapes estimates it per image). Rain follows the composition of Rain Cityscapes (Hu et al.,
2019, ``I = T·(1 − R − A) + R + A``): the rain accumulation ``A`` is the same veil with the rain's β, and the
streak layer ``R`` is a fixed pattern of thin slanted strokes per ``pattern`` id, their length set by
``dropsize`` and their opacity by ``α``. How the four rain parameters drive the rendering is our choice: Rain
Cityscapes publishes the images, not its renderer. Sky (infinite depth) becomes pure veil.
"""
from functools import lru_cache
from typing import Tuple

import cv2
import numpy as np

# Foggy Cityscapes' attenuation coefficients (1/m), one rendering each.
FOG_BETAS = (0.005, 0.01, 0.02)
# Rain levels (alpha, beta, dropsize) in the Rain Cityscapes file-name format, light to heavy; patterns 1..12.
RAIN_LEVELS = ((0.01, 0.005, 0.01), (0.02, 0.01, 0.005), (0.03, 0.015, 0.002))
RAIN_PATTERNS = 12
ATMOSPHERIC_LIGHT = 220.0  # grey level of the fog / rain veil
STREAK_LIGHT = 235.0  # grey level of the rain streaks
STREAK_ANGLES = np.linspace(-18, 18, RAIN_PATTERNS)  # degrees from vertical, one per pattern


def transmittance(depth: np.ndarray, beta: float) -> np.ndarray:
    """``exp(−β·d)`` (0 where the depth is infinite)."""
    return np.exp(-beta * depth)


def veil(image: np.ndarray, depth: np.ndarray, beta: float) -> np.ndarray:
    """The float image seen through a homogeneous veil: ``I·t + L·(1 − t)``."""
    t = transmittance(depth, beta)[..., None]
    return image.astype(np.float32) * t + ATMOSPHERIC_LIGHT * (1 - t)


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.round(image), 0, 255).astype(np.uint8)


def fog(image: np.ndarray, depth: np.ndarray, beta: float) -> np.ndarray:
    """The uint8 ``image`` (H, W, 3) under fog of attenuation ``beta`` (1/m), ``depth`` (H, W) in metres."""
    return to_uint8(veil(image, depth, beta))


@lru_cache(maxsize=64)
def streak_pattern(pattern: int, dropsize: float, height: int, width: int) -> np.ndarray:
    """The streak layer (H, W) in [0, 1] of a pattern id: the same strokes for every image of that size."""
    rng = np.random.default_rng([pattern, height, width])
    scale = min(height, width)
    length = scale * (0.04 + 10.0 * dropsize)
    thickness = max(1, round(scale / 256))
    angle = np.deg2rad(STREAK_ANGLES[(pattern - 1) % RAIN_PATTERNS])
    dx, dy = length * np.sin(angle), length * np.cos(angle)
    layer = np.zeros((height, width), np.float32)
    for _ in range(height * width // 120):
        x, y = rng.uniform(-dx, width), rng.uniform(-dy, height)
        cv2.line(layer, (int(round(x)), int(round(y))), (int(round(x + dx)), int(round(y + dy))),
                 float(rng.uniform(0.5, 1.0)), thickness, cv2.LINE_AA)
    return np.clip(cv2.GaussianBlur(layer, (0, 0), 0.6 * thickness), 0, 1)


def rain(image: np.ndarray, depth: np.ndarray, alpha: float, beta: float, dropsize: float,
         pattern: int) -> np.ndarray:
    """The uint8 ``image`` under rain: the accumulation veil of ``beta`` and the streaks of ``pattern``, their
    opacity ``min(1, 25·alpha)``."""
    streaks = streak_pattern(pattern, dropsize, *image.shape[:2])[..., None] * min(1.0, 25 * alpha)
    return to_uint8(veil(image, depth, beta) * (1 - streaks) + STREAK_LIGHT * streaks)


def rain_name_part(level: Tuple[float, float, float], pattern: int) -> str:
    """``rain_alpha_<α>_beta_<β>_dropsize_<d>_pattern_<p>`` of a rain rendering."""
    alpha, beta, dropsize = level
    return f'rain_alpha_{alpha:g}_beta_{beta:g}_dropsize_{dropsize:g}_pattern_{pattern}'
