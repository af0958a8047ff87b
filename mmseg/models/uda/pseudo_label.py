"""Pseudo-labels and the confidence weight q of DACS (spec §5.2 step 5, §13.2)."""
from typing import NamedTuple, Optional

import torch
import torch.distributed as torch_dist
from torch import Tensor

from mmseg.utils.gradient_sync import distributed_world_size


class PseudoLabels(NamedTuple):
    """``label`` (B x H x W int64), ``prob`` (its softmax probability), ``weight`` (B x H x W),
    ``fraction`` (q as a 0-dim float64 tensor)."""
    label: Tensor
    prob: Tensor
    weight: Tensor
    fraction: Tensor


def pseudo_label_and_weight(logits: Tensor, threshold: float, ignore_top: int = 0, ignore_bottom: int = 0,
                            valid_mask: Optional[Tensor] = None) -> PseudoLabels:
    """Argmax pseudo-labels of teacher ``logits`` (B x C x H x W) and their pixel weights.

    The weight is one scalar per batch, q = (#pixels with max probability >= ``threshold``) /
    (B·H·W), on every pixel: low-confidence pixels keep their label and weight q (reference
    behaviour). In a distributed run q is counted over the batches of all processes (their sum
    of confident pixels over their sum of pixels), so N processes with batch B weight their
    pixels as one process with batch N·B. The logits are read in float32 (mixed precision).
    Then the top ``ignore_top`` and bottom ``ignore_bottom`` rows get weight 0 (DAFormer), or the
    weight is multiplied by ``valid_mask`` (B x 1 x H x W, HRDA/MIC); the two are exclusive, as
    the reference asserts.
    """
    if valid_mask is not None and (ignore_top > 0 or ignore_bottom > 0):
        raise ValueError('pseudo_weight_ignore_top/bottom must be 0 when a valid_pseudo_mask is used')
    softmax = torch.softmax(logits.detach().float(), dim=1)
    prob, label = torch.max(softmax, dim=1)
    fraction = confident_fraction(prob, threshold)
    weight = torch.ones(prob.shape, device=logits.device) * fraction.to(torch.float32)
    return PseudoLabels(label, prob, crop_pseudo_weight(weight, ignore_top, ignore_bottom, valid_mask), fraction)


def confident_fraction(prob: Tensor, threshold: float) -> Tensor:
    """q = (#pixels of ``prob`` at or above ``threshold``) / (#pixels), a 0-dim float64 tensor; in a distributed run
    counted over the pixels of all processes."""
    confident = prob.ge(threshold).sum().to(torch.float64)
    if distributed_world_size() > 1:
        counts = torch.stack([confident, torch.full_like(confident, prob.numel())])  # no host-to-device copy
        torch_dist.all_reduce(counts)
        return counts[0] / counts[1]
    return confident / prob.numel()


def crop_pseudo_weight(weight: Tensor, ignore_top: int = 0, ignore_bottom: int = 0,
                       valid_mask: Optional[Tensor] = None) -> Tensor:
    """``weight`` (B x H x W, in place) with the top ``ignore_top`` and bottom ``ignore_bottom`` rows set to 0
    (DAFormer's pseudo-label crop) and multiplied by ``valid_mask`` (B x 1 x H x W, HRDA/MIC)."""
    if ignore_top > 0:
        weight[:, :ignore_top, :] = 0
    if ignore_bottom > 0:
        weight[:, -ignore_bottom:, :] = 0
    if valid_mask is not None:
        weight *= valid_mask.squeeze(1)
    return weight
