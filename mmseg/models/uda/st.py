"""DDB step 1: mean-teacher self-training on domain-bridged images (``ST``, spec ebda-cdda-ddb §3.4).

One iteration (``local_iter`` t, 0-based):

1. t = 0: with ``distilled_model_path`` (Round 2), the student takes the distilled student of a CKD checkpoint
   (its ``stu_model.*`` keys, strictly); then the teacher copies the student's parameters. t > 0: EMA update of
   the parameters with momentum ``min(1 − 1/(t+1), alpha)`` (BatchNorm buffers are not averaged).
2. Source loss ``decode.loss_ce`` on the source crop; backward.
3. The teacher (dropout off, BatchNorm in training mode: batch statistics) labels the **clean** target crop:
   argmax pseudo-labels and one weight q per batch, the share of pixels whose confidence is at least
   ``pseudo_threshold`` (over all processes in a distributed run).
4. Bridged label ``M·y_s + (1 − M)·ŷ`` and weight ``M + (1 − M)·q`` from the bridging mask M (source ignore
   pixels stay 255).
5. ``mix.decode.loss_ce``: the student's weighted loss on the bridged image; backward.

Reference quirk kept: the returned ``loss`` is the bridged loss only (the source entry is overwritten when the
bridged log values are merged). The mixing itself happens in the data loader (:class:`DomainBridgingDataset`).
"""
from typing import Callable, Dict, List, Optional

import torch
from torch import Tensor

from mmseg.registry import MODELS
from ..segmentors.encoder_decoder import add_prefix
from .bridging_uda import Bridging, BridgingUDA
from .ddb_checkpoint import check_stage_checkpoint, distilled_student_state, load_stage_checkpoint
from .ema_teacher import init_ema_weights, teacher_logits, update_ema
from .pseudo_label import pseudo_label_and_weight

DISTILLED_MODEL_KEY = 'uda.distilled_model_path'
DISTILLED_STUDENT = 'distilled student (stu_model.* of a CKD checkpoint)'


def bridged_targets(mask: Tensor, gt_semantic_seg: Tensor, pseudo_label: Tensor,
                    pseudo_weight: Tensor) -> tuple:
    """(label B x 1 x H x W, weight B x H x W) of bridged images: the source label and weight 1 where ``mask``
    (B x 1 x H x W) is 1, the pseudo-label (B x H x W) and its weight elsewhere."""
    label = mask * gt_semantic_seg + (1 - mask) * pseudo_label.unsqueeze(1)
    weight = mask.squeeze(1) * torch.ones_like(pseudo_weight) + (1 - mask.squeeze(1)) * pseudo_weight
    return label, weight


@MODELS.register_module()
class ST(BridgingUDA):
    """Args (reference names and defaults of ``configs/_base_/uda/st.py``):
        alpha: EMA teacher momentum (0.99).
        pseudo_threshold: confidence threshold of the pseudo-label weight q.
        pseudo_weight_ignore_top / _bottom: image rows of weight 0 (0 in DDB).
        distilled_model_path: a CKD checkpoint whose distilled student initialises the student (and so the
            teacher) at the first iteration (Round 2); None or '' for Round 1.
        imnet_feature_dist_lambda, imnet_feature_dist_classes, imnet_feature_dist_scale_min_ratio: the reference's
            feature distance keys; DDB never enables it, and it is not supported here (lambda must be 0).
        print_grad_magnitude: must be False (not supported for ST).
        debug_img_interval: iterations between debug panels (source, target, bridged image, mask, labels) in
            ``<work_dir>/class_mix_debug``; 0 turns them off.
        fused_ema: multi-tensor EMA update (same values as the reference's loop).
    """

    def __init__(self, model: dict, max_iters: Optional[int] = None, alpha: float = 0.99,
                 pseudo_threshold: float = 0.968, pseudo_weight_ignore_top: int = 0,
                 pseudo_weight_ignore_bottom: int = 0, distilled_model_path: Optional[str] = None,
                 imnet_feature_dist_lambda: float = 0, imnet_feature_dist_classes: Optional[List[int]] = None,
                 imnet_feature_dist_scale_min_ratio: Optional[float] = None, print_grad_magnitude: bool = False,
                 debug_img_interval: int = 1000, work_dir: Optional[str] = None, fused_ema: bool = True, **kwargs):
        super().__init__(model=model, max_iters=max_iters, **kwargs)
        if imnet_feature_dist_lambda:
            raise ValueError(f'ST imnet_feature_dist_lambda={imnet_feature_dist_lambda}: the ImageNet feature '
                             'distance is not supported for ST (no DDB config enables it); set it to 0')
        if print_grad_magnitude:
            raise ValueError('ST print_grad_magnitude=True is not supported; set it to False')
        if not 0. <= alpha < 1.:
            raise ValueError(f'ST alpha={alpha}; expected 0 <= alpha < 1')
        self.alpha = alpha
        self.pseudo_threshold = pseudo_threshold
        self.psweight_ignore_top = pseudo_weight_ignore_top
        self.psweight_ignore_bottom = pseudo_weight_ignore_bottom
        self.distilled_model_path = distilled_model_path or None
        self.debug_img_interval = debug_img_interval
        self.work_dir = work_dir
        self.fused_ema = fused_ema
        self.ema_model = self.build_segmentor_copy().requires_grad_(False)
        if self.distilled_model_path is not None:  # a wrong file fails now, not after the first iteration
            check_stage_checkpoint(self.get_model(), self.distilled_model_path, distilled_student_state,
                                   DISTILLED_MODEL_KEY, DISTILLED_STUDENT)
        self.local_iter = 0

    def get_ema_model(self) -> torch.nn.Module:
        return self.ema_model

    def forward_train(self, img: Tensor, img_metas: List[dict], gt_semantic_seg: Tensor, target_img: Tensor,
                      target_img_metas: List[dict], bridging: Bridging,
                      backward: Callable = Tensor.backward) -> Dict[str, Tensor]:
        """The reference ``ST.forward_train``; the losses are back-propagated here."""
        student = self.get_model()
        if self.local_iter == 0:
            if self.distilled_model_path is not None:
                load_stage_checkpoint(student, self.distilled_model_path, distilled_student_state,
                                      DISTILLED_MODEL_KEY, DISTILLED_STUDENT)
            init_ema_weights(student, self.get_ema_model())
        else:
            update_ema(student, self.get_ema_model(), self.local_iter, self.alpha, fused=self.fused_ema)

        source_loss, log_vars = self.parse_losses(student.forward_train(img, img_metas, gt_semantic_seg))
        backward(source_loss)

        ema_logits = teacher_logits(self.get_ema_model(), target_img, target_img_metas)
        pseudo = pseudo_label_and_weight(ema_logits, self.pseudo_threshold, self.psweight_ignore_top,
                                         self.psweight_ignore_bottom)
        del ema_logits
        mixed_label, mixed_weight = bridged_targets(bridging.mask, gt_semantic_seg, pseudo.label, pseudo.weight)
        mix_losses = student.forward_train(bridging.img, img_metas, mixed_label, mixed_weight)
        mix_loss, mix_log = self.parse_losses(add_prefix(mix_losses, 'mix'))
        log_vars.update(mix_log)  # the reference's quirk: 'loss' is now the bridged loss only
        backward(mix_loss)
        self.write_debug_panel(img, img_metas, target_img, bridging, gt_semantic_seg, pseudo.label, mixed_weight,
                               mixed_label)
        self.local_iter += 1
        return log_vars
