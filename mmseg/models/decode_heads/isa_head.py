"""ISANet's head (interlaced sparse self-attention), as DAFormer's ``isanet_r50-d8.py`` (experiment 1 uses it
without decoder BN, ``isa_nodbn``).

The attention is shared with the ISA fusion of the DAFormer decoder (:mod:`mmseg.models.utils.isa_layer`); the head
adds the classifier. On a 1/8 map whose size is not a multiple of ``down_factor`` the attention also sees the zero
padding, as the reference.
"""
from typing import List, Sequence

import torch

from mmseg.registry import MODELS
from ..utils.isa_layer import interlaced_sparse_attention, isa_modules
from .decode_head import BaseDecodeHead


@MODELS.register_module()
class ISAHead(BaseDecodeHead):
    """``isa_channels``: width of keys and queries; ``down_factor``: the local window (H, W)."""

    def __init__(self, isa_channels: int, down_factor: Sequence[int] = (8, 8), **kwargs):
        super().__init__(**kwargs)
        self.down_factor = tuple(down_factor)
        modules = isa_modules(self.in_channels, self.channels, isa_channels, key_query_num_convs=2,
                              norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        for name, module in modules.items():
            self.add_module(name, module)

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        x = self.in_conv(self._transform_inputs(inputs))
        attended = interlaced_sparse_attention(x, self.global_relation, self.local_relation, self.down_factor)
        return self.cls_seg(self.out_conv(torch.cat([attended, x], dim=1)))
