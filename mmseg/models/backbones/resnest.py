"""ResNeSt (split-attention ResNet) of mmseg 0.16, the S50 / S101 / S200 encoders of DAFormer's encoder study
(experiment 3).

A ResNetV1d (deep stem, average-pool shortcuts) whose bottlenecks replace the 3x3 conv by a split-attention conv
(``radix`` groups of features weighted by a softmax over a pooled summary) and, with ``avg_down_stride``, move the
stride into a 3x3 average pool after it. Key names are those of open-mmlab's ``resnest*_d2`` checkpoints
(``layerN.i.conv2.conv/bn0/fc1/bn1/fc2``). As the reference, the random initialisation does not zero the last norm
of the residual branches (``zero_init_residual`` only knows the plain blocks).
"""
import math

import torch
import torch.nn.functional as F
from mmcv.cnn import build_conv_layer, build_norm_layer
from torch import nn

from mmseg.registry import MODELS
from .resnet import Bottleneck as ResNetBottleneck
from .resnet import ResLayer, ResNetV1d


class RSoftmax(nn.Module):
    """Softmax over the ``radix`` splits of each group (sigmoid for radix 1)."""

    def __init__(self, radix: int, groups: int):
        super().__init__()
        self.radix = radix
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch = x.shape[0]
        if self.radix > 1:
            x = x.view(batch, self.groups, self.radix, -1).transpose(1, 2)
            return F.softmax(x, dim=1).reshape(batch, -1)
        return torch.sigmoid(x)


class SplitAttentionConv2d(nn.Module):
    """Grouped conv to ``radix`` splits (+ norm0, ReLU), their sum pooled, ``fc1`` (+ norm1, ReLU), ``fc2``, r-softmax,
    and the attention-weighted sum of the splits."""

    def __init__(self, in_channels: int, channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 dilation: int = 1, groups: int = 1, radix: int = 2, reduction_factor: int = 4, conv_cfg=None,
                 norm_cfg=dict(type='BN')):
        super().__init__()
        inter_channels = max(in_channels * radix // reduction_factor, 32)
        self.radix = radix
        self.groups = groups
        self.channels = channels
        self.conv = build_conv_layer(conv_cfg, in_channels, channels * radix, kernel_size, stride=stride,
                                     padding=padding, dilation=dilation, groups=groups * radix, bias=False)
        self.norm0_name, norm0 = build_norm_layer(norm_cfg, channels * radix, postfix=0)
        self.add_module(self.norm0_name, norm0)
        self.relu = nn.ReLU(inplace=True)
        self.fc1 = build_conv_layer(None, channels, inter_channels, 1, groups=self.groups)
        self.norm1_name, norm1 = build_norm_layer(norm_cfg, inter_channels, postfix=1)
        self.add_module(self.norm1_name, norm1)
        self.fc2 = build_conv_layer(None, inter_channels, channels * radix, 1, groups=self.groups)
        self.rsoftmax = RSoftmax(radix, groups)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(getattr(self, self.norm0_name)(self.conv(x)))
        batch = x.shape[0]
        if self.radix > 1:
            splits = x.view(batch, self.radix, -1, *x.shape[2:])
            gap = splits.sum(dim=1)
        else:
            gap = x
        gap = F.adaptive_avg_pool2d(gap, 1)
        gap = self.relu(getattr(self, self.norm1_name)(self.fc1(gap)))
        atten = self.rsoftmax(self.fc2(gap)).view(batch, -1, 1, 1)
        if self.radix > 1:
            out = torch.sum(atten.view(batch, self.radix, -1, *atten.shape[2:]) * splits, dim=1)
        else:
            out = atten * x
        return out.contiguous()


class Bottleneck(ResNetBottleneck):
    """ResNet bottleneck with the split-attention 3x3 conv (its norm inside), and the stride in an average pool
    after it when ``avg_down_stride``."""

    def __init__(self, inplanes: int, planes: int, groups: int = 1, base_width: int = 4, base_channels: int = 64,
                 radix: int = 2, reduction_factor: int = 4, avg_down_stride: bool = True, **kwargs):
        super().__init__(inplanes, planes, **kwargs)
        width = self.planes if groups == 1 else math.floor(self.planes * (base_width / base_channels)) * groups
        self.avg_down_stride = avg_down_stride and self.conv2_stride > 1
        self.norm1_name, norm1 = build_norm_layer(self.norm_cfg, width, postfix=1)
        self.norm3_name, norm3 = build_norm_layer(self.norm_cfg, self.planes * self.expansion, postfix=3)
        # Re-assigned modules keep their place in the state dict (conv1, bn1, conv2, conv3, bn3, downsample).
        self.conv1 = build_conv_layer(self.conv_cfg, self.inplanes, width, kernel_size=1, stride=self.conv1_stride,
                                      bias=False)
        self.add_module(self.norm1_name, norm1)
        self.conv2 = SplitAttentionConv2d(width, width, kernel_size=3,
                                          stride=1 if self.avg_down_stride else self.conv2_stride,
                                          padding=self.dilation, dilation=self.dilation, groups=groups, radix=radix,
                                          reduction_factor=reduction_factor, conv_cfg=self.conv_cfg,
                                          norm_cfg=self.norm_cfg)
        delattr(self, self.norm2_name)
        if self.avg_down_stride:
            self.avd_layer = nn.AvgPool2d(3, self.conv2_stride, padding=1)
        self.conv3 = build_conv_layer(self.conv_cfg, width, self.planes * self.expansion, kernel_size=1, bias=False)
        self.add_module(self.norm3_name, norm3)

    def _middle(self, out: torch.Tensor) -> torch.Tensor:
        out = self.conv2(out)
        return self.avd_layer(out) if self.avg_down_stride else out


@MODELS.register_module()
class ResNeSt(ResNetV1d):
    """Args (besides ResNet's): ``groups`` and ``base_width`` (cardinality), ``radix``, ``reduction_factor`` of the
    attention's hidden width, ``avg_down_stride``. DAFormer's S50 uses ``stem_channels=64``, S101 / S200 128."""
    arch_settings = {
        50: (Bottleneck, (3, 4, 6, 3)),
        101: (Bottleneck, (3, 4, 23, 3)),
        152: (Bottleneck, (3, 8, 36, 3)),
        200: (Bottleneck, (3, 24, 36, 3)),
    }

    def __init__(self, groups: int = 1, base_width: int = 4, radix: int = 2, reduction_factor: int = 4,
                 avg_down_stride: bool = True, **kwargs):
        self.groups = groups
        self.base_width = base_width
        self.radix = radix
        self.reduction_factor = reduction_factor
        self.avg_down_stride = avg_down_stride
        super().__init__(**kwargs)

    def make_res_layer(self, **kwargs) -> ResLayer:
        return ResLayer(groups=self.groups, base_width=self.base_width, base_channels=self.base_channels,
                        radix=self.radix, reduction_factor=self.reduction_factor,
                        avg_down_stride=self.avg_down_stride, **kwargs)
