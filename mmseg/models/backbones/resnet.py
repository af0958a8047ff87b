"""ResNet backbones of mmseg 0.16 as DAFormer uses them: ``ResNet`` (V1b: 7x7 stem), ``ResNetV1c`` (deep stem of
three 3x3 convs) and ``ResNetV1d`` (deep stem and average-pool downsampling, the base of ResNeSt).

State-dict keys are those of open-mmlab's ImageNet checkpoints (``stem.0/1/3/4/6/7``, ``layerN.i.conv1-3/bn1-3``,
``layerN.0.downsample.0/1``), so ``open-mmlab://resnet101_v1c`` loads without conversion (see
:func:`mmseg.models.utils.pretrained.load_resnet_weights`). The d8 configs (DeepLabV2 & co.) use strides
(1, 2, 1, 1), dilations (1, 1, 2, 4) and ``contract_dilation``: output stride 8, the first block of a dilated
stage with half the dilation.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Type, Union

import torch
import torch.utils.checkpoint as activation_checkpoint
from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmseg.registry import MODELS
from ..utils.pretrained import load_resnet_weights


class ResidualBlock(nn.Module):
    """``relu(_residual(x))``, where the subclass's ``_residual`` adds the residual branch and the shortcut; computed
    under activation checkpointing in training if ``with_cp``."""
    with_cp = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            out = activation_checkpoint.checkpoint(self._residual, x, use_reentrant=False)
        else:
            out = self._residual(x)
        return self.relu(out)


class BasicBlock(ResidualBlock):
    """Two 3x3 convs (ResNet-18/34); the first one carries the stride and dilation."""
    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, dilation: int = 1,
                 downsample: Optional[nn.Module] = None, style: str = 'pytorch', with_cp: bool = False,
                 conv_cfg: Optional[dict] = None, norm_cfg: dict = dict(type='BN')):
        super().__init__()
        self.norm1_name, norm1 = build_norm_layer(norm_cfg, planes, postfix=1)
        self.norm2_name, norm2 = build_norm_layer(norm_cfg, planes, postfix=2)
        self.conv1 = build_conv_layer(conv_cfg, inplanes, planes, 3, stride=stride, padding=dilation,
                                      dilation=dilation, bias=False)
        self.add_module(self.norm1_name, norm1)
        self.conv2 = build_conv_layer(conv_cfg, planes, planes, 3, padding=1, bias=False)
        self.add_module(self.norm2_name, norm2)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.with_cp = with_cp

    @property
    def residual_norm(self) -> nn.Module:
        """The last norm of the residual branch (zero-initialised with ``zero_init_residual``)."""
        return getattr(self, self.norm2_name)

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(getattr(self, self.norm1_name)(self.conv1(x)))
        out = getattr(self, self.norm2_name)(self.conv2(out))
        return out + (x if self.downsample is None else self.downsample(x))


class Bottleneck(ResidualBlock):
    """1x1, 3x3, 1x1 convs, ``expansion`` 4. ``style='pytorch'`` puts the stride on the 3x3 conv, ``'caffe'`` on
    the first 1x1 conv."""
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, dilation: int = 1,
                 downsample: Optional[nn.Module] = None, style: str = 'pytorch', with_cp: bool = False,
                 conv_cfg: Optional[dict] = None, norm_cfg: dict = dict(type='BN')):
        super().__init__()
        if style not in ('pytorch', 'caffe'):
            raise ValueError(f"ResNet style={style!r}; expected 'pytorch' or 'caffe'")
        self.inplanes, self.planes, self.stride, self.dilation = inplanes, planes, stride, dilation
        self.style, self.with_cp, self.conv_cfg, self.norm_cfg = style, with_cp, conv_cfg, norm_cfg
        self.conv1_stride, self.conv2_stride = (1, stride) if style == 'pytorch' else (stride, 1)
        self.norm1_name, norm1 = build_norm_layer(norm_cfg, planes, postfix=1)
        self.norm2_name, norm2 = build_norm_layer(norm_cfg, planes, postfix=2)
        self.norm3_name, norm3 = build_norm_layer(norm_cfg, planes * self.expansion, postfix=3)
        self.conv1 = build_conv_layer(conv_cfg, inplanes, planes, 1, stride=self.conv1_stride, bias=False)
        self.add_module(self.norm1_name, norm1)
        self.conv2 = build_conv_layer(conv_cfg, planes, planes, 3, stride=self.conv2_stride, padding=dilation,
                                      dilation=dilation, bias=False)
        self.add_module(self.norm2_name, norm2)
        self.conv3 = build_conv_layer(conv_cfg, planes, planes * self.expansion, 1, bias=False)
        self.add_module(self.norm3_name, norm3)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    @property
    def residual_norm(self) -> nn.Module:
        """The last norm of the residual branch (zero-initialised with ``zero_init_residual``)."""
        return getattr(self, self.norm3_name)

    def _middle(self, out: torch.Tensor) -> torch.Tensor:
        """The 3x3 part: conv2, norm2, ReLU (replaced by split attention in ResNeSt)."""
        return self.relu(getattr(self, self.norm2_name)(self.conv2(out)))

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(getattr(self, self.norm1_name)(self.conv1(x)))
        out = self._middle(out)
        out = getattr(self, self.norm3_name)(self.conv3(out))
        return out + (x if self.downsample is None else self.downsample(x))


Block = Union[Type[BasicBlock], Type[Bottleneck]]


class ResLayer(nn.Sequential):
    """One stage: ``num_blocks`` blocks, the first with the stride and a projection shortcut.

    The shortcut is a strided 1x1 conv + norm, or with ``avg_down`` an average pool (kernel = stride, also for
    stride 1) followed by a 1x1 conv + norm. With ``contract_dilation`` the first block of a dilated stage uses
    half the dilation.
    """

    def __init__(self, block: Block, inplanes: int, planes: int, num_blocks: int, stride: int = 1,
                 dilation: int = 1, avg_down: bool = False, conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN'), contract_dilation: bool = False, **block_kwargs):
        downsample = None
        if stride != 1 or inplanes != planes * block.expansion:
            layers = []
            conv_stride = stride
            if avg_down:
                conv_stride = 1
                layers.append(nn.AvgPool2d(kernel_size=stride, stride=stride, ceil_mode=True,
                                           count_include_pad=False))
            layers += [build_conv_layer(conv_cfg, inplanes, planes * block.expansion, kernel_size=1,
                                        stride=conv_stride, bias=False),
                       build_norm_layer(norm_cfg, planes * block.expansion)[1]]
            downsample = nn.Sequential(*layers)
        first_dilation = dilation // 2 if dilation > 1 and contract_dilation else dilation
        blocks = [block(inplanes=inplanes, planes=planes, stride=stride, dilation=first_dilation,
                        downsample=downsample, conv_cfg=conv_cfg, norm_cfg=norm_cfg, **block_kwargs)]
        blocks += [block(inplanes=planes * block.expansion, planes=planes, stride=1, dilation=dilation,
                         conv_cfg=conv_cfg, norm_cfg=norm_cfg, **block_kwargs) for _ in range(1, num_blocks)]
        super().__init__(*blocks)


@MODELS.register_module()
class ResNet(BaseModule):
    """ResNet returning the maps of ``out_indices`` (stage widths ``base_channels * 2**i * expansion``).

    Args:
        depth: 18, 34, 50, 101 or 152.
        stem_channels: output width of the stem (the deep stem's first two convs have half of it).
        base_channels: planes of the first stage.
        strides, dilations: per stage; ``contract_dilation`` halves the first block's dilation.
        deep_stem: three 3x3 convs (V1c) instead of one 7x7 conv.
        avg_down: average pool + 1x1 conv in the shortcut instead of a strided 1x1 conv (V1d).
        frozen_stages: stages whose parameters are frozen and whose norms stay in eval mode (0: the stem only,
            -1: none).
        norm_eval: keep every BatchNorm in eval mode (running statistics) during training.
        with_cp: activation checkpointing of the blocks in training.
        zero_init_residual: the random initialisation sets the last norm of each residual branch to 0.
        pretrained: ImageNet weights, ``open-mmlab://<name>`` (a file in ``pretrained/``) or a path, loaded by
            :meth:`init_weights`.
        style: ``'pytorch'`` (stride on the 3x3 conv) or ``'caffe'``.
    """
    arch_settings: Dict[int, Tuple[Block, Tuple[int, ...]]] = {
        18: (BasicBlock, (2, 2, 2, 2)),
        34: (BasicBlock, (3, 4, 6, 3)),
        50: (Bottleneck, (3, 4, 6, 3)),
        101: (Bottleneck, (3, 4, 23, 3)),
        152: (Bottleneck, (3, 8, 36, 3)),
    }

    def __init__(self, depth: int, in_channels: int = 3, stem_channels: int = 64, base_channels: int = 64,
                 num_stages: int = 4, strides: Sequence[int] = (1, 2, 2, 2), dilations: Sequence[int] = (1, 1, 1, 1),
                 out_indices: Sequence[int] = (0, 1, 2, 3), style: str = 'pytorch', deep_stem: bool = False,
                 avg_down: bool = False, frozen_stages: int = -1, conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN', requires_grad=True), norm_eval: bool = False,
                 contract_dilation: bool = False, with_cp: bool = False, zero_init_residual: bool = True,
                 pretrained: Optional[str] = None, init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if depth not in self.arch_settings:
            raise ValueError(f'{type(self).__name__}: depth={depth} is not supported; expected one of '
                             f'{sorted(self.arch_settings)}')
        if not 1 <= num_stages <= 4:
            raise ValueError(f'{type(self).__name__}: num_stages={num_stages}; expected 1 to 4')
        if not len(strides) == len(dilations) == num_stages:
            raise ValueError(f'{type(self).__name__}: strides {tuple(strides)} and dilations {tuple(dilations)} '
                             f'need one value per stage ({num_stages})')
        if max(out_indices) >= num_stages:
            raise ValueError(f'{type(self).__name__}: out_indices {tuple(out_indices)} exceed num_stages={num_stages}')
        self.depth = depth
        self.in_channels = in_channels
        self.stem_channels = stem_channels
        self.base_channels = base_channels
        self.num_stages = num_stages
        self.strides = tuple(strides)
        self.dilations = tuple(dilations)
        self.out_indices = tuple(out_indices)
        self.style = style
        self.deep_stem = deep_stem
        self.avg_down = avg_down
        self.frozen_stages = frozen_stages
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.norm_eval = norm_eval
        self.contract_dilation = contract_dilation
        self.with_cp = with_cp
        self.zero_init_residual = zero_init_residual
        self.pretrained = pretrained
        self.block, stage_blocks = self.arch_settings[depth]
        self.stage_blocks = stage_blocks[:num_stages]
        self._make_stem_layer(in_channels, stem_channels)
        self.res_layers: List[str] = []
        inplanes = stem_channels
        for i, num_blocks in enumerate(self.stage_blocks):
            planes = base_channels * 2**i
            layer = self.make_res_layer(block=self.block, inplanes=inplanes, planes=planes, num_blocks=num_blocks,
                                        stride=strides[i], dilation=dilations[i], style=style, avg_down=avg_down,
                                        with_cp=with_cp, conv_cfg=conv_cfg, norm_cfg=norm_cfg,
                                        contract_dilation=contract_dilation)
            inplanes = planes * self.block.expansion
            self.add_module(f'layer{i + 1}', layer)
            self.res_layers.append(f'layer{i + 1}')
        self.out_channels = [base_channels * 2**i * self.block.expansion for i in range(num_stages)]
        self._freeze_stages()
        self.init_random_weights()

    def make_res_layer(self, **kwargs) -> ResLayer:
        return ResLayer(**kwargs)

    def _make_stem_layer(self, in_channels: int, stem_channels: int) -> None:
        if self.deep_stem:
            half = stem_channels // 2
            self.stem = nn.Sequential(
                build_conv_layer(self.conv_cfg, in_channels, half, kernel_size=3, stride=2, padding=1, bias=False),
                build_norm_layer(self.norm_cfg, half)[1],
                nn.ReLU(inplace=True),
                build_conv_layer(self.conv_cfg, half, half, kernel_size=3, stride=1, padding=1, bias=False),
                build_norm_layer(self.norm_cfg, half)[1],
                nn.ReLU(inplace=True),
                build_conv_layer(self.conv_cfg, half, stem_channels, kernel_size=3, stride=1, padding=1, bias=False),
                build_norm_layer(self.norm_cfg, stem_channels)[1],
                nn.ReLU(inplace=True))
        else:
            self.conv1 = build_conv_layer(self.conv_cfg, in_channels, stem_channels, kernel_size=7, stride=2,
                                          padding=3, bias=False)
            self.norm1_name, norm1 = build_norm_layer(self.norm_cfg, stem_channels, postfix=1)
            self.add_module(self.norm1_name, norm1)
            self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def _frozen_modules(self) -> List[nn.Module]:
        if self.frozen_stages < 0:
            return []
        stem = [self.stem] if self.deep_stem else [self.conv1, getattr(self, self.norm1_name)]
        return stem + [getattr(self, f'layer{i}') for i in range(1, self.frozen_stages + 1)]

    def _freeze_stages(self) -> None:
        for module in self._frozen_modules():
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def init_random_weights(self) -> None:
        """The reference's random initialisation: Kaiming (fan_out, ReLU) convs with zero bias, norms 1 / 0, and
        with ``zero_init_residual`` the last norm of every residual branch 0 (only for the plain blocks)."""
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode='fan_out', nonlinearity='relu')
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, (_BatchNorm, nn.GroupNorm)):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        if self.zero_init_residual and self.block in (BasicBlock, Bottleneck):
            for module in self.modules():
                if type(module) is self.block:
                    nn.init.zeros_(module.residual_norm.weight)
                    nn.init.zeros_(module.residual_norm.bias)

    def init_weights(self) -> None:
        """Random reference initialisation, or the ImageNet weights of ``pretrained``."""
        if self.pretrained is None:
            self.init_random_weights()
            return
        print_log(f'Load {type(self).__name__}-{self.depth} weights from {self.pretrained}', logger='current')
        load_resnet_weights(self, self.pretrained)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'{type(self).__name__} input: expected a (B, {self.in_channels}, H, W) image tensor, '
                             f'got shape {tuple(x.shape)}')
        if self.deep_stem:
            x = self.stem(x)
        else:
            x = self.relu(getattr(self, self.norm1_name)(self.conv1(x)))
        x = self.maxpool(x)
        outs = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def train(self, mode: bool = True) -> 'ResNet':
        """Train mode, except frozen stages and (``norm_eval``) every BatchNorm."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self


@MODELS.register_module()
class ResNetV1c(ResNet):
    """ResNet with the deep stem (three 3x3 convs), the backbone of DAFormer's DeepLabV2 and CNN decoders."""

    def __init__(self, **kwargs):
        super().__init__(deep_stem=True, avg_down=False, **kwargs)


@MODELS.register_module()
class ResNetV1d(ResNet):
    """ResNet with the deep stem and average-pool downsampling in the shortcuts."""

    def __init__(self, **kwargs):
        super().__init__(deep_stem=True, avg_down=True, **kwargs)
