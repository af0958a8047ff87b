"""DACS self-training wrapper of DAFormer (spec §5): student, EMA teacher and frozen ImageNet model.

One ``train_step`` is the reference iteration (spec §5.2): EMA init/update, source loss, ImageNet
feature distance, teacher pseudo-labels, ClassMix with strong augmentation, mixed loss, debug images
every ``debug_img_interval`` iterations when a ``work_dir`` is given (spec §5.6). Each loss
gets its own backward pass (gradients accumulate, as the reference) and the optimiser steps once.
The hyper-parameters keep the reference names so a published ``uda`` config translates line by line.

With an HRDA student (spec §5.7) the same steps hold: every student forward draws its own detail
crop, the teacher's pseudo-labels come from HRDA's ``encode_decode`` (context + sliding detail
branch), FD uses the features of ``feature_scale`` (summed over both scales for ``'all'``), and
the target's ``valid_pseudo_mask`` (``crop_pseudo_margins`` of the target data set) zeroes the
pseudo-label weight in the image margins. On debug iterations the HRDA student and teacher record
their branch inputs and predictions, written as the reference's ``*_s.png`` grid (rows Source /
Target / Mix).
"""
import random
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.dist import is_main_process
from mmengine.logging import print_log
from torch import Tensor

from mmseg.datasets.transforms.depth_loading import batch_depth_maps
from mmseg.registry import MODELS
from mmseg.utils import check_config_keys
from mmseg.utils.gradient_sync import average_gradients
from ..segmentors.encoder_decoder import add_prefix
from ..segmentors.hrda_encoder_decoder import FEATURE_SCALE_ALL, HRDAEncoderDecoder
from ..utils.dacs_transforms import get_class_masks, get_mean_std, strong_transform
from ..utils.hr_crop import crop
from ..utils.resize import resize
from .ema_teacher import init_ema_weights, teacher_logits, update_ema
from .debug_visualization import write_class_mix_debug, write_hrda_debug_grid
from .depth_guidance import DepthGuidance, guidance_loss, replace_sources, student_logits
from .entropy_balance import entropy_balance_loss
from .feature_distance import ImnetFeatureDistance
from .masking_consistency_module import MaskingConsistencyModule
from .pseudo_label import PseudoLabels, crop_pseudo_weight, pseudo_label_and_weight
from .uda_decorator import UDADecorator

MIX_MODES = ('class', )


def valid_pseudo_mask(target: dict) -> Optional[Tensor]:
    """The pre-processed target batch's ``valid_pseudo_mask`` (B x 1 x H x W uint8), padded with 0 to
    the batch's image size, or None when the samples carry none."""
    samples = target['data_samples']
    carried = ['valid_pseudo_mask' in sample for sample in samples]
    if not any(carried):
        return None
    if not all(carried):
        raise ValueError('DACS: only some target samples carry a valid_pseudo_mask (crop_pseudo_margins)')
    h, w = target['inputs'].shape[-2:]
    masks = [sample.valid_pseudo_mask.data for sample in samples]
    return torch.stack([F.pad(m, (0, w - m.shape[-1], 0, h - m.shape[-2]), value=0) for m in masks])


@MODELS.register_module()
class DACS(UDADecorator):
    """Args (reference names and defaults of ``configs/_base_/uda/dacs.py``):
        alpha: EMA teacher momentum.
        pseudo_threshold: confidence threshold of the pseudo-label weight.
        pseudo_weight_ignore_top / _bottom: image rows given weight 0 in the pseudo-label weight
            (DAFormer); must be 0 when the target samples carry a ``valid_pseudo_mask`` (HRDA/MIC).
        imnet_feature_dist_lambda: weight of the ImageNet feature distance; > 0 builds ``imnet_model``.
        imnet_feature_dist_classes: classes whose features are regularised (None: all; required for an
            HRDA student with ``feature_scale='all'``, as the reference).
        imnet_feature_dist_scale_min_ratio: min class ratio of a feature cell's label patch.
        mix: ``'class'`` (ClassMix).
        blur, color_jitter_strength, color_jitter_probability: strong augmentation of the mixed image.
        debug_img_interval: iterations between debug images (spec §5.6; 0 turns them off).
        work_dir: run directory; debug images go to ``<work_dir>/class_mix_debug`` (None: no images).
        print_grad_magnitude: log the gradient magnitude of each loss.
        fused_ema: update the teacher with multi-tensor ``torch._foreach_*`` operations; False is the
            reference's loop over parameters (same values, slower).
        source_only: train on the source only (``dacs_srconly``): no teacher, no mixing.
        source_only_augment: with ``source_only``, give each source image the strong augmentation
            that DACS gives the mixed images (colour jitter and blur, same parameters and draws), so a
            source-only baseline has the same photometric augmentation as self-training.
        entropy_balance: EBDA, ``dict(target=0.4, weight=0.1, second_forward=True)`` or None (off).
            ``second_forward=True`` is the reference: a new stochastic forward of the mixed image
            after the mixed backward, with its own backward. ``second_forward=False`` computes the
            loss on the logits of the mixed-image forward and back-propagates it with the mixed
            loss (one forward less, not the reference's dropout / drop-path draw). Logged as
            ``mix.entropy``.
        mask_mode, mask_alpha, mask_pseudo_threshold, mask_lambda, mask_generator: MIC (spec §6; off
            while ``mask_mode`` is None): after the mixed step, the batch of ``mask_mode`` (e.g.
            'separatetrgaug') is masked in blocks and trained with the teacher's un-mixed pseudo-labels,
            logged as ``masked.*`` (see :class:`MaskingConsistencyModule`).
        cdda: CDDA, ``dict(dataset, reweight_threshold, relabel_threshold, threshold_decay, ...)`` (see
            :class:`~.depth_guidance.DepthGuidance`) or None (off): after the pseudo-labels, the target
            crops' depth histograms are compared with the source bank; the pseudo-label weights are
            reweighted class-wise (before the crop mask), a guidance loss on the clean target crop is
            back-propagated (``tgt.loss``) and ClassMix takes its sources from the bank. The source loss,
            FD, MIC and the debug images keep the original source crops. Needs target depth maps.
    """

    def __init__(self, model: dict, max_iters: Optional[int] = None, alpha: float = 0.99,
                 pseudo_threshold: float = 0.968, pseudo_weight_ignore_top: int = 0,
                 pseudo_weight_ignore_bottom: int = 0, imnet_feature_dist_lambda: float = 0.,
                 imnet_feature_dist_classes: Optional[Sequence[int]] = None,
                 imnet_feature_dist_scale_min_ratio: Optional[float] = None, mix: str = 'class',
                 blur: bool = True, color_jitter_strength: float = 0.2, color_jitter_probability: float = 0.2,
                 debug_img_interval: int = 1000, print_grad_magnitude: bool = False, source_only: bool = False,
                 entropy_balance: Optional[dict] = None, work_dir: Optional[str] = None,
                 source_only_augment: bool = False, mask_mode: Optional[str] = None, mask_alpha='same',
                 mask_pseudo_threshold='same', mask_lambda: float = 0, mask_generator: Optional[dict] = None,
                 fused_ema: bool = True, cdda: Optional[dict] = None, **kwargs):
        super().__init__(model=model, max_iters=max_iters, **kwargs)
        if mix not in MIX_MODES:
            raise ValueError(f'DACS mix={mix!r}; expected one of {MIX_MODES}')
        if not 0. <= alpha < 1.:
            raise ValueError(f'DACS alpha={alpha}; expected 0 <= alpha < 1')
        self.alpha = alpha
        self.pseudo_threshold = pseudo_threshold
        self.psweight_ignore_top = pseudo_weight_ignore_top
        self.psweight_ignore_bottom = pseudo_weight_ignore_bottom
        self.fdist_lambda = imnet_feature_dist_lambda
        self.fdist_classes = list(imnet_feature_dist_classes) if imnet_feature_dist_classes is not None else None
        self.fdist_scale_min_ratio = imnet_feature_dist_scale_min_ratio
        self.enable_fdist = imnet_feature_dist_lambda > 0
        student = self.get_model()
        self.fdist_all_scales = isinstance(student, HRDAEncoderDecoder) and \
            student.feature_scale == FEATURE_SCALE_ALL
        if self.enable_fdist:
            self._check_hrda_feature_distance(student)
        self.mix = mix
        self.blur = blur
        self.color_jitter_s = color_jitter_strength
        self.color_jitter_p = color_jitter_probability
        self.debug_img_interval = debug_img_interval
        self.work_dir = work_dir
        self.print_grad_magnitude = print_grad_magnitude
        self.fused_ema = fused_ema
        if source_only_augment and not source_only:
            raise ValueError('DACS source_only_augment=True needs source_only=True (DACS augments the mixed images)')
        self.source_only = source_only
        self.source_only_augment = source_only_augment
        self.entropy_balance = None
        if entropy_balance is not None:
            check_config_keys(entropy_balance, ('target', 'weight', 'second_forward'), 'DACS entropy_balance')
            self.entropy_balance = dict(dict(target=0.4, weight=0.1, second_forward=True), **entropy_balance)
        self.local_iter = 0
        # built in the reference's order (teacher, MIC, ImageNet model): state-dict key order and the
        # initialisation draws of a separate MIC teacher are the reference's
        self.ema_model = None if source_only else self.build_segmentor_copy().requires_grad_(False)
        self.mic = None
        if mask_mode is not None:
            self.mic = MaskingConsistencyModule(require_teacher=False, cfg=dict(
                model=self.model_cfg, source_only=source_only, alpha=alpha, pseudo_threshold=pseudo_threshold,
                pseudo_weight_ignore_top=pseudo_weight_ignore_top,
                pseudo_weight_ignore_bottom=pseudo_weight_ignore_bottom,
                color_jitter_strength=color_jitter_strength, color_jitter_probability=color_jitter_probability,
                mask_mode=mask_mode, mask_alpha=mask_alpha, mask_pseudo_threshold=mask_pseudo_threshold,
                mask_lambda=mask_lambda, mask_generator=mask_generator))
        if cdda is not None and source_only:
            raise ValueError('DACS cdda needs pseudo-labels; it cannot be combined with source_only=True')
        self.cdda = None if cdda is None else DepthGuidance.from_config(cdda, pseudo_threshold, self.num_classes)
        self.imnet_model = self.build_segmentor_copy().requires_grad_(False) if self.enable_fdist else None
        self.feature_distance = ImnetFeatureDistance(imnet_feature_dist_lambda, self.fdist_classes,
                                                     imnet_feature_dist_scale_min_ratio,
                                                     self.num_classes) if self.enable_fdist else None

    def _check_hrda_feature_distance(self, student: torch.nn.Module) -> None:
        """Reject the HRDA FD settings the reference cannot compute."""
        if self.fdist_all_scales and self.fdist_classes is None:
            raise ValueError("DACS: feature distance with HRDA feature_scale='all' needs imnet_feature_dist_classes "
                             '(the reference has no all-pixel FD over scales)')
        if isinstance(student, HRDAEncoderDecoder) and student.crop_size is not None and \
                not self.fdist_all_scales and student.scales.index(student.feature_scale) == 1:
            raise ValueError(f'DACS: feature distance with HRDA feature_scale={student.feature_scale} (the detail '
                             "scale) compares detail-crop features with whole-image ImageNet features; use the "
                             f"context scale {student.scales[0]} or 'all'")

    def get_ema_model(self) -> torch.nn.Module:
        return self.ema_model

    def get_imnet_model(self) -> torch.nn.Module:
        return self.imnet_model

    def train_step(self, data: dict, optim_wrapper) -> Dict[str, Tensor]:
        """One DACS iteration on ``data`` = source ``inputs`` / ``data_samples`` (labelled) and
        target ``target_inputs`` / ``target_data_samples``; returns the detached log values.

        In a distributed run the accumulated gradients are averaged over the processes before the
        optimiser step (see :class:`~mmseg.engine.UDADistributedDataParallel`)."""
        source = self.data_preprocessor(dict(inputs=data['inputs'], data_samples=data['data_samples']), True)
        target = self.data_preprocessor(
            dict(inputs=data['target_inputs'], data_samples=data['target_data_samples']), True)
        gt = torch.stack([s.gt_sem_seg.data for s in source['data_samples']]).long()
        with optim_wrapper.optim_context(self):
            log_vars = self.forward_train(source['inputs'], [s.metainfo for s in source['data_samples']], gt,
                                          target['inputs'], [s.metainfo for s in target['data_samples']],
                                          optim_wrapper.backward, valid_pseudo_mask(target),
                                          batch_depth_maps(target['data_samples'], target['inputs'].shape[-2:]))
        average_gradients(self.parameters())
        optim_wrapper.step()
        optim_wrapper.zero_grad()
        return {name: value.detach() for name, value in log_vars.items()}

    def forward_train(self, img: Tensor, img_metas: List[dict], gt_semantic_seg: Tensor, target_img: Tensor,
                      target_img_metas: List[dict], backward: Callable = Tensor.backward,
                      valid_pseudo_mask: Optional[Tensor] = None,
                      target_depth: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """The reference ``DACS.forward_train``: losses are back-propagated here, one pass each.

        ``valid_pseudo_mask`` (B x 1 x H x W, 0 in the target margins) multiplies the pseudo-label
        weight, also the one MIC uses. ``target_depth`` (B x H x W): the target depth maps of CDDA."""
        log_vars = {}
        batch_size = img.shape[0]
        dev = img.device
        if not self.source_only and self.local_iter == 0:
            init_ema_weights(self.get_model(), self.get_ema_model())
        elif not self.source_only:
            update_ema(self.get_model(), self.get_ema_model(), self.local_iter, self.alpha, fused=self.fused_ema)
        if self.mic is not None:
            self.mic.update_weights(self.get_model(), self.local_iter)

        means, stds = get_mean_std(img_metas, dev)
        strong_parameters = dict(
            mix=None,
            color_jitter=random.uniform(0, 1),
            color_jitter_s=self.color_jitter_s,
            color_jitter_p=self.color_jitter_p,
            blur=random.uniform(0, 1) if self.blur else 0,
            mean=means[0].unsqueeze(0),  # the same normalisation for the whole batch, as the reference
            std=stds[0].unsqueeze(0))

        debug_images = self._debug_iteration()
        hrda_debug = {} if debug_images and self._set_hrda_debug(True) else None

        if self.source_only_augment:
            img = torch.cat([strong_transform(strong_parameters, data=img[i:i + 1])[0] for i in range(batch_size)])

        # source: supervised loss (graph kept for the feature distance)
        clean_losses = self.get_model().forward_train(img, img_metas, gt_semantic_seg, return_feat=True)
        src_feat = clean_losses.pop('features')
        if hrda_debug is not None:
            hrda_debug['Source'] = dict(self.get_model().debug_output)
        clean_loss, clean_log = self.parse_losses(clean_losses)
        log_vars.update(clean_log)
        backward(clean_loss, retain_graph=self.enable_fdist)
        if self.print_grad_magnitude:
            seg_grad = self._student_grad_norm()
            print_log(f'Seg. Grad.: {seg_grad:.4g}', logger='current')

        if self.enable_fdist:
            feat_loss, feat_log = self._feature_distance(img, gt_semantic_seg, src_feat)
            log_vars.update(add_prefix(feat_log, 'src'))
            backward(feat_loss)
            if self.print_grad_magnitude:
                print_log(f'Fdist Grad.: {self._student_grad_norm() - seg_grad:.4g}', logger='current')
        del src_feat, clean_loss
        if self.source_only:
            if self.mic is not None:
                self._masked_step(img, img_metas, gt_semantic_seg, target_img, target_img_metas, None,
                                  valid_pseudo_mask, log_vars, backward)
            log_vars.pop('loss', None)
            self.local_iter += 1
            return log_vars

        # target: pseudo-labels of the teacher (BatchNorm in training mode, dropout / drop-path off)
        ema_logits = teacher_logits(self.get_ema_model(), target_img, target_img_metas)
        if hrda_debug is not None:
            hrda_debug['Target'] = dict(self.get_ema_model().debug_output)
        pseudo = pseudo_label_and_weight(ema_logits, self.pseudo_threshold, self.psweight_ignore_top,
                                         self.psweight_ignore_bottom, valid_pseudo_mask)
        del ema_logits
        mix_src_img, mix_src_gt = img, gt_semantic_seg
        if self.cdda is not None:  # CDDA: reweighted pseudo-label weights, guidance loss, ClassMix sources
            pseudo, bank_index = self._depth_guidance(target_img, pseudo, target_depth, valid_pseudo_mask, log_vars,
                                                      backward)
            mix_src_img, mix_src_gt = replace_sources(img, gt_semantic_seg, bank_index, self.cdda.crop, means[0],
                                                      stds[0])
        pseudo_weight = pseudo.weight.clone()  # mixed below; MIC takes the un-mixed pseudo.weight
        gt_pixel_weight = torch.ones(pseudo_weight.shape, device=dev)

        # ClassMix of source into target, then strong augmentation of the mixed image
        mixed_img, mixed_lbl = [None] * batch_size, [None] * batch_size
        mix_masks = get_class_masks(mix_src_gt)
        for i in range(batch_size):
            strong_parameters['mix'] = mix_masks[i]
            mixed_img[i], mixed_lbl[i] = strong_transform(
                strong_parameters, data=torch.stack((mix_src_img[i], target_img[i])),
                target=torch.stack((mix_src_gt[i][0], pseudo.label[i])))
            _, pseudo_weight[i] = strong_transform(strong_parameters,
                                                   target=torch.stack((gt_pixel_weight[i], pseudo_weight[i])))
        mixed_img = torch.cat(mixed_img)
        mixed_lbl = torch.cat(mixed_lbl)

        eb = self.entropy_balance
        reuse_mix_logits = eb is not None and not eb['second_forward']
        mix_losses = self.get_model().forward_train(mixed_img, img_metas, mixed_lbl, pseudo_weight,
                                                    return_logits=reuse_mix_logits)
        mix_logits = mix_losses.pop('decode.logits', None)
        if hrda_debug is not None:
            hrda_debug['Mix'] = dict(self.get_model().debug_output)
            self._set_hrda_debug(False)
        mix_loss, mix_log = self.parse_losses(add_prefix(mix_losses, 'mix'))
        log_vars.update(mix_log)
        if reuse_mix_logits:
            full_res = resize(mix_logits, size=mixed_img.shape[2:], mode='bilinear',
                              align_corners=self.get_model().align_corners)
            eb_loss = entropy_balance_loss(full_res, eb['target'], eb['weight'])
            log_vars['mix.entropy'] = eb_loss.detach()
            mix_loss = mix_loss + eb_loss
        backward(mix_loss)
        if eb is not None and eb['second_forward']:
            eb_loss = entropy_balance_loss(self.get_model().encode_decode(mixed_img, img_metas), eb['target'],
                                           eb['weight'])
            log_vars['mix.entropy'] = eb_loss.detach()
            backward(eb_loss)
        if self.mic is not None:
            self._masked_step(img, img_metas, gt_semantic_seg, target_img, target_img_metas, pseudo,
                              valid_pseudo_mask, log_vars, backward)
        if debug_images:
            fd = self.feature_distance
            write_class_mix_debug(self.work_dir, self.local_iter, img, target_img, mixed_img, means, stds,
                                  gt_semantic_seg, pseudo.label, mix_masks, pseudo_weight, mixed_lbl,
                                  fdist_mask=None if fd is None else fd.last_mask,
                                  gt_rescaled=None if fd is None else fd.last_gt_rescaled)
            if hrda_debug is not None:
                write_hrda_debug_grid(self.work_dir, self.local_iter, hrda_debug, means, stds)
        log_vars.pop('loss', None)
        self.local_iter += 1
        return log_vars

    def _feature_distance(self, img: Tensor, gt_semantic_seg: Tensor,
                          src_feat: list) -> Tuple[Tensor, Dict[str, Tensor]]:
        """λ·FD of the source features and its log (spec §5.3).

        The ImageNet model sees the student's input: for an HRDA student its ``extract_feat``
        rescales to ``feature_scale``; with ``'all'`` the FD of each scale is summed, the detail
        branch and its label cropped with the student's last detail-crop box.
        """
        imnet = self.get_imnet_model()
        if not self.fdist_all_scales:
            with torch.no_grad():
                imnet.eval()
                feat_imnet = imnet.extract_feat(img)
            return self.feature_distance(src_feat[-1], feat_imnet[-1].detach(), gt_semantic_seg)
        student = self.get_model()
        crop_box = student.last_train_crop_box if student.crop_size is not None else None
        with torch.no_grad():
            imnet.eval()
            feat_imnet = imnet.extract_feat(img, crop_box=crop_box)
        gts = [gt_semantic_seg if i == 0 or crop_box is None else crop(gt_semantic_seg, crop_box)
               for i in range(len(src_feat))]
        return self.feature_distance.multi_scale([f[-1] for f in src_feat], [f[-1].detach() for f in feat_imnet],
                                                 gts)

    def _depth_guidance(self, target_img: Tensor, pseudo: PseudoLabels, target_depth: Optional[Tensor],
                        valid_mask: Optional[Tensor], log_vars: dict,
                        backward: Callable) -> Tuple[PseudoLabels, List[int]]:
        """CDDA (spec ebda-cdda-ddb §2.9, steps 6-8): the reweighted and cropped pseudo-label weights, the
        guidance loss on the clean target crop (``tgt.loss``, back-propagated when relabeling fired) and the
        bank crop per image for ClassMix (-1: the source crop)."""
        step = self.cdda.step(self.local_iter, pseudo.label, pseudo.prob, pseudo.fraction, target_depth)
        weight = crop_pseudo_weight(step.weight, self.psweight_ignore_top, self.psweight_ignore_bottom, valid_mask)
        if step.soft_target is not None:
            loss, _ = guidance_loss(student_logits(self.get_model(), target_img), step.soft_target,
                                    step.guidance_weight)
            log_vars['tgt.loss'] = loss.detach()
            backward(loss)
        return pseudo._replace(weight=weight), step.bank_index

    def _masked_step(self, img: Tensor, img_metas: List[dict], gt_semantic_seg: Tensor, target_img: Tensor,
                     target_img_metas: List[dict], pseudo, valid_mask: Optional[Tensor], log_vars: dict,
                     backward: Callable) -> None:
        """MIC: the student's loss on the masked batch (``masked.*``), back-propagated."""
        masked_losses = self.mic(self.get_model(), img, img_metas, gt_semantic_seg, target_img, target_img_metas,
                                 valid_mask, None if pseudo is None else pseudo.label,
                                 None if pseudo is None else pseudo.weight)
        masked_loss, masked_log = self.parse_losses(add_prefix(masked_losses, 'masked'))
        log_vars.update(masked_log)
        backward(masked_loss)

    def _debug_iteration(self) -> bool:
        """Whether this iteration writes debug images (every ``debug_img_interval``, iteration 0 included;
        with several processes only the main one writes)."""
        return (self.work_dir is not None and self.debug_img_interval > 0
                and self.local_iter % self.debug_img_interval == 0 and is_main_process())

    def _set_hrda_debug(self, on: bool) -> bool:
        """Switch the HRDA student's and teacher's debug recording; False when there is nothing to record
        (no HRDA student, or source-only training, which writes no debug images)."""
        if self.source_only or not isinstance(self.get_model(), HRDAEncoderDecoder):
            return False
        self.get_model().debug = on
        self.get_ema_model().debug = on
        return True

    def _student_grad_norm(self) -> float:
        grads = [p.grad.detach().flatten() for p in self.get_model().parameters() if p.grad is not None]
        return float(torch.cat(grads).norm()) if grads else 0.0
