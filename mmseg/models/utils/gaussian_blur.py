"""Gaussian blur with the arithmetic of kornia 0.5 ``GaussianBlur2d``, which the reference used.

kornia 0.5.8: a float32 1-D kernel ``exp(-x² / (2σ²))`` normalised to sum 1 per axis, their outer
product as one 2-D kernel (rows: ``kernel_size[0]``), reflect padding of ``k // 2`` on each side
and one depthwise ``conv2d``. Today's kornia builds and applies the kernel differently (float
rounding differs), so the reference's operations are restated here.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor


def gaussian_kernel1d(kernel_size: int, sigma: float, device: torch.device) -> Tensor:
    """kornia 0.5 ``get_gaussian_kernel1d``: normalised float32 weights of an odd-sized window."""
    if kernel_size <= 0 or kernel_size % 2 == 0:
        raise ValueError(f'Gaussian blur kernel_size={kernel_size}; expected an odd positive integer')
    x = torch.arange(kernel_size, device=device) - kernel_size // 2
    gauss = torch.exp(-x.pow(2.0) / (2 * sigma ** 2))
    return gauss / gauss.sum()


def gaussian_blur2d(img: Tensor, kernel_size: Tuple[int, int], sigma: Tuple[float, float]) -> Tensor:
    """Blur (B, C, H, W) images with a (kernel_size[0] rows, kernel_size[1] columns) Gaussian, reflect border."""
    kernel_x = gaussian_kernel1d(kernel_size[0], sigma[0], img.device)
    kernel_y = gaussian_kernel1d(kernel_size[1], sigma[1], img.device)
    kernel = torch.matmul(kernel_x.unsqueeze(-1), kernel_y.unsqueeze(-1).t()).to(img)
    channels = img.shape[1]
    height, width = kernel.shape
    padded = F.pad(img, [width // 2, width // 2, height // 2, height // 2], mode='reflect')
    weight = kernel.expand(channels, 1, height, width)
    return F.conv2d(padded, weight, groups=channels)
