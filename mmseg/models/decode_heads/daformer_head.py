"""DAFormer decoder: per-level token embeddings, upsampling to 1/4, and a context-aware fusion.

The fusion layer is configurable to cover DAFormer's decoder study (spec §2.2): ``conv`` (1×1,
"SegFormer with C_e=256"), ``aspp`` with ``sep=False`` (dense atrous), ``aspp`` with ``sep=True``
(the final DAFormer), ``isa``, and ``rawconv_and_aspp`` for the context-only-at-F4 variant.
"""
import copy
from typing import List

import torch
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
from torch import nn

from mmseg.registry import MODELS
from ..utils.aspp import ASPPWrapper
from ..utils.isa_layer import ISALayer
from ..utils.resize import resize
from ..utils.token_mlp import MLP
from .decode_head import BaseDecodeHead

LAYER_TYPES = ('id', 'mlp', 'sep_conv', 'conv', 'aspp', 'rawconv_and_aspp', 'isa')


def build_layer(in_channels: int, out_channels: int, type: str, **kwargs) -> nn.Module:
    """Build one embedding / fusion layer of the DAFormer decoder by ``type``."""
    if type == 'id':
        return nn.Identity()
    if type == 'mlp':
        return MLP(input_dim=in_channels, embed_dim=out_channels)
    if type == 'sep_conv':
        return DepthwiseSeparableConvModule(in_channels, out_channels, padding=kwargs['kernel_size'] // 2, **kwargs)
    if type == 'conv':
        return ConvModule(in_channels, out_channels, padding=kwargs['kernel_size'] // 2, **kwargs)
    if type == 'aspp':
        return ASPPWrapper(in_channels=in_channels, channels=out_channels, **kwargs)
    if type == 'rawconv_and_aspp':
        kernel_size = kwargs.pop('kernel_size')
        return nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size=kernel_size, padding=kernel_size // 2),
            ASPPWrapper(in_channels=out_channels, channels=out_channels, **kwargs))
    if type == 'isa':
        return ISALayer(in_channels=in_channels, channels=out_channels, **kwargs)
    raise ValueError(f'DAFormerHead layer type {type!r} is unknown; expected one of {LAYER_TYPES}')


@MODELS.register_module()
class DAFormerHead(BaseDecodeHead):
    """``decoder_params``: ``embed_dims`` (int or per level), ``embed_cfg`` (levels but the last),
    ``embed_neck_cfg`` (last level, or ``'same_as_embed_cfg'``) and ``fusion_cfg``."""

    def __init__(self, **kwargs):
        super().__init__(input_transform='multiple_select', **kwargs)
        if self.align_corners:
            raise ValueError('DAFormerHead requires align_corners=False')
        decoder_params = copy.deepcopy(kwargs['decoder_params'])
        embed_dims = decoder_params['embed_dims']
        if isinstance(embed_dims, int):
            embed_dims = [embed_dims] * len(self.in_index)
        embed_cfg = decoder_params['embed_cfg']
        embed_neck_cfg = decoder_params['embed_neck_cfg']
        if embed_neck_cfg == 'same_as_embed_cfg':
            embed_neck_cfg = embed_cfg
        fusion_cfg = decoder_params['fusion_cfg']
        for cfg in (embed_cfg, embed_neck_cfg, fusion_cfg):
            if cfg is not None and 'aspp' in cfg['type']:
                cfg['align_corners'] = self.align_corners
        self.embed_layers = nn.ModuleDict({
            str(i): build_layer(in_channels, embed_dim,
                                **(embed_neck_cfg if i == self.in_index[-1] else embed_cfg))
            for i, in_channels, embed_dim in zip(self.in_index, self.in_channels, embed_dims)
        })
        self.fuse_layer = build_layer(sum(embed_dims), self.channels, **fusion_cfg)

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        n = inputs[-1].shape[0]
        os_size = inputs[0].shape[2:]
        embedded = []
        for i in self.in_index:
            c = self.embed_layers[str(i)](inputs[i])
            if c.dim() == 3:
                c = c.permute(0, 2, 1).contiguous().reshape(n, -1, inputs[i].shape[2], inputs[i].shape[3])
            if c.shape[2:] != os_size:
                c = resize(c, size=os_size, mode='bilinear', align_corners=self.align_corners)
            embedded.append(c)
        return self.cls_seg(self.fuse_layer(torch.cat(embedded, dim=1)))
