"""Base decode head with the reference loss semantics (mmseg 0.16 ``BaseDecodeHead`` as DAFormer modified it)."""
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModule
from torch import nn

from mmseg.registry import MODELS
from ..losses.accuracy import accuracy
from ..utils.resize import resize


class BaseDecodeHead(BaseModule):
    """Holds the classifier ``conv_seg`` (1×1, normal(0, 0.01) init), its Dropout2d, and the loss.

    Args:
        in_channels: channels of the selected input level(s).
        channels: channels before ``conv_seg``.
        num_classes: number of classes.
        in_index: which backbone levels the head reads.
        input_transform: ``None`` (one level) or ``'multiple_select'`` (a list of levels).
        decoder_params: head-specific parameters (DAFormer / SegFormer decoders).
    """

    def __init__(self, in_channels: Union[int, Sequence[int]], channels: int, *, num_classes: int,
                 dropout_ratio: float = 0.1, conv_cfg: Optional[dict] = None, norm_cfg: Optional[dict] = None,
                 act_cfg: dict = dict(type='ReLU'), in_index: Union[int, Sequence[int]] = -1,
                 input_transform: Optional[str] = None,
                 loss_decode: dict = dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
                 decoder_params: Optional[dict] = None, ignore_index: int = 255, align_corners: bool = False,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg=init_cfg)
        if input_transform not in (None, 'multiple_select'):
            raise ValueError(f"input_transform={input_transform!r}; expected None or 'multiple_select'")
        if input_transform == 'multiple_select':
            if not (isinstance(in_channels, (list, tuple)) and isinstance(in_index, (list, tuple))
                    and len(in_channels) == len(in_index)):
                raise ValueError(f'{type(self).__name__}: in_channels {in_channels} and in_index {in_index} '
                                 'must be lists of the same length')
        self.in_channels = in_channels
        self.channels = channels
        self.num_classes = num_classes
        self.dropout_ratio = dropout_ratio
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg
        self.in_index = in_index
        self.input_transform = input_transform
        self.decoder_params = decoder_params
        self.ignore_index = ignore_index
        self.align_corners = align_corners
        self.loss_decode = MODELS.build(loss_decode)
        self.conv_seg = nn.Conv2d(channels, num_classes, kernel_size=1)
        self.dropout = nn.Dropout2d(dropout_ratio) if dropout_ratio > 0 else None
        self.init_conv_seg()

    def init_conv_seg(self) -> None:
        """normal(0, 0.01) weights and zero bias for the classifier, as the reference's init_cfg."""
        nn.init.normal_(self.conv_seg.weight, 0, 0.01)
        nn.init.zeros_(self.conv_seg.bias)

    def init_weights(self) -> None:
        super().init_weights()
        self.init_conv_seg()

    def _transform_inputs(self, inputs: List[torch.Tensor]):
        if self.input_transform == 'multiple_select':
            return [inputs[i] for i in self.in_index]
        return inputs[self.in_index]

    def cls_seg(self, feat: torch.Tensor) -> torch.Tensor:
        """Dropout2d then the 1×1 classifier."""
        if self.dropout is not None:
            feat = self.dropout(feat)
        return self.conv_seg(feat)

    def forward_train(self, inputs: List[torch.Tensor], gt_semantic_seg: torch.Tensor,
                      seg_weight: Optional[torch.Tensor] = None, return_logits: bool = False) -> Dict[str, torch.Tensor]:
        """Logits and their losses (``loss_seg``, ``acc_seg``; ``logits`` too if asked)."""
        seg_logits = self.forward(inputs)
        losses = self.losses(seg_logits, gt_semantic_seg, seg_weight)
        if return_logits:
            losses['logits'] = seg_logits
        return losses

    def forward_test(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        return self.forward(inputs)

    def losses(self, seg_logit: torch.Tensor, seg_label: torch.Tensor,
               seg_weight: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """Resize logits to the (B, 1, H, W) label, then reference CE and accuracy (in float32)."""
        if seg_label.dim() != 4 or seg_label.shape[1] != 1:
            raise ValueError(f'gt_semantic_seg: expected shape (B, 1, H, W), got {tuple(seg_label.shape)}')
        if seg_weight is not None and tuple(seg_weight.shape) != (seg_label.shape[0], *seg_label.shape[2:]):
            raise ValueError(f'seg_weight: expected shape (B, H, W) = '
                             f'{(seg_label.shape[0], *seg_label.shape[2:])}, got {tuple(seg_weight.shape)}')
        seg_logit = resize(seg_logit.float(), size=seg_label.shape[2:], mode='bilinear',
                           align_corners=self.align_corners)
        seg_label = seg_label.squeeze(1).long()
        return dict(
            loss_seg=self.loss_decode(seg_logit, seg_label, weight=seg_weight, ignore_index=self.ignore_index),
            acc_seg=accuracy(seg_logit, seg_label))
