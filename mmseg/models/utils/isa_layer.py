"""Interlaced sparse self-attention (ISA): shared by ISANet's head (``ISAHead``) and the ISA fusion of DAFormer's
decoder study (``daformer_isa``, :class:`ISALayer`).

A 3x3 input conv, self-attention within the global groups (pixels ``down_factor`` apart), then within the local
``down_factor`` windows, and a 1x1 conv over [attended, input-conv output]. A map whose size is not a multiple of
``down_factor`` is zero-padded (half before, the rest after) and cropped back afterwards, as the reference: the
attention also sees the padded zeros.
"""
import math
from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from torch import nn

from .self_attention_block import SelfAttentionBlock, projection


class ISASelfAttention(SelfAttentionBlock):
    """ISA's attention block: ConvModule keys / queries, scaled softmax, and an output ConvModule."""

    def __init__(self, in_channels: int, channels: int, key_query_num_convs: int, norm_cfg: Optional[dict],
                 act_cfg: Optional[dict]):
        super().__init__(in_channels, channels, key_query_num_convs, key_query_norm=True, matmul_norm=True,
                         norm_cfg=norm_cfg, act_cfg=act_cfg)
        self.output_project = projection(in_channels, in_channels, 1, True, norm_cfg, act_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output_project(super().forward(x))


def isa_modules(in_channels: int, channels: int, isa_channels: int, key_query_num_convs: int,
                norm_cfg: Optional[dict], act_cfg: Optional[dict]) -> Dict[str, nn.Module]:
    """``in_conv``, ``global_relation``, ``local_relation`` and ``out_conv``, in the reference's order."""
    return dict(
        in_conv=ConvModule(in_channels, channels, 3, padding=1, norm_cfg=norm_cfg, act_cfg=act_cfg),
        global_relation=ISASelfAttention(channels, isa_channels, key_query_num_convs, norm_cfg, act_cfg),
        local_relation=ISASelfAttention(channels, isa_channels, key_query_num_convs, norm_cfg, act_cfg),
        out_conv=ConvModule(channels * 2, channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg))


def interlaced_sparse_attention(x: torch.Tensor, global_relation: nn.Module, local_relation: nn.Module,
                                down_factor: Sequence[int]) -> torch.Tensor:
    """Global then local relation on ``x`` (N, C, H, W); padding to a multiple of ``down_factor`` and back."""
    n, c, h, w = x.shape
    loc_h, loc_w = down_factor
    glb_h, glb_w = math.ceil(h / loc_h), math.ceil(w / loc_w)
    pad_h, pad_w = glb_h * loc_h - h, glb_w * loc_w - w
    if pad_h > 0 or pad_w > 0:
        x = F.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))
    x = x.view(n, c, glb_h, loc_h, glb_w, loc_w).permute(0, 3, 5, 1, 2, 4).reshape(-1, c, glb_h, glb_w)
    x = global_relation(x)
    x = x.view(n, loc_h, loc_w, c, glb_h, glb_w).permute(0, 4, 5, 3, 1, 2).reshape(-1, c, loc_h, loc_w)
    x = local_relation(x)
    x = x.view(n, glb_h, glb_w, c, loc_h, loc_w).permute(0, 3, 1, 4, 2, 5)
    x = x.reshape(n, c, glb_h * loc_h, glb_w * loc_w)
    if pad_h > 0 or pad_w > 0:
        x = x[:, :, pad_h // 2:pad_h // 2 + h, pad_w // 2:pad_w // 2 + w]
    return x


class ISALayer(nn.Module):
    """ISA fusion of the DAFormer decoder: ``in_channels`` -> ``channels`` (no classifier)."""

    def __init__(self, in_channels: int, channels: int, isa_channels: int, down_factor: Sequence[int] = (8, 8),
                 key_query_num_convs: int = 2, norm_cfg: Optional[dict] = None,
                 act_cfg: Optional[dict] = dict(type='ReLU')):
        super().__init__()
        self.down_factor = tuple(down_factor)
        for name, module in isa_modules(in_channels, channels, isa_channels, key_query_num_convs, norm_cfg,
                                        act_cfg).items():
            self.add_module(name, module)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.in_conv(x)
        attended = interlaced_sparse_attention(x, self.global_relation, self.local_relation, self.down_factor)
        return self.out_conv(torch.cat([attended, x], dim=1))
