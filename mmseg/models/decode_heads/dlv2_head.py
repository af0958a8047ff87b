"""DeepLabV2 classifier as DAFormer configures it (``dlv2red``: dilations 6 and 12).

The ASPP branches themselves are the classifier: one 3x3 conv per dilation from the input level straight to the
classes (bias, no norm, no activation), and their outputs are summed. The base head's ``conv_seg`` is deleted and
there is no dropout; logits come at the input level's resolution (1/8 on the d8 ResNets).
"""
from typing import List, Sequence

import torch

from mmseg.registry import MODELS
from ..utils.aspp import ASPPModule
from .decode_head import BaseDecodeHead


@MODELS.register_module()
class DLV2Head(BaseDecodeHead):
    """``dilations``: one classifier branch each. The reference configs initialise them with
    ``init_cfg=dict(type='Normal', std=0.01, override=dict(name='aspp_modules'))``."""

    def __init__(self, dilations: Sequence[int] = (6, 12, 18, 24), **kwargs):
        for key in ('channels', 'dropout_ratio', 'norm_cfg'):
            if key in kwargs:
                raise ValueError(f'DLV2Head sets {key} itself (channels 1, no dropout, no norm); remove '
                                 f'decode_head.{key}={kwargs[key]!r} from the config')
        super().__init__(channels=1, dropout_ratio=0, norm_cfg=None, **kwargs)
        del self.conv_seg
        if not isinstance(dilations, (list, tuple)):
            raise ValueError(f'DLV2Head dilations must be a list or tuple, got {dilations!r}')
        self.dilations = dilations
        self.aspp_modules = ASPPModule(dilations, self.in_channels, self.num_classes, conv_cfg=self.conv_cfg,
                                       norm_cfg=None, act_cfg=None)

    def init_conv_seg(self) -> None:
        """No ``conv_seg``: the branches are initialised by ``init_cfg`` (or keep ConvModule's Kaiming init)."""

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        outs = self.aspp_modules(self._transform_inputs(inputs))
        out = outs[0]
        for branch in outs[1:]:
            out = out + branch
        return out
