"""Photometric distortion of the source-only, target-only and CAug pipelines (mmseg 0.16 ``PhotoMetricDistortion``)."""
from typing import Tuple

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PhotoMetricDistortion(BaseTransform):
    """Brightness, contrast, saturation and hue jitter of a BGR uint8 image, each with probability 0.5.

    Order and draws from numpy's global RNG as the reference: brightness; mode = randint(2);
    contrast if mode == 1; saturation; hue; contrast if mode == 0. Each step draws ``randint(2)``
    and, when on, its parameter. Values are clipped to [0, 255] and truncated to uint8 after
    each step; saturation and hue work in OpenCV HSV (hue in [0, 180)).

    Args:
        brightness_delta: added value in [-delta, delta].
        contrast_range: multiplier range.
        saturation_range: saturation multiplier range.
        hue_delta: hue shift in [-delta, delta) (``np.random.randint``).
    """

    def __init__(self, brightness_delta: int = 32, contrast_range: Tuple[float, float] = (0.5, 1.5),
                 saturation_range: Tuple[float, float] = (0.5, 1.5), hue_delta: int = 18) -> None:
        self.brightness_delta = brightness_delta
        self.contrast_lower, self.contrast_upper = contrast_range
        self.saturation_lower, self.saturation_upper = saturation_range
        self.hue_delta = hue_delta

    @staticmethod
    def convert(img: np.ndarray, alpha: float = 1, beta: float = 0) -> np.ndarray:
        """``clip(img * alpha + beta, 0, 255)`` as uint8."""
        img = img.astype(np.float32) * alpha + beta
        return np.clip(img, 0, 255).astype(np.uint8)

    def brightness(self, img: np.ndarray) -> np.ndarray:
        if np.random.randint(2):
            return self.convert(img, beta=np.random.uniform(-self.brightness_delta, self.brightness_delta))
        return img

    def contrast(self, img: np.ndarray) -> np.ndarray:
        if np.random.randint(2):
            return self.convert(img, alpha=np.random.uniform(self.contrast_lower, self.contrast_upper))
        return img

    def saturation(self, img: np.ndarray) -> np.ndarray:
        if np.random.randint(2):
            img = mmcv.bgr2hsv(img)
            img[:, :, 1] = self.convert(img[:, :, 1],
                                        alpha=np.random.uniform(self.saturation_lower, self.saturation_upper))
            img = mmcv.hsv2bgr(img)
        return img

    def hue(self, img: np.ndarray) -> np.ndarray:
        if np.random.randint(2):
            img = mmcv.bgr2hsv(img)
            img[:, :, 0] = (img[:, :, 0].astype(int) + np.random.randint(-self.hue_delta, self.hue_delta)) % 180
            img = mmcv.hsv2bgr(img)
        return img

    def transform(self, results: dict) -> dict:
        img = self.brightness(results['img'])
        mode = np.random.randint(2)
        if mode == 1:
            img = self.contrast(img)
        img = self.saturation(img)
        img = self.hue(img)
        if mode == 0:
            img = self.contrast(img)
        results['img'] = img
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(brightness_delta={self.brightness_delta}, '
                f'contrast_range=({self.contrast_lower}, {self.contrast_upper}), '
                f'saturation_range=({self.saturation_lower}, {self.saturation_upper}), hue_delta={self.hue_delta})')
