"""Entropy balancing of EBDA (spec ebda-cdda-ddb §1.1): pull every pixel's prediction entropy to h0.

``L_EB = weight · mean_{b,h,w}((H − target)²)`` with ``H = −Σ_c p_c ln p_c`` of the softmax of the
full-resolution logits of the mixed image; no pseudo-label weighting, no mask. The entropy is
computed with ``log_softmax`` (equal to ``ln p`` in exact arithmetic, finite where p underflows).
"""
import torch
import torch.nn.functional as F


def pixel_entropy(logits: torch.Tensor) -> torch.Tensor:
    """Natural-log entropy (B, H, W) of the softmax over dim 1 of (B, C, H, W) logits, in float32."""
    log_p = F.log_softmax(logits.float(), dim=1)
    return -(log_p.exp() * log_p).sum(dim=1)


def entropy_balance_loss(logits: torch.Tensor, target: float = 0.4, weight: float = 0.1) -> torch.Tensor:
    """``weight · mean((H − target)²)`` over all pixels."""
    return weight * (pixel_entropy(logits) - target).pow(2).mean()
