"""ImageNet feature distance (FD) of DAFormer's DACS, restricted to thing classes (spec §5.3)."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from torch import Tensor

from mmseg.models.utils.downscale_label_ratio import downscale_label_ratio


def masked_feat_dist(f1: Tensor, f2: Tensor, mask: Optional[Tensor] = None) -> Tensor:
    """Mean over positions of the (non-squared) L2 distance over channels of B x C x h x w features.

    With a B x 1 x h x w bool ``mask`` only masked positions count; an empty mask gives NaN (the
    mean of an empty tensor), which passes no gradient to the weights, as in the reference.
    Computed in float32 (mixed precision gives bfloat16/float16 features).
    """
    pw_feat_dist = torch.norm(f1.float() - f2.float(), dim=1, p=2)
    if mask is not None:
        pw_feat_dist = pw_feat_dist[mask.squeeze(1)]
    return torch.mean(pw_feat_dist)


def feat_dist_mask(gt: Tensor, feat_width: int, classes: Sequence[int], min_ratio: float,
                   num_classes: int) -> Tuple[Tensor, Tensor]:
    """The FD mask (B x 1 x h x w bool) and the downscaled label it comes from.

    The label is downscaled by ``gt_width // feat_width`` with :func:`downscale_label_ratio`; a
    cell is kept if its label is one of ``classes``.
    """
    scale_factor = gt.shape[-1] // feat_width
    gt_rescaled = downscale_label_ratio(gt, scale_factor, min_ratio, num_classes, 255).long().detach()
    mask = torch.isin(gt_rescaled, torch.as_tensor(classes, device=gt.device))
    return mask, gt_rescaled


class ImnetFeatureDistance:
    """λ·FD between student and ImageNet-model last-stage features on a source batch.

    Args:
        lambda_: loss weight (``imnet_feature_dist_lambda``, 0.005 in DAFormer).
        classes: class ids whose cells count (``imnet_feature_dist_classes``); None for all cells.
        scale_min_ratio: minimum class ratio per cell (``imnet_feature_dist_scale_min_ratio``).
        num_classes: number of segmentation classes.
    """

    def __init__(self, lambda_: float, classes: Optional[Sequence[int]] = None,
                 scale_min_ratio: Optional[float] = None, num_classes: int = 19):
        if classes is not None and scale_min_ratio is None:
            raise ValueError('imnet_feature_dist_classes needs imnet_feature_dist_scale_min_ratio')
        self.lambda_ = lambda_
        self.classes = None if classes is None else list(classes)
        self.scale_min_ratio = scale_min_ratio
        self.num_classes = num_classes
        self.last_mask: Optional[Tensor] = None
        self.last_gt_rescaled: Optional[Tensor] = None

    def __call__(self, feat: Tensor, feat_imnet: Tensor, gt: Tensor) -> Tuple[Tensor, Dict[str, Tensor]]:
        """Loss and log dict ``{'loss_imnet_feat_dist': detached loss}``.

        ``feat``/``feat_imnet`` are the last-stage features (B x C x h x w), ``gt`` the source
        label (B x 1 x H x W). The mask and downscaled label are kept in ``last_mask`` and
        ``last_gt_rescaled`` for debug images.
        """
        feat_imnet = feat_imnet.detach()
        if self.classes is not None:
            mask, self.last_gt_rescaled = feat_dist_mask(gt, feat.shape[-1], self.classes, self.scale_min_ratio,
                                                         self.num_classes)
            self.last_mask = mask
            feat_dist = masked_feat_dist(feat, feat_imnet, mask)
        else:
            feat_dist = masked_feat_dist(feat, feat_imnet)
        loss = self.lambda_ * feat_dist
        return loss, {'loss_imnet_feat_dist': loss.detach()}

    def multi_scale(self, feats: List[Tensor], feats_imnet: List[Tensor],
                    gts: List[Tensor]) -> Tuple[Tensor, Dict[str, Tensor]]:
        """HRDA ``feature_scale='all'``: λ·Σ_s FD_s over the scales, as the reference (a sum, not a mean).

        ``feats`` / ``feats_imnet`` are the last-stage features of each scale, ``gts`` the label of
        each scale (the detail one cropped with the detail box); each is downscaled to its feature
        map. Needs ``classes``; ``last_mask`` / ``last_gt_rescaled`` are those of the first scale.
        """
        if self.classes is None:
            raise ValueError("FD over HRDA's scales (feature_scale='all') needs imnet_feature_dist_classes")
        feat_dist = 0
        for s, (feat, feat_imnet, gt) in enumerate(zip(feats, feats_imnet, gts)):
            mask, gt_rescaled = feat_dist_mask(gt, feat.shape[-1], self.classes, self.scale_min_ratio,
                                               self.num_classes)
            feat_dist = feat_dist + masked_feat_dist(feat, feat_imnet.detach(), mask)
            if s == 0:
                self.last_mask, self.last_gt_rescaled = mask, gt_rescaled
        loss = self.lambda_ * feat_dist
        return loss, {'loss_imnet_feat_dist': loss.detach()}
