"""DDB's DeepLabV2 head with an adapter (``DLV2AdapterHead``, spec ebda-cdda-ddb §3.2).

Unlike DAFormer's ``dlv2red`` classifier (:class:`~.dlv2_head.DLV2Head`), the ASPP branches here are feature
layers: one 3x3 dilated ConvModule (conv, norm, activation) per dilation, each ``channels / len(dilations)`` wide,
concatenated to ``channels``; a 3x3 ConvModule bottleneck; Dropout2d; the 1x1 classifier ``conv_seg``. The
bottleneck output after the dropout is the prototype feature of DDB (``forward(..., return_feature=True)``).

Reference details kept: the loss is logged as ``loss_ce`` (mmseg 0.22's loss name), the accuracy counts every
pixel (255 included, :func:`~..losses.accuracy.accuracy`), and with the released ``init_cfg`` (``Normal(std=0.01,
override=aspp_modules)``) every weight inside the ASPP branches is drawn from N(0, 0.01), their BatchNorm gammas
included (betas 0), while ``conv_seg`` keeps PyTorch's default initialisation because that ``init_cfg`` replaces
the decode head's default one (which would draw it from N(0, 0.01)).
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmcv.cnn import ConvModule

from mmseg.registry import MODELS
from ..utils.aspp import ASPPModule
from .decode_head import BaseDecodeHead

REFERENCE_LOSS_NAME = 'loss_ce'


@MODELS.register_module()
class DLV2AdapterHead(BaseDecodeHead):
    """Args: ``dilations`` of the ASPP branches (DDB: (6, 12)); the rest as :class:`BaseDecodeHead`
    (DDB: ``channels=256``, ``dropout_ratio=0.1``, BN, ReLU)."""

    #: ``forward(..., return_feature=True)`` returns (logits, feature) (read by ``UDAEncoderDecoder``).
    returns_feature = True

    def __init__(self, dilations: Sequence[int] = (6, 12), **kwargs):
        super().__init__(**kwargs)
        if self.input_transform is not None:
            raise ValueError(f'DLV2AdapterHead reads one backbone level; got input_transform={self.input_transform!r}')
        if not isinstance(dilations, (list, tuple)) or not dilations:
            raise ValueError(f'DLV2AdapterHead dilations must be a non-empty list or tuple, got {dilations!r}')
        if self.channels % len(dilations):
            raise ValueError(f'DLV2AdapterHead channels={self.channels} must be divisible by the number of dilations '
                             f'{len(dilations)} (the ASPP branches are concatenated to channels)')
        self.dilations = tuple(dilations)
        self.aspp_modules = ASPPModule(dilations, self.in_channels, self.channels // len(dilations),
                                       conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.bottleneck = ConvModule(self.channels, self.channels, 3, padding=1, conv_cfg=self.conv_cfg,
                                     norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)

    def init_conv_seg(self) -> None:
        """N(0, 0.01) for ``conv_seg`` only without a config ``init_cfg`` (the decode head's default); a given
        ``init_cfg`` replaces that default, so ``conv_seg`` keeps PyTorch's initialisation (the reference)."""
        if self.init_cfg is None:
            super().init_conv_seg()

    def forward(self, inputs: List[torch.Tensor],
                return_feature: bool = False) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        """Logits at the input level's resolution, and with ``return_feature`` the ``channels``-d feature."""
        x = self._transform_inputs(inputs)
        feature = self.bottleneck(torch.cat(self.aspp_modules(x), dim=1))
        if self.dropout is not None:
            feature = self.dropout(feature)
        logits = self.conv_seg(feature)
        return (logits, feature) if return_feature else logits

    def losses(self, seg_logit: torch.Tensor, seg_label: torch.Tensor,
               seg_weight: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """The decode head's loss and accuracy, the loss under the reference's name ``loss_ce``."""
        losses = super().losses(seg_logit, seg_label, seg_weight)
        return {REFERENCE_LOSS_NAME if name == 'loss_seg' else name: value for name, value in losses.items()}
