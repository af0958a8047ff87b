"""HRDA segmentor: a low-resolution context branch and a high-resolution detail branch (spec §4.1).

Training: the whole image at the context scale, plus one random detail crop per batch at full
resolution; both go through the shared backbone and the ``HRDAHead`` fuses them. Inference
(``encode_decode``, also the teacher's pseudo-label path): the whole image at the context scale, plus the
full-resolution image cut into overlapping detail crops whose features run as one backbone batch.

The reference keeps the last training crop box in a class-level dict that all instances share (the
ImageNet model of DACS reads the student's box through it); here it is per instance,
``last_train_crop_box``, and ``extract_feat`` takes the box explicitly for another instance.

With ``debug`` on, each forward (training or ``encode_decode``) leaves ``debug_output``: the branch
inputs ``Img {i} Scale {s}`` and the head's branch predictions (``HRDAHead.debug_output``).
"""
import copy
from typing import Dict, List, Optional, Sequence, Union

import torch

from mmseg.registry import MODELS
from ..utils.hr_crop import Box, crop, get_crop_bbox
from ..utils.resize import resize
from .encoder_decoder import EncoderDecoder, add_prefix

FEATURE_SCALE_ALL = 'all'


@MODELS.register_module()
class HRDAEncoderDecoder(EncoderDecoder):
    """Args (besides those of ``EncoderDecoder``):
        scales: the two scales, e.g. ``[1, 0.5]``; sorted, index 0 is the context (LR) scale, index 1
            the detail (HR) scale, which must be 1 when ``hr_crop_size`` is set.
        hr_crop_size: (H, W) of the training detail crop in full-resolution pixels; also the crop
            size of the HR slide inference. None: no crop.
        hr_slide_inference: at inference the HR branch slides over the image (else whole image).
        hr_slide_overlapping: slide stride crop / 2 (else crop).
        crop_coord_divisible: crop offsets are multiples of this.
        blur_hr_crop: the HR input is downscaled ×0.5 and upscaled again (ablation).
        feature_scale: the scale whose features ``return_feat`` / ``extract_feat`` give, or ``'all'``.
    """

    def __init__(self, backbone: dict, decode_head: dict, *, scales: Sequence[float],
                 hr_crop_size: Optional[Sequence[int]] = None, hr_slide_inference: bool = True,
                 hr_slide_overlapping: bool = True, crop_coord_divisible: int = 1, blur_hr_crop: bool = False,
                 feature_scale: Union[float, str] = 1, **kwargs):
        scales = sorted(scales)
        if len(scales) != 2 or scales[0] <= 0:
            raise ValueError(f'HRDAEncoderDecoder: scales={scales}; expected two positive scales '
                             '[context scale, detail scale], e.g. [1, 0.5]')
        if hr_crop_size is not None:
            hr_crop_size = list(hr_crop_size)
            if len(hr_crop_size) != 2 or min(hr_crop_size) <= 0:
                raise ValueError(f'HRDAEncoderDecoder: hr_crop_size={hr_crop_size}; expected a positive (H, W)')
            if scales[1] != 1:
                raise ValueError(f'HRDAEncoderDecoder: scales={scales}; with a detail crop (hr_crop_size) the '
                                 'detail scale must be 1, e.g. [1, 0.5]')
        if isinstance(feature_scale, str) and feature_scale != FEATURE_SCALE_ALL:
            raise ValueError(f"HRDAEncoderDecoder: feature_scale={feature_scale!r}; expected a scale or 'all'")
        if not isinstance(feature_scale, str) and feature_scale not in scales:
            raise ValueError(f"HRDAEncoderDecoder: feature_scale={feature_scale} is not one of scales={scales} "
                             "(or 'all')")
        if not (isinstance(crop_coord_divisible, int) and crop_coord_divisible > 0):
            raise ValueError(f'HRDAEncoderDecoder: crop_coord_divisible={crop_coord_divisible!r}; '
                             'expected a positive int')
        decode_head = dict(copy.deepcopy(decode_head), scales=scales, enable_hr_crop=hr_crop_size is not None,
                           hr_slide_inference=hr_slide_inference)
        super().__init__(backbone, decode_head, **kwargs)
        self.scales = scales
        self.feature_scale = feature_scale
        self.crop_size = hr_crop_size
        self.hr_slide_inference = hr_slide_inference
        self.hr_slide_overlapping = hr_slide_overlapping
        self.crop_coord_divisible = crop_coord_divisible
        self.blur_hr_crop = blur_hr_crop
        self.last_train_crop_box: Optional[Box] = None

    @property
    def debug(self) -> bool:
        """Whether forwards record ``debug_output`` (kept on the head, which records most of it)."""
        return self.decode_head.debug

    @debug.setter
    def debug(self, value: bool) -> None:
        self.decode_head.debug = value
        self.decode_head.debug_output = {}

    @property
    def debug_output(self) -> Dict[str, torch.Tensor]:
        """The last forward's branch inputs and predictions (empty unless ``debug``)."""
        return self.decode_head.debug_output

    def _record_branch_input(self, i: int, s: float, scaled_img: torch.Tensor) -> None:
        if self.debug:
            self.decode_head.debug_output[f'Img {i} Scale {s}'] = scaled_img.detach().float().cpu()

    def extract_unscaled_feat(self, img: torch.Tensor) -> List[torch.Tensor]:
        """Backbone (+ neck) features of ``img`` as given."""
        x = self.backbone(img)
        return self.neck(x) if self.with_neck else x

    def extract_slide_feat(self, img: torch.Tensor) -> Dict[str, list]:
        """Features of overlapping ``hr_crop_size`` crops, all crops in one backbone batch (crop-major).

        Returns ``{'features': per-level (crops·B, C, h, w), 'boxes': [[y1, y2, x1, x2], ...]}``.
        """
        if self.crop_size is None:
            raise ValueError('HRDAEncoderDecoder: hr_slide_inference needs hr_crop_size (the slide crop size)')
        h_crop, w_crop = self.crop_size
        h_stride, w_stride = (h_crop // 2, w_crop // 2) if self.hr_slide_overlapping else (h_crop, w_crop)
        _, _, h_img, w_img = img.shape
        h_grids = max(h_img - h_crop + h_stride - 1, 0) // h_stride + 1
        w_grids = max(w_img - w_crop + w_stride - 1, 0) // w_stride + 1
        crop_imgs, crop_boxes = [], []
        for h_idx in range(h_grids):
            for w_idx in range(w_grids):
                y2 = min(h_idx * h_stride + h_crop, h_img)
                x2 = min(w_idx * w_stride + w_crop, w_img)
                y1, x1 = max(y2 - h_crop, 0), max(x2 - w_crop, 0)
                crop_imgs.append(img[:, :, y1:y2, x1:x2])
                crop_boxes.append([y1, y2, x1, x2])
        return {'features': self.extract_unscaled_feat(torch.cat(crop_imgs, dim=0)), 'boxes': crop_boxes}

    def blur_downup(self, img: torch.Tensor, s: float = 0.5) -> torch.Tensor:
        """Bilinear down by ``s`` and up again."""
        img = resize(img, scale_factor=s, mode='bilinear', align_corners=self.align_corners)
        return resize(img, scale_factor=1 / s, mode='bilinear', align_corners=self.align_corners)

    def resize(self, img: torch.Tensor, s: float) -> torch.Tensor:
        """Bilinear resize by ``s`` (identity for 1)."""
        if s == 1:
            return img
        return resize(img, scale_factor=s, mode='bilinear', align_corners=self.align_corners)

    def scaled_input(self, img: torch.Tensor, s: float) -> torch.Tensor:
        """The branch input of scale ``s`` (blurred instead for scale 1 with ``blur_hr_crop``)."""
        if s == 1 and self.blur_hr_crop:
            return self.blur_downup(img)
        return self.resize(img, s)

    def extract_feat(self, img: torch.Tensor,
                     crop_box: Optional[Sequence[int]] = None) -> Union[List[torch.Tensor], List[List[torch.Tensor]]]:
        """Features at ``feature_scale``; for ``'all'`` the list of both scales' features, the detail
        branch cropped with ``crop_box`` (default: this instance's ``last_train_crop_box``)."""
        if self.feature_scale != FEATURE_SCALE_ALL:
            return self.extract_unscaled_feat(self.resize(img, self.feature_scale))
        if crop_box is None:
            crop_box = self.last_train_crop_box
        mres_feats = []
        for i, s in enumerate(self.scales):
            scaled_img = self.scaled_input(img, s)
            if self.crop_size is not None and i >= 1:
                if crop_box is None:
                    raise ValueError("HRDAEncoderDecoder.extract_feat with feature_scale='all' needs the detail-crop "
                                     'box: run forward_train first or pass crop_box')
                scaled_img = crop(scaled_img, crop_box)
            mres_feats.append(self.extract_unscaled_feat(scaled_img))
        return mres_feats

    def encode_decode(self, img: torch.Tensor, img_metas: Optional[List[dict]] = None,
                      upscale_pred: bool = True) -> torch.Tensor:
        """Fused logits of the context branch and the (slid) detail branch, resized to the input size
        unless ``upscale_pred=False`` (then at 1/4 of the detail scale)."""
        mres_feats = []
        self.decode_head.debug_output = {}
        for i, s in enumerate(self.scales):
            scaled_img = self.scaled_input(img, s)
            self._record_branch_input(i, s, scaled_img)
            if i >= 1 and self.hr_slide_inference:
                mres_feats.append(self.extract_slide_feat(scaled_img))
            else:
                mres_feats.append(self.extract_unscaled_feat(scaled_img))
        out = self.decode_head.forward_test(mres_feats)
        if upscale_pred:
            out = resize(out, size=img.shape[2:], mode='bilinear', align_corners=self.align_corners)
        return out

    def forward_train_features(self, img: torch.Tensor) -> List[List[torch.Tensor]]:
        """Per-scale training features; draws the batch's detail-crop box and hands it to the head."""
        mres_feats = []
        self.decode_head.debug_output = {}
        for i, s in enumerate(self.scales):
            scaled_img = self.scaled_input(img, s)
            if self.crop_size is not None and i >= 1:
                crop_box = get_crop_bbox(*scaled_img.shape[-2:], self.crop_size, self.crop_coord_divisible)
                self.last_train_crop_box = crop_box
                self.decode_head.set_hr_crop_box(crop_box)
                scaled_img = crop(scaled_img, crop_box)
            self._record_branch_input(i, s, scaled_img)
            mres_feats.append(self.extract_unscaled_feat(scaled_img))
        return mres_feats

    def forward_train(self, img: torch.Tensor, img_metas: Optional[List[dict]], gt_semantic_seg: torch.Tensor,
                      seg_weight: Optional[torch.Tensor] = None, return_feat: bool = False,
                      return_logits: bool = False) -> Dict[str, torch.Tensor]:
        """Loss dict: ``decode.loss_seg`` / ``decode.acc_seg`` (fused) and ``decode.hr.*`` / ``decode.lr.*``
        when weighted; ``features`` of ``feature_scale`` (both scales for ``'all'``) with ``return_feat``;
        ``decode.logits`` (the fused logits) with ``return_logits``."""
        mres_feats = self.forward_train_features(img)
        losses = {}
        if return_feat:
            if self.feature_scale == FEATURE_SCALE_ALL:
                losses['features'] = mres_feats
            else:
                losses['features'] = mres_feats[self.scales.index(self.feature_scale)]
        losses.update(add_prefix(self.decode_head.forward_train(mres_feats, gt_semantic_seg, seg_weight,
                                                                return_logits), 'decode'))
        return losses
