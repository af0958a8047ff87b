"""MinEnt (after ADVENT): entropy minimisation of the target predictions (spec §7, MIC ``minent.py``).

Per iteration: the supervised source loss, then ``ent.loss.main`` = ``lambda_ent['main']`` x the mean
normalised entropy of the softmax of the target prediction, each back-propagated on its own, then the
MIC masked loss when MIC is on (see :class:`OutputSpaceUDA`); one optimiser step. The reference trains it
with SGD (lr 0.0025, no head multiplier) on colour-augmented ("CAug") source data.

Deviation (logging only): the reference's log of a MinEnt iteration drops the MIC ``masked.*`` values
(golden quirk 5); they are logged here, as AdvSeg logs them.
"""
import math
from typing import Dict, Optional

import torch
from torch import Tensor

from mmseg.registry import MODELS
from .output_space_uda import DebugGrid, OutputSpaceUDA, check_output_weights, softmax


def _check_probabilities(prob: Tensor) -> None:
    if prob.dim() != 4:
        raise ValueError(f'expected (N, C, H, W) class probabilities, got shape {tuple(prob.shape)}')


def entropy_loss(prob: Tensor) -> Tensor:
    """``-Σ p·log2(p + 1e-30) / (N·H·W·log2 C)`` of (N, C, H, W) probabilities: the mean entropy in [0, 1]."""
    _check_probabilities(prob)
    n, c, h, w = prob.shape
    return -torch.sum(torch.mul(prob, torch.log2(prob + 1e-30))) / (n * h * w * math.log2(c))


def entropy_map(prob: Tensor) -> Tensor:
    """Per-pixel normalised entropy (N, H, W) of (N, C, H, W) probabilities, ``-Σ_c p·log2(p + 1e-30) / log2 C``."""
    _check_probabilities(prob)
    return -torch.sum(torch.mul(prob, torch.log2(prob + 1e-30)), dim=1) / math.log2(prob.shape[1])


@MODELS.register_module()
class MinEnt(OutputSpaceUDA):
    """Args: ``lambda_ent``, weight of the entropy loss per output (``main``; ``aux`` for an auxiliary
    head, which no segmentor here has); the rest as :class:`OutputSpaceUDA`. Debug grids add the
    target's entropy map."""

    def __init__(self, model: dict, max_iters: Optional[int] = None, lambda_ent: Optional[dict] = None, **kwargs):
        super().__init__(model=model, max_iters=max_iters, **kwargs)
        self.lambda_ent = check_output_weights(lambda_ent or dict(main=0.001, aux=0.0002), 'MinEnt lambda_ent')
        self.build_masking_consistency()

    def target_losses(self, pred_trg: Dict[str, Tensor], debug: Optional[DebugGrid]) -> Dict[str, Tensor]:
        losses = {}
        for name, pred in pred_trg.items():
            prob = softmax(pred)
            losses[f'ent.loss.{name}'] = self.lambda_ent[name] * entropy_loss(prob)
            if debug is not None:
                debug['Target'][f'Entropy {name}'] = entropy_map(prob.detach()).unsqueeze(1)
        return losses
