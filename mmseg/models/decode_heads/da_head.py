"""DANet's dual attention head, as DAFormer's ``danet_r50-d8.py`` (experiment 1 uses it without decoder BN,
``da_nodbn``).

Two branches on the input level: position attention (non-local over all pixels) and channel attention (over the
channel Gram matrix), each between two 3x3 ConvModules and with a learned residual scale that starts at 0. The
forward returns three logits: of the summed branches (the prediction), of the position branch and of the channel
branch; training has a cross-entropy on each (``pam_cam.*``, ``pam.*``, ``cam.*``).
"""
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule, Scale
from torch import nn

from mmseg.registry import MODELS
from ..segmentors.encoder_decoder import add_prefix
from ..utils.self_attention_block import SelfAttentionBlock
from .decode_head import BaseDecodeHead


class PAM(SelfAttentionBlock):
    """Position attention: plain 1x1 key / query / value convs, unscaled softmax, ``gamma * context + x``."""

    def __init__(self, in_channels: int, channels: int):
        super().__init__(in_channels, channels, key_query_num_convs=1, key_query_norm=False, matmul_norm=False)
        self.gamma = Scale(0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gamma(super().forward(x)) + x


class CAM(nn.Module):
    """Channel attention: softmax of (row max - Gram matrix) over channels, ``gamma * attended + x``."""

    def __init__(self):
        super().__init__()
        self.gamma = Scale(0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        query = x.view(b, c, -1)
        energy = torch.bmm(query, query.permute(0, 2, 1))
        energy = torch.max(energy, -1, keepdim=True)[0].expand_as(energy) - energy
        out = torch.bmm(F.softmax(energy, dim=-1), query).view(b, c, h, w)
        return self.gamma(out) + x


@MODELS.register_module()
class DAHead(BaseDecodeHead):
    """``pam_channels``: width of the position attention's keys and queries."""

    def __init__(self, pam_channels: int, **kwargs):
        super().__init__(**kwargs)
        self.pam_channels = pam_channels
        conv = dict(kernel_size=3, padding=1, conv_cfg=self.conv_cfg, norm_cfg=self.norm_cfg, act_cfg=self.act_cfg)
        self.pam_in_conv = ConvModule(self.in_channels, self.channels, **conv)
        self.pam = PAM(self.channels, pam_channels)
        self.pam_out_conv = ConvModule(self.channels, self.channels, **conv)
        self.pam_conv_seg = nn.Conv2d(self.channels, self.num_classes, kernel_size=1)
        self.cam_in_conv = ConvModule(self.in_channels, self.channels, **conv)
        self.cam = CAM()
        self.cam_out_conv = ConvModule(self.channels, self.channels, **conv)
        self.cam_conv_seg = nn.Conv2d(self.channels, self.num_classes, kernel_size=1)

    def _classify(self, feat: torch.Tensor, conv_seg: nn.Module) -> torch.Tensor:
        if self.dropout is not None:
            feat = self.dropout(feat)
        return conv_seg(feat)

    def forward(self, inputs: List[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(summed-branch logits, position-branch logits, channel-branch logits); the dropouts draw in the
        reference's order (position, channel, sum)."""
        x = self._transform_inputs(inputs)
        pam_feat = self.pam_out_conv(self.pam(self.pam_in_conv(x)))
        pam_out = self._classify(pam_feat, self.pam_conv_seg)
        cam_feat = self.cam_out_conv(self.cam(self.cam_in_conv(x)))
        cam_out = self._classify(cam_feat, self.cam_conv_seg)
        return self.cls_seg(pam_feat + cam_feat), pam_out, cam_out

    def forward_test(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        return self.forward(inputs)[0]

    def losses(self, seg_logit: Tuple[torch.Tensor, ...], seg_label: torch.Tensor,
               seg_weight: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """The base losses of each of the three logits, prefixed ``pam_cam``, ``pam`` and ``cam``."""
        losses = {}
        for prefix, logit in zip(('pam_cam', 'pam', 'cam'), seg_logit):
            losses.update(add_prefix(super().losses(logit, seg_label, seg_weight), prefix))
        return losses
