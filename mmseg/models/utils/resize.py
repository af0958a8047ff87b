"""``F.interpolate`` under the name and signature the reference uses everywhere."""
from typing import Optional, Sequence, Union

import torch
import torch.nn.functional as F


def resize(input: torch.Tensor,
           size: Optional[Sequence[int]] = None,
           scale_factor: Optional[Union[float, Sequence[float]]] = None,
           mode: str = 'nearest',
           align_corners: Optional[bool] = None) -> torch.Tensor:
    """Resize a (B, C, H, W) tensor to ``size`` or by ``scale_factor``."""
    if size is not None:
        size = tuple(int(s) for s in size)
    return F.interpolate(input, size, scale_factor, mode, align_corners)
