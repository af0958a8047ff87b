"""SegFormer's all-MLP decoder ("MLP all" in DAFormer's tables), as DAFormer's ``segformer_head.py``.

The base class still owns a ``conv_seg`` (channels → classes) that this head never uses; it stays in
the state dict, as in the reference.
"""
from typing import List

import torch
from mmcv.cnn import ConvModule
from torch import nn

from mmseg.registry import MODELS
from ..utils.resize import resize
from ..utils.token_mlp import MLP
from .decode_head import BaseDecodeHead


@MODELS.register_module()
class SegFormerHead(BaseDecodeHead):
    """``decoder_params``: ``embed_dim`` (per-level linear width) and ``conv_kernel_size`` of the fusion."""

    def __init__(self, **kwargs):
        super().__init__(input_transform='multiple_select', **kwargs)
        embed_dim = kwargs['decoder_params']['embed_dim']
        kernel_size = kwargs['decoder_params']['conv_kernel_size']
        self.linear_c = nn.ModuleDict(
            {str(i): MLP(input_dim=c, embed_dim=embed_dim)
             for i, c in zip(self.in_index, self.in_channels)})
        self.linear_fuse = ConvModule(embed_dim * len(self.in_index), embed_dim, kernel_size=kernel_size,
                                      padding=0 if kernel_size == 1 else kernel_size // 2,
                                      norm_cfg=kwargs['norm_cfg'])
        self.linear_pred = nn.Conv2d(embed_dim, self.num_classes, kernel_size=1)

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        n = inputs[-1].shape[0]
        embedded = []
        for i in self.in_index:
            c = self.linear_c[str(i)](inputs[i]).permute(0, 2, 1).contiguous()
            c = c.reshape(n, -1, inputs[i].shape[2], inputs[i].shape[3])
            if i != 0:
                c = resize(c, size=inputs[0].shape[2:], mode='bilinear', align_corners=False)
            embedded.append(c)
        x = self.linear_fuse(torch.cat(embedded, dim=1))
        if self.dropout is not None:
            x = self.dropout(x)
        return self.linear_pred(x)
