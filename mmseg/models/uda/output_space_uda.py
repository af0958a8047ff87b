"""Base of the UDA baselines that adapt in the output space: AdvSeg (adversarial) and MinEnt (entropy), spec §7.

One iteration (``forward_train``), each loss back-propagated on its own (gradients accumulate):

1. MIC's own EMA teacher follows the student (when MIC is on);
2. :meth:`before_target_losses` (AdvSeg freezes its discriminators);
3. source: supervised loss of the student's training forward; backward;
4. target: the student's training forward, its logits resized to the adaptation size (the input size;
   0.5x of it for an HRDA student, as the reference resizes the fused HRDA output), and the method's
   target losses (:meth:`target_losses`); backward;
5. MIC: the masked loss with its own teacher (``require_teacher=True``, as the reference); backward;
6. :meth:`after_target_losses` (AdvSeg's discriminator losses on the detached predictions);
7. debug images every ``debug_img_interval`` iterations (iteration 0 included) when a ``work_dir`` is set.

Reference quirks not reproduced (both make the released code crash without MIC): ``self.mic`` is None
without a mask mode (the reference never assigns it and fails on reading it), and the debug grid of one
row is drawn (the reference indexes the 1-D axes array of ``plt.subplots(1, n)`` as 2-D).
"""
from typing import Callable, Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.dist import is_main_process
from torch import Tensor

from mmseg.utils.gradient_sync import average_gradients
from ..segmentors.encoder_decoder import add_prefix
from ..segmentors.hrda_encoder_decoder import HRDAEncoderDecoder
from ..utils.dacs_transforms import get_mean_std
from ..utils.resize import resize
from .dacs import valid_pseudo_mask
from .debug_visualization import write_hrda_debug_grid
from .masking_consistency_module import MaskingConsistencyModule
from .uda_decorator import UDADecorator

# The reference resizes the fused HRDA prediction to half the input size before the discriminator / entropy.
HRDA_OUTPUT_SCALE = 0.5
# Outputs of the segmentor the methods adapt; 'aux' would come from an auxiliary head, which no segmentor
# here has (the reference configs keep its loss weights).
OUTPUT_NAMES = ('main', 'aux')
DebugGrid = Dict[str, Dict[str, Tensor]]


def check_output_weights(weights: dict, name: str) -> Dict[str, float]:
    """A ``{'main': w[, 'aux': w]}`` dict of loss weights (``name`` is the config key, for the error)."""
    if not isinstance(weights, dict) or 'main' not in weights or set(weights) - set(OUTPUT_NAMES):
        raise ValueError(f'{name}={weights!r}; expected a dict with the key "main" (and optionally "aux")')
    return {key: float(value) for key, value in weights.items()}


def softmax(logits: Tensor) -> Tensor:
    """Class probabilities of (B, C, H, W) logits, in float32."""
    return F.softmax(logits.float(), dim=1)


class OutputSpaceUDA(UDADecorator):
    """Args (reference names; the MIC keys are inactive while ``mask_mode`` is None):
        debug_img_interval: iterations between debug grids (0 turns them off).
        work_dir: run directory; the grids go to ``<work_dir>/class_mix_debug/<iter>_<j>_s.png``.
        alpha, pseudo_threshold, pseudo_weight_ignore_top / _bottom: MIC's own EMA teacher (spec §6.1).
        blur: kept for config compatibility; MIC's colour augmentation blurs regardless (spec §6.1).
        color_jitter_strength, color_jitter_probability, mask_mode, mask_alpha, mask_pseudo_threshold,
            mask_lambda, mask_generator: MIC (see :class:`MaskingConsistencyModule`), logged as ``masked.*``.

    Subclasses build their modules, then call :meth:`build_masking_consistency` (the reference order of
    the state dict: ``model.``, the method's modules, ``mic.``).
    """

    def __init__(self, model: dict, max_iters: Optional[int] = None, debug_img_interval: int = 1000,
                 work_dir: Optional[str] = None, alpha: float = 0.999, pseudo_threshold: float = 0.968,
                 pseudo_weight_ignore_top: int = 0, pseudo_weight_ignore_bottom: int = 0, blur: bool = True,
                 color_jitter_strength: float = 0.2, color_jitter_probability: float = 0.2,
                 mask_mode: Optional[str] = None, mask_alpha='same', mask_pseudo_threshold='same',
                 mask_lambda: float = 0, mask_generator: Optional[dict] = None, **kwargs):
        super().__init__(model=model, max_iters=max_iters, **kwargs)
        self.debug_img_interval = debug_img_interval
        self.work_dir = work_dir
        self.blur = blur
        self.local_iter = 0
        self.mic = None
        self._mic_cfg = None if mask_mode is None else dict(
            model=self.model_cfg, alpha=alpha, pseudo_threshold=pseudo_threshold,
            pseudo_weight_ignore_top=pseudo_weight_ignore_top, pseudo_weight_ignore_bottom=pseudo_weight_ignore_bottom,
            color_jitter_strength=color_jitter_strength, color_jitter_probability=color_jitter_probability,
            mask_mode=mask_mode, mask_alpha=mask_alpha, mask_pseudo_threshold=mask_pseudo_threshold,
            mask_lambda=mask_lambda, mask_generator=mask_generator)

    def build_masking_consistency(self) -> None:
        """``self.mic``: MIC with its own teacher (the reference's ``require_teacher=True``), or None."""
        if self._mic_cfg is not None:
            self.mic = MaskingConsistencyModule(require_teacher=True, cfg=self._mic_cfg)

    # ---- what the methods define ----------------------------------------------------------------
    def before_target_losses(self) -> None:
        """Called before the source step."""

    def target_losses(self, pred_trg: Dict[str, Tensor], debug: Optional[DebugGrid]) -> Dict[str, Tensor]:
        """The method's losses of the target predictions (with graph), not yet back-propagated."""
        raise NotImplementedError

    def after_target_losses(self, pred_src: Dict[str, Tensor], pred_trg: Dict[str, Tensor], backward: Callable,
                            log_vars: dict, debug: Optional[DebugGrid]) -> None:
        """Called after the MIC step with the source and target predictions (with graph)."""

    # ---- one iteration --------------------------------------------------------------------------
    def optim_wrappers(self, optim_wrapper) -> List:
        """The wrappers ``train_step`` steps; the first one back-propagates and sets the autocast context."""
        return [optim_wrapper]

    def train_step(self, data: dict, optim_wrapper) -> Dict[str, Tensor]:
        """One iteration on ``data`` = source ``inputs`` / ``data_samples`` (labelled) and target
        ``target_inputs`` / ``target_data_samples``; every wrapper of :meth:`optim_wrappers` steps once
        (in a distributed run after the gradients are averaged over the processes)."""
        wrappers = self.optim_wrappers(optim_wrapper)
        source = self.data_preprocessor(dict(inputs=data['inputs'], data_samples=data['data_samples']), True)
        target = self.data_preprocessor(
            dict(inputs=data['target_inputs'], data_samples=data['target_data_samples']), True)
        gt = torch.stack([s.gt_sem_seg.data for s in source['data_samples']]).long()
        with wrappers[0].optim_context(self):
            log_vars = self.forward_train(source['inputs'], [s.metainfo for s in source['data_samples']], gt,
                                          target['inputs'], [s.metainfo for s in target['data_samples']],
                                          wrappers[0].backward, valid_pseudo_mask(target))
        average_gradients(self.parameters())
        for wrapper in wrappers:
            wrapper.step()
        for wrapper in wrappers:
            wrapper.zero_grad()
        return {name: value.detach() for name, value in log_vars.items()}

    def forward_train(self, img: Tensor, img_metas: List[dict], gt_semantic_seg: Tensor, target_img: Tensor,
                      target_img_metas: List[dict], backward: Callable = Tensor.backward,
                      valid_pseudo_mask: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """The iteration of the module docstring; returns the log values (losses back-propagated here)."""
        if self.mic is not None:
            self.mic.update_weights(self.get_model(), self.local_iter)
        debug = {'Source': {}, 'Target': {}} if self._debug_iteration() else None
        log_vars = {}
        self.before_target_losses()

        pred_src = self._source_step(img, img_metas, gt_semantic_seg, backward, log_vars)
        pred_trg = {'main': self._adaptation_logits(self.training_logits(target_img), target_img)}
        trg_loss, trg_log = self.parse_losses(self.target_losses(pred_trg, debug))
        log_vars.update(trg_log)
        backward(trg_loss)

        if self.mic is not None:
            masked_losses = self.mic(self.get_model(), img, img_metas, gt_semantic_seg, target_img, target_img_metas,
                                     valid_pseudo_mask)
            masked_loss, masked_log = self.parse_losses(add_prefix(masked_losses, 'masked'))
            log_vars.update(masked_log)
            backward(masked_loss)
        self.after_target_losses(pred_src, pred_trg, backward, log_vars, debug)

        if debug is not None:
            self._write_debug_grid(debug, img, gt_semantic_seg, target_img, pred_src, pred_trg, img_metas)
        log_vars.pop('loss', None)
        self.local_iter += 1
        return log_vars

    def training_logits(self, img: Tensor) -> Tensor:
        """Logits of the student's training forward (an HRDA student draws a detail crop: the fused logits)."""
        student = self.get_model()
        if isinstance(student, HRDAEncoderDecoder):
            try:
                return student.decode_head.forward(student.forward_train_features(img))[0]
            finally:
                student.decode_head.reset_crop()
        return student.decode_head.forward(student.extract_feat(img))

    def _adaptation_logits(self, logits: Tensor, img: Tensor) -> Tensor:
        """``logits`` bilinearly resized to the adaptation size: the input size, half of it for HRDA."""
        scale = HRDA_OUTPUT_SCALE if isinstance(self.get_model(), HRDAEncoderDecoder) else 1
        size = [int(side * scale) for side in img.shape[2:]]
        return resize(logits, size=size, mode='bilinear', align_corners=self.get_model().align_corners)

    def _source_step(self, img: Tensor, img_metas: List[dict], gt_semantic_seg: Tensor, backward: Callable,
                     log_vars: dict) -> Dict[str, Tensor]:
        """Supervised source loss, back-propagated; returns the (detached) source predictions."""
        losses = self.get_model().forward_train(img, img_metas, gt_semantic_seg, return_logits=True)
        logits = losses.pop('decode.logits')
        loss, log = self.parse_losses(losses)
        log_vars.update(log)
        backward(loss)
        return {'main': self._adaptation_logits(logits.detach(), img)}

    # ---- debug images ---------------------------------------------------------------------------
    def _debug_iteration(self) -> bool:
        """Whether this iteration writes debug images (main process only)."""
        return (self.work_dir is not None and self.debug_img_interval > 0
                and self.local_iter % self.debug_img_interval == 0 and is_main_process())

    @torch.no_grad()
    def _write_debug_grid(self, debug: DebugGrid, img: Tensor, gt: Tensor, target_img: Tensor,
                          pred_src: Dict[str, Tensor], pred_trg: Dict[str, Tensor], img_metas: Sequence[dict]) -> None:
        """Rows Source / Target: image, (GT,) prediction, then the method's maps."""
        means, stds = get_mean_std(img_metas, img.device)
        grid = {'Source': dict(Image=img, GT=gt[:, 0], Pred=pred_src['main'].argmax(dim=1), **debug['Source']),
                'Target': dict(Image=target_img, Pred=pred_trg['main'].argmax(dim=1), **debug['Target'])}
        write_hrda_debug_grid(self.work_dir, self.local_iter, grid, means, stds)
