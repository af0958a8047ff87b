"""Random block masks of MIC (spec §6.1), as the reference ``masking_transforms.py``.

A grid of U(0, 1) values, one cell per ``mask_block_size`` x ``mask_block_size`` block, drawn from
torch's global RNG on the image's device; a block is kept where its value is > ``mask_ratio``
(keep rate 1 - ratio) and the grid is upsampled to the image with nearest interpolation.
Masked pixels become 0 in normalised space, i.e. the dataset-mean colour.

A block size that does not divide the image follows the reference: the grid has
``round(H / block) x round(W / block)`` cells (Python's round, half to even) and the nearest
upsampling stretches them to the image, so the blocks are then not exactly ``block`` pixels.
"""
from typing import Optional

import torch
from torch import Tensor

from .resize import resize

MASK_GENERATOR_TYPES = ('block', )


class BlockMaskGenerator:
    """Args: ``mask_ratio``, the probability to mask a block, in [0, 1); ``mask_block_size``, the
    block side in pixels."""

    def __init__(self, mask_ratio: float, mask_block_size: int):
        if not 0. <= mask_ratio < 1.:
            raise ValueError(f'mask_ratio={mask_ratio}; expected 0 <= mask_ratio < 1')
        if int(mask_block_size) != mask_block_size or mask_block_size < 1:
            raise ValueError(f'mask_block_size={mask_block_size}; expected a positive integer')
        self.mask_ratio = mask_ratio
        self.mask_block_size = int(mask_block_size)

    @torch.no_grad()
    def generate_mask(self, imgs: Tensor) -> Tensor:
        """A float mask (B x 1 x H x W) of ``imgs`` (B x C x H x W): 1 keeps, 0 masks, constant per block."""
        batch_size, _, height, width = imgs.shape
        block = self.mask_block_size
        grid = torch.rand((batch_size, 1, round(height / block), round(width / block)), device=imgs.device)
        return resize((grid > self.mask_ratio).float(), size=(height, width))

    @torch.no_grad()
    def mask_image(self, imgs: Tensor) -> Tensor:
        """``imgs`` times a new mask per image."""
        return imgs * self.generate_mask(imgs)


def build_mask_generator(cfg: Optional[dict]) -> Optional[BlockMaskGenerator]:
    """``dict(type='block', mask_ratio=..., mask_block_size=...)`` → a generator; None → None."""
    if cfg is None:
        return None
    cfg = dict(cfg)
    mask_type = cfg.pop('type', None)
    if mask_type not in MASK_GENERATOR_TYPES:
        raise ValueError(f'mask_generator type={mask_type!r}; expected one of {MASK_GENERATOR_TYPES}')
    return BlockMaskGenerator(**cfg)
