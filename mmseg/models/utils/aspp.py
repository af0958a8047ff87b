"""Atrous spatial pyramid pooling blocks used by DAFormer's context-aware fusion."""
from typing import Dict, List, Optional, Sequence

import torch
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
from torch import nn

from .resize import resize


class ASPPModule(nn.ModuleList):
    """Parallel atrous convolutions: 1×1 for dilation 1, 3×3 with padding = dilation otherwise."""

    def __init__(self, dilations: Sequence[int], in_channels: int, channels: int, conv_cfg: Optional[dict],
                 norm_cfg: Optional[dict], act_cfg: Optional[dict], separable: bool = False):
        super().__init__()
        for dilation in dilations:
            if dilation > 1 and separable:
                self.append(DepthwiseSeparableConvModule(in_channels, channels, 3, dilation=dilation,
                                                         padding=dilation, norm_cfg=norm_cfg, act_cfg=act_cfg))
            else:
                self.append(ConvModule(in_channels, channels, 1 if dilation == 1 else 3, dilation=dilation,
                                       padding=0 if dilation == 1 else dilation, conv_cfg=conv_cfg,
                                       norm_cfg=norm_cfg, act_cfg=act_cfg))

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        return [module(x) for module in self]


def aspp_modules(in_channels: int, channels: int, dilations: Sequence[int], pool: bool, norm_cfg: Optional[dict],
                 act_cfg: Optional[dict], separable: bool = False) -> Dict[str, Optional[nn.Module]]:
    """``image_pool`` (or None), ``aspp_modules`` and the 3×3 ``bottleneck`` over their concatenation, in the
    reference's order (DAFormer's ASPP fusion and DeepLabV3+'s head)."""
    if not isinstance(dilations, (list, tuple)):
        raise ValueError(f'ASPP dilations must be a list or tuple, got {dilations!r}')
    image_pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), ConvModule(in_channels, channels, 1, norm_cfg=norm_cfg,
                                                                   act_cfg=act_cfg)) if pool else None
    return dict(image_pool=image_pool,
                aspp_modules=ASPPModule(dilations, in_channels, channels, conv_cfg=None, norm_cfg=norm_cfg,
                                        act_cfg=act_cfg, separable=separable),
                bottleneck=ConvModule((len(dilations) + int(pool)) * channels, channels, kernel_size=3, padding=1,
                                      norm_cfg=norm_cfg, act_cfg=act_cfg))


def aspp_forward(x: torch.Tensor, image_pool: Optional[nn.Module], aspp: nn.Module, bottleneck: nn.Module,
                 align_corners: bool) -> torch.Tensor:
    """[image pool resized to ``x``] + ASPP branches, concatenated, then the bottleneck."""
    outs = []
    if image_pool is not None:
        outs.append(resize(image_pool(x), size=x.shape[2:], mode='bilinear', align_corners=align_corners))
    outs.extend(aspp(x))
    return bottleneck(torch.cat(outs, dim=1))


class ASPPWrapper(nn.Module):
    """[image pool] + ASPP branches, concatenated, then a 3×3 bottleneck ConvModule.

    ``sep=True`` makes the dilated branches depthwise-separable (both convs with norm and activation).
    """

    def __init__(self, in_channels: int, channels: int, sep: bool, dilations: Sequence[int], pool: bool,
                 norm_cfg: Optional[dict], act_cfg: Optional[dict], align_corners: bool = False):
        super().__init__()
        self.dilations = dilations
        self.align_corners = align_corners
        for name, module in aspp_modules(in_channels, channels, dilations, pool, norm_cfg, act_cfg, sep).items():
            setattr(self, name, module)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return aspp_forward(x, self.image_pool, self.aspp_modules, self.bottleneck, self.align_corners)
