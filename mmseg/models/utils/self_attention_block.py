"""mmseg's self-attention block as its decode heads configure it (ISANet, DANet's position attention).

Keys and queries come from the same map (no downsampling, no output projection of the base block): key / query
projections of ``key_query_num_convs`` 1x1 convs (ConvModules with norm and activation if ``key_query_norm``),
a plain 1x1 value conv that keeps the width, then ``softmax(q·k [· channels^-0.5]) · v``.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from torch import nn


def projection(in_channels: int, channels: int, num_convs: int, use_conv_module: bool, norm_cfg: Optional[dict],
               act_cfg: Optional[dict]) -> nn.Module:
    """``num_convs`` 1x1 convs (ConvModules, or plain convs with bias); a single one is not wrapped."""
    if use_conv_module:
        convs = [ConvModule(in_channels if i == 0 else channels, channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)
                 for i in range(num_convs)]
    else:
        convs = [nn.Conv2d(in_channels if i == 0 else channels, channels, 1) for i in range(num_convs)]
    return nn.Sequential(*convs) if len(convs) > 1 else convs[0]


class SelfAttentionBlock(nn.Module):
    """Non-local attention over all positions of ``x`` (B, ``in_channels``, H, W) -> context of the same shape.

    Args:
        channels: width of keys and queries.
        matmul_norm: scale the similarities by ``channels ** -0.5`` before the softmax.
    """

    def __init__(self, in_channels: int, channels: int, key_query_num_convs: int, key_query_norm: bool,
                 matmul_norm: bool, norm_cfg: Optional[dict] = None, act_cfg: Optional[dict] = None):
        super().__init__()
        self.channels = channels
        self.matmul_norm = matmul_norm
        self.key_project = projection(in_channels, channels, key_query_num_convs, key_query_norm, norm_cfg, act_cfg)
        self.query_project = projection(in_channels, channels, key_query_num_convs, key_query_norm, norm_cfg,
                                        act_cfg)
        self.value_project = projection(in_channels, in_channels, 1, False, norm_cfg, act_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        query = self.query_project(x).flatten(2).transpose(1, 2)
        key = self.key_project(x).flatten(2)
        value = self.value_project(x).flatten(2).transpose(1, 2)
        sim = torch.matmul(query, key)
        if self.matmul_norm:
            sim = self.channels**-.5 * sim
        context = torch.matmul(F.softmax(sim, dim=-1), value)
        return context.transpose(1, 2).reshape(b, -1, *x.shape[2:])
