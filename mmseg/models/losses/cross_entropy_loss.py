"""Cross-entropy with the reference (mmseg 0.16) normalisation.

By default the per-pixel loss, times the optional pixel weight, is averaged over **all** pixels:
ignored pixels add 0 but count in the denominator, and weights are not renormalised (spec §2.1,
§13.1). ``avg_non_ignore=True`` divides by the number of non-ignored pixels instead (the
behaviour of ``F.cross_entropy(reduction='mean')``); it changes the loss scale.
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from mmseg.registry import MODELS


@MODELS.register_module()
class CrossEntropyLoss(nn.Module):
    """Softmax cross-entropy for dense prediction, returning ``loss_weight`` × the reduced loss."""

    def __init__(self, use_sigmoid: bool = False, class_weight: Optional[Sequence[float]] = None,
                 loss_weight: float = 1.0, avg_non_ignore: bool = False, reduction: str = 'mean'):
        super().__init__()
        if use_sigmoid:
            raise ValueError('CrossEntropyLoss(use_sigmoid=True) is not used by any DAFormer-family config '
                             'and is not supported; use use_sigmoid=False')
        if reduction not in ('mean', 'sum', 'none'):
            raise ValueError(f"reduction={reduction!r}; expected 'mean', 'sum' or 'none'")
        self.class_weight = class_weight
        self.loss_weight = loss_weight
        self.avg_non_ignore = avg_non_ignore
        self.reduction = reduction

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor, weight: Optional[torch.Tensor] = None,
                ignore_index: int = 255) -> torch.Tensor:
        class_weight = cls_score.new_tensor(self.class_weight) if self.class_weight is not None else None
        loss = F.cross_entropy(cls_score, label, weight=class_weight, reduction='none', ignore_index=ignore_index)
        if weight is not None:
            loss = loss * weight.float()
        if self.reduction == 'none':
            reduced = loss
        elif self.reduction == 'sum':
            reduced = loss.sum()
        elif self.avg_non_ignore:
            reduced = loss.sum() / (label != ignore_index).sum().clamp(min=1)
        else:
            reduced = loss.mean()
        return self.loss_weight * reduced
