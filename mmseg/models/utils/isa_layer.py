"""Interlaced sparse self-attention (ISA) as a fusion layer, for DAFormer's decoder study (``daformer_isa``).

Structure of mmseg's ISAHead without its classifier: a 3×3 input conv, self-attention within the
global groups (pixels ``down_factor`` apart), then within local ``down_factor`` windows, and a 1×1
conv over [attended, residual]. No golden case covers it.
"""
import math
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from torch import nn


def _projection(in_channels: int, channels: int, num_convs: int, use_conv_module: bool, norm_cfg: Optional[dict],
                act_cfg: Optional[dict]) -> nn.Module:
    if use_conv_module:
        convs = [ConvModule(in_channels if i == 0 else channels, channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)
                 for i in range(num_convs)]
    else:
        convs = [nn.Conv2d(in_channels if i == 0 else channels, channels, 1) for i in range(num_convs)]
    return nn.Sequential(*convs) if len(convs) > 1 else convs[0]


class ISASelfAttention(nn.Module):
    """Non-local block of ISA: key/query ConvModules, plain value conv, scaled softmax, output ConvModule."""

    def __init__(self, in_channels: int, channels: int, key_query_num_convs: int, norm_cfg: Optional[dict],
                 act_cfg: Optional[dict]):
        super().__init__()
        self.channels = channels
        self.key_project = _projection(in_channels, channels, key_query_num_convs, True, norm_cfg, act_cfg)
        self.query_project = _projection(in_channels, channels, key_query_num_convs, True, norm_cfg, act_cfg)
        self.value_project = _projection(in_channels, in_channels, 1, False, norm_cfg, act_cfg)
        self.output_project = _projection(in_channels, in_channels, 1, True, norm_cfg, act_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        query = self.query_project(x).flatten(2).transpose(1, 2)
        key = self.key_project(x).flatten(2)
        value = self.value_project(x).flatten(2).transpose(1, 2)
        sim = F.softmax(self.channels**-.5 * torch.matmul(query, key), dim=-1)
        context = torch.matmul(sim, value).transpose(1, 2).reshape(b, -1, *x.shape[2:])
        return self.output_project(context)


class ISALayer(nn.Module):
    """ISA fusion: ``in_channels`` → ``channels`` with global then local sparse attention."""

    def __init__(self, in_channels: int, channels: int, isa_channels: int, down_factor: Sequence[int] = (8, 8),
                 key_query_num_convs: int = 2, norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = dict(type='ReLU')):
        super().__init__()
        self.down_factor = tuple(down_factor)
        self.in_conv = ConvModule(in_channels, channels, 3, padding=1, norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.global_relation = ISASelfAttention(channels, isa_channels, key_query_num_convs, norm_cfg, act_cfg)
        self.local_relation = ISASelfAttention(channels, isa_channels, key_query_num_convs, norm_cfg, act_cfg)
        self.out_conv = ConvModule(channels * 2, channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.in_conv(x)
        residual = x
        n, c, h, w = x.shape
        loc_h, loc_w = self.down_factor
        glb_h, glb_w = math.ceil(h / loc_h), math.ceil(w / loc_w)
        pad_h, pad_w = glb_h * loc_h - h, glb_w * loc_w - w
        if pad_h > 0 or pad_w > 0:
            x = F.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))
        x = x.view(n, c, glb_h, loc_h, glb_w, loc_w).permute(0, 3, 5, 1, 2, 4).reshape(-1, c, glb_h, glb_w)
        x = self.global_relation(x)
        x = x.view(n, loc_h, loc_w, c, glb_h, glb_w).permute(0, 4, 5, 3, 1, 2).reshape(-1, c, loc_h, loc_w)
        x = self.local_relation(x)
        x = x.view(n, glb_h, glb_w, c, loc_h, loc_w).permute(0, 3, 1, 4, 2, 5)
        x = x.reshape(n, c, glb_h * loc_h, glb_w * loc_w)
        if pad_h > 0 or pad_w > 0:
            x = x[:, :, pad_h // 2:pad_h // 2 + h, pad_w // 2:pad_w // 2 + w]
        return self.out_conv(torch.cat([x, residual], dim=1))
