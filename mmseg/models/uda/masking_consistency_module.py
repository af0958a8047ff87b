"""MIC: masked image consistency (spec §6), as the reference ``masking_consistency_module.py``.

One call is the masked step of an iteration: take the pseudo-labels (those of the host's teacher,
or of MIC's own EMA teacher), select the batch of ``mask_mode``, colour-augment it in the ``*aug``
modes (fresh draws, blur regardless of the host's ``blur`` flag), mask random blocks and return
the student's losses on it, ``decode.loss_seg`` scaled by ``mask_lambda``. The caller prefixes
them with ``masked.``, parses them and back-propagates.
"""
import copy
import random
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor, nn

from mmseg.registry import MODELS
from mmseg.utils import check_config_keys
from ..utils.block_mask_generator import build_mask_generator
from ..utils.dacs_transforms import get_mean_std, strong_transform
from .ema_teacher import init_ema_weights, teacher_logits, update_ema
from .pseudo_label import PseudoLabels, pseudo_label_and_weight

MASK_MODES = ('separate', 'separatesrc', 'separatetrg', 'separateaug', 'separatesrcaug', 'separatetrgaug')
SOURCE_MODES = ('separatesrc', 'separatesrcaug')
MIXED_MODES = ('separate', 'separateaug')
MIC_CFG_DEFAULTS = dict(model=None, source_only=False, alpha=0.99, pseudo_threshold=0.968,
                        pseudo_weight_ignore_top=0, pseudo_weight_ignore_bottom=0, color_jitter_strength=0.2,
                        color_jitter_probability=0.2, mask_alpha='same', mask_pseudo_threshold='same')
MIC_CFG_REQUIRED = ('mask_mode', 'mask_lambda', 'mask_generator')


class EMATeacher(nn.Module):
    """MIC's own mean teacher (reference ``EMATeacher(use_mask_params=True)``).

    Same rules as the DACS teacher: parameters copied at iteration 0 and averaged after, dropout and
    drop-path off but BatchNorm in training mode, pseudo-labels with the scalar weight q and the
    margin filtering. ``pseudo_threshold=None`` gives weight 1 on every pixel (before the margins).
    """

    def __init__(self, model: dict, alpha: float, pseudo_threshold: Optional[float], ignore_top: int = 0,
                 ignore_bottom: int = 0):
        super().__init__()
        self.alpha = alpha
        self.pseudo_threshold = pseudo_threshold
        self.psweight_ignore_top = ignore_top
        self.psweight_ignore_bottom = ignore_bottom
        self.ema_model = MODELS.build(copy.deepcopy(model)).requires_grad_(False)

    def update_weights(self, model: nn.Module, iteration: int) -> None:
        """Copy the student at iteration 0, else the EMA update with ``alpha``."""
        if iteration == 0:
            init_ema_weights(model, self.ema_model)
        else:
            update_ema(model, self.ema_model, iteration, self.alpha)

    @torch.no_grad()
    def forward(self, target_img: Tensor, target_img_metas: List[dict],
                valid_pseudo_mask: Optional[Tensor] = None) -> PseudoLabels:
        """Pseudo-labels and weights of the un-augmented target batch."""
        logits = teacher_logits(self.ema_model, target_img, target_img_metas)
        # every probability is >= 0, so threshold 0 gives q = 1: the reference's weight of ones for None
        threshold = 0. if self.pseudo_threshold is None else self.pseudo_threshold
        return pseudo_label_and_weight(logits, threshold, self.psweight_ignore_top, self.psweight_ignore_bottom,
                                       valid_pseudo_mask)


class MaskingConsistencyModule(nn.Module):
    """Args: ``require_teacher``, build an own teacher even with 'same' settings (AdvSeg, MinEnt);
    ``cfg``, the host's hyper-parameters under the reference names:

    - required: ``mask_mode`` (one of ``MASK_MODES``), ``mask_lambda``, ``mask_generator``
      (``dict(type='block', mask_ratio, mask_block_size)``);
    - optional (defaults ``MIC_CFG_DEFAULTS``): ``mask_alpha`` / ``mask_pseudo_threshold``, a number
      (or None for the threshold: weight 1) or ``'same'``; both 'same' and not ``require_teacher``:
      no own teacher, the caller passes its pseudo-labels; otherwise an own :class:`EMATeacher`
      whose 'same' values fall back to ``alpha`` / ``pseudo_threshold``, with margins
      ``pseudo_weight_ignore_top`` / ``_bottom``, built from the segmentor config ``model``;
      ``color_jitter_strength`` / ``_probability`` of the ``*aug`` modes; ``source_only`` (mask the
      source batch whatever the mode).
    """

    def __init__(self, require_teacher: bool, cfg: dict):
        super().__init__()
        check_config_keys(cfg, MIC_CFG_REQUIRED + tuple(MIC_CFG_DEFAULTS), 'MIC cfg')
        missing = [key for key in MIC_CFG_REQUIRED if key not in cfg]
        if missing:
            raise ValueError(f'MIC cfg: missing keys {missing}')
        cfg = dict(MIC_CFG_DEFAULTS, **cfg)
        if cfg['mask_mode'] not in MASK_MODES:
            raise ValueError(f'mask_mode={cfg["mask_mode"]!r}; expected one of {", ".join(MASK_MODES)}')
        if cfg['mask_generator'] is None:
            raise ValueError('MIC needs a mask_generator, e.g. dict(type="block", mask_ratio=0.7, mask_block_size=64)')
        mask_alpha = cfg['mask_alpha']
        if mask_alpha != 'same' and not (isinstance(mask_alpha, (int, float)) and 0. <= mask_alpha < 1.):
            raise ValueError(f"mask_alpha={mask_alpha!r}; expected 'same' or 0 <= mask_alpha < 1")
        threshold = cfg['mask_pseudo_threshold']
        if threshold not in ('same', None) and not isinstance(threshold, (int, float)):
            raise ValueError(f"mask_pseudo_threshold={threshold!r}; expected 'same', None or a number")
        self.source_only = cfg['source_only']
        self.color_jitter_s = cfg['color_jitter_strength']
        self.color_jitter_p = cfg['color_jitter_probability']
        self.mask_mode = cfg['mask_mode']
        self.mask_alpha = mask_alpha
        self.mask_pseudo_threshold = threshold
        self.mask_lambda = cfg['mask_lambda']
        self.mask_gen = build_mask_generator(cfg['mask_generator'])
        self.teacher = None
        if require_teacher or mask_alpha != 'same' or threshold != 'same':
            if cfg['model'] is None:
                raise ValueError('MIC with its own teacher (mask_alpha / mask_pseudo_threshold not both "same", or '
                                 'require_teacher) needs the segmentor config in cfg["model"]')
            self.teacher = EMATeacher(cfg['model'], cfg['alpha'] if mask_alpha == 'same' else mask_alpha,
                                      cfg['pseudo_threshold'] if threshold == 'same' else threshold,
                                      cfg['pseudo_weight_ignore_top'], cfg['pseudo_weight_ignore_bottom'])

    def update_weights(self, model: nn.Module, iteration: int) -> None:
        """Initialise / update the own teacher from the student ``model``; nothing without one."""
        if self.teacher is not None:
            self.teacher.update_weights(model, iteration)

    def forward(self, model: nn.Module, img: Tensor, img_metas: List[dict], gt_semantic_seg: Tensor,
                target_img: Tensor, target_img_metas: List[dict], valid_pseudo_mask: Optional[Tensor] = None,
                pseudo_label: Optional[Tensor] = None, pseudo_weight: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """The student's (``model``) losses on the masked batch, not yet prefixed.

        ``img`` / ``gt_semantic_seg`` (B x 1 x H x W) are the source batch, ``target_img`` the clean
        target batch; ``pseudo_label`` (B x H x W) and ``pseudo_weight`` are the host teacher's
        *unmixed* ones, required without an own teacher in the target modes.
        """
        means, stds = get_mean_std(img_metas, img.device)
        if not self.source_only and self.teacher is not None:
            teacher_out = self.teacher(target_img, target_img_metas, valid_pseudo_mask)
            pseudo_label, pseudo_weight = teacher_out.label, teacher_out.weight
        if self.source_only or self.mask_mode in SOURCE_MODES:
            masked_img, masked_lbl, masked_seg_weight = img, gt_semantic_seg, None
        elif self.mask_mode in MIXED_MODES:
            if img.shape[0] != 2:
                raise ValueError(f'mask_mode={self.mask_mode!r} masks [source 0, target 0] and needs batch size 2; '
                                 f'got {img.shape[0]}')
            plabel, pweight = self._check_pseudo(pseudo_label, pseudo_weight)
            masked_img = torch.stack([img[0], target_img[0]])
            masked_lbl = torch.stack([gt_semantic_seg[0], plabel[0].unsqueeze(0)])
            masked_seg_weight = torch.stack([torch.ones(pweight[0].shape, device=img.device), pweight[0]])
        else:
            plabel, pweight = self._check_pseudo(pseudo_label, pseudo_weight)
            masked_img, masked_lbl, masked_seg_weight = target_img, plabel.unsqueeze(1), pweight

        if 'aug' in self.mask_mode:
            strong_parameters = dict(mix=None, color_jitter=random.uniform(0, 1), color_jitter_s=self.color_jitter_s,
                                     color_jitter_p=self.color_jitter_p, blur=random.uniform(0, 1),
                                     mean=means[0].unsqueeze(0), std=stds[0].unsqueeze(0))
            masked_img, _ = strong_transform(strong_parameters, data=masked_img)
        masked_img = self.mask_gen.mask_image(masked_img)

        losses = model.forward_train(masked_img, img_metas, masked_lbl, seg_weight=masked_seg_weight)
        if self.mask_lambda != 1:
            losses['decode.loss_seg'] = losses['decode.loss_seg'] * self.mask_lambda
        return losses

    def _check_pseudo(self, label: Optional[Tensor], weight: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
        if label is None or weight is None:
            raise ValueError(f"mask_mode={self.mask_mode!r} with mask_alpha and mask_pseudo_threshold 'same' "
                             'needs the pseudo_label and pseudo_weight of the host teacher')
        return label, weight

