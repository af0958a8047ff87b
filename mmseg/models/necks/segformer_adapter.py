"""Neck of the "context only at F4" decoder variant: replace the last level by upsampled levels."""
from typing import List, Sequence

import torch
from torch import nn

from mmseg.registry import MODELS
from ..utils.resize import resize


@MODELS.register_module()
class SegFormerAdapter(nn.Module):
    """Upsample the levels ``out_layers`` by ``scales`` and put their concatenation in the last slot."""

    def __init__(self, out_layers: Sequence[int] = (3, ), scales: Sequence[int] = (4, )):
        super().__init__()
        if len(out_layers) != len(scales):
            raise ValueError(f'SegFormerAdapter: out_layers {out_layers} and scales {scales} differ in length')
        self.out_layers = list(out_layers)
        self.scales = list(scales)

    def forward(self, x: List[torch.Tensor]) -> List[torch.Tensor]:
        x = list(x)
        upsampled = [x[i] if s == 1 else resize(x[i], scale_factor=s, mode='bilinear', align_corners=False)
                     for i, s in zip(self.out_layers, self.scales)]
        x[-1] = torch.cat(upsampled, dim=1)
        return x
