"""UPerNet's head (pyramid pooling on the last level + FPN), as DAFormer's ``upernet_mit.py`` (channels 512) and
``upernet_ch256_mit.py`` (channels 256) of the decoder study (experiment 6).

Train mode needs a batch of at least 2: the pool-scale-1 branch gives BatchNorm a 1x1 map (as the reference).
"""
from typing import List, Optional, Sequence

import torch
from mmcv.cnn import ConvModule
from torch import nn

from mmseg.registry import MODELS
from ..utils.resize import resize
from .decode_head import BaseDecodeHead


class PPM(nn.ModuleList):
    """Pyramid pooling: per scale an adaptive average pool and a 1x1 ConvModule, upsampled back to the input."""

    def __init__(self, pool_scales: Sequence[int], in_channels: int, channels: int, conv_cfg: Optional[dict],
                 norm_cfg: Optional[dict], act_cfg: Optional[dict], align_corners: bool):
        super().__init__()
        self.align_corners = align_corners
        for pool_scale in pool_scales:
            self.append(nn.Sequential(
                nn.AdaptiveAvgPool2d(pool_scale),
                ConvModule(in_channels, channels, 1, conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)))

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        return [resize(ppm(x), size=x.shape[2:], mode='bilinear', align_corners=self.align_corners) for ppm in self]


@MODELS.register_module()
class UPerHead(BaseDecodeHead):
    """``pool_scales`` of the pyramid pooling; reads every level of ``in_index``."""

    def __init__(self, pool_scales: Sequence[int] = (1, 2, 3, 6), **kwargs):
        super().__init__(input_transform='multiple_select', **kwargs)
        conv = dict(conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.psp_modules = PPM(pool_scales, self.in_channels[-1], self.channels, align_corners=self.align_corners,
                               **conv)
        self.bottleneck = ConvModule(self.in_channels[-1] + len(pool_scales) * self.channels, self.channels, 3,
                                     padding=1, **conv)
        self.lateral_convs = nn.ModuleList()
        self.fpn_convs = nn.ModuleList()
        for in_channels in self.in_channels[:-1]:
            self.lateral_convs.append(ConvModule(in_channels, self.channels, 1, inplace=False, **conv))
            self.fpn_convs.append(ConvModule(self.channels, self.channels, 3, padding=1, inplace=False, **conv))
        self.fpn_bottleneck = ConvModule(len(self.in_channels) * self.channels, self.channels, 3, padding=1, **conv)

    def psp_forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bottleneck(torch.cat([x, *self.psp_modules(x)], dim=1))

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        inputs = self._transform_inputs(inputs)
        laterals = [conv(inputs[i]) for i, conv in enumerate(self.lateral_convs)]
        laterals.append(self.psp_forward(inputs[-1]))
        for i in range(len(laterals) - 1, 0, -1):  # top-down
            laterals[i - 1] = laterals[i - 1] + resize(laterals[i], size=laterals[i - 1].shape[2:], mode='bilinear',
                                                       align_corners=self.align_corners)
        outs = [self.fpn_convs[i](laterals[i]) for i in range(len(laterals) - 1)] + [laterals[-1]]
        outs = [outs[0]] + [resize(out, size=outs[0].shape[2:], mode='bilinear', align_corners=self.align_corners)
                            for out in outs[1:]]
        return self.cls_seg(self.fpn_bottleneck(torch.cat(outs, dim=1)))
