"""DeepLabV3+'s head (``DepthwiseSeparableASPPHead``), as DAFormer's ``deeplabv3plus_r50-d8.py``.

Image pooling and ASPP branches (depthwise-separable for dilation > 1) on the input level, a 3x3 bottleneck, then the
decoder: the bottleneck output upsampled to the level-0 map and concatenated with its 1x1 projection
(``c1_bottleneck``), two depthwise-separable 3x3 convs and the classifier. DAFormer's experiments 1 and 2 run it
without decoder BN (``*_nodbn``: ``norm_cfg=None``, the convs then have a bias).
"""
from typing import List, Sequence

import torch
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
from torch import nn

from mmseg.registry import MODELS
from ..utils.aspp import aspp_forward, aspp_modules
from ..utils.resize import resize
from .decode_head import BaseDecodeHead


@MODELS.register_module()
class DepthwiseSeparableASPPHead(BaseDecodeHead):
    """Args: ``dilations`` of the ASPP branches, ``c1_in_channels`` / ``c1_channels`` of the level-0 projection
    (``c1_in_channels=0``: no decoder skip)."""

    def __init__(self, c1_in_channels: int, c1_channels: int, dilations: Sequence[int] = (1, 6, 12, 18), **kwargs):
        super().__init__(**kwargs)
        if c1_in_channels < 0:
            raise ValueError(f'DepthwiseSeparableASPPHead: c1_in_channels={c1_in_channels} must be >= 0')
        self.dilations = dilations
        for name, module in aspp_modules(self.in_channels, self.channels, dilations, pool=True,
                                         norm_cfg=self.norm_cfg, act_cfg=self.act_cfg, separable=True).items():
            self.add_module(name, module)
        self.c1_bottleneck = ConvModule(c1_in_channels, c1_channels, 1, conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg,
                                        act_cfg=self.act_cfg) if c1_in_channels > 0 else None
        sep_conv = dict(kernel_size=3, padding=1, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.sep_bottleneck = nn.Sequential(
            DepthwiseSeparableConvModule(self.channels + c1_channels, self.channels, **sep_conv),
            DepthwiseSeparableConvModule(self.channels, self.channels, **sep_conv))

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        x = self._transform_inputs(inputs)
        output = aspp_forward(x, self.image_pool, self.aspp_modules, self.bottleneck, self.align_corners)
        if self.c1_bottleneck is not None:
            c1_output = self.c1_bottleneck(inputs[0])
            output = resize(output, size=c1_output.shape[2:], mode='bilinear', align_corners=self.align_corners)
            output = torch.cat([output, c1_output], dim=1)
        return self.cls_seg(self.sep_bottleneck(output))
