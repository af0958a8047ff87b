"""HRDA multi-resolution head: one single-scale head for both branches plus a learned scale attention (spec §4.2).

``forward([lr_feats, hr_feats])`` returns ``(fused, lr_seg, hr_seg)``:
``fused = up(a) · hr + up((1 − a) · lr)``, with ``a = sigmoid(scale_attention(lr_feats))`` and the
(1 − a) factor applied at LR resolution. During training the detail crop box (``set_hr_crop_box``)
zeroes the attention outside the crop and places the crop's logits into the HR canvas; at inference
``hr_feats`` is the slide-feature dict of ``HRDAEncoderDecoder.extract_slide_feat`` (or a plain
feature list) covering the whole image. With ``debug`` set, each forward records its branch
predictions in ``debug_output`` (the reference's keys, for DACS's ``*_s.png`` grid).
"""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F

from mmseg.registry import MODELS
from ..segmentors.encoder_decoder import add_prefix
from ..utils.hr_crop import Box, crop, scale_box
from ..utils.resize import resize
from .decode_head import BaseDecodeHead

# Single-scale heads HRDA wraps -> the output stride of their logits.
SINGLE_SCALE_HEADS = {'DAFormerHead': 4, 'DLV2Head': 8}
HRFeatures = Union[List[torch.Tensor], Dict[str, list]]


@MODELS.register_module()
class HRDAHead(BaseDecodeHead):
    """Args (the remaining keyword arguments configure the single-scale head):
        single_scale_head: type of ``self.head`` (and of the attention head): ``'DAFormerHead'`` or
            ``'DLV2Head'`` (whose attention head is a second DeepLabV2 classifier with the same dilations).
        scales: sorted [context scale, detail scale] (injected by ``HRDAEncoderDecoder``).
        lr_loss_weight: weight of the ``lr.`` loss on the attention-scaled context logits.
        hr_loss_weight: weight of the ``hr.`` loss on the detail logits; the fused loss gets
            ``1 − lr_loss_weight − hr_loss_weight``.
        attention_embed_dim: channels and embedding width of the DAFormer attention head.
        attention_classwise: one attention map per class (else a single map).
        enable_hr_crop: training uses a detail crop (injected by the segmentor).
        hr_slide_inference: the HR branch is slid at inference (injected by the segmentor).
        fixed_attention: a constant attention instead of the attention head (0: LR only, 1: HR only).
        debug_output_attention: ``forward`` returns Σ_c a_c · softmax(fused)_c (B, 1, H, W) instead.
    """

    def __init__(self, single_scale_head: str, scales: Sequence[float], lr_loss_weight: float = 0.,
                 hr_loss_weight: float = 0., attention_embed_dim: int = 256, attention_classwise: bool = True,
                 enable_hr_crop: bool = False, hr_slide_inference: bool = True,
                 fixed_attention: Optional[float] = None, debug_output_attention: bool = False, **kwargs):
        if single_scale_head not in SINGLE_SCALE_HEADS:
            raise ValueError(f'HRDAHead: single_scale_head={single_scale_head!r} is not supported; '
                             f'expected one of {tuple(SINGLE_SCALE_HEADS)}')
        if len(scales) != 2 or scales[0] > scales[1]:
            raise ValueError(f'HRDAHead: scales={list(scales)}; expected [context scale, detail scale] in '
                             'increasing order (HRDAEncoderDecoder passes its sorted scales)')
        head_cfg = copy.deepcopy(kwargs)
        attn_cfg = copy.deepcopy(kwargs)
        if single_scale_head == 'DAFormerHead':
            attn_cfg['channels'] = attention_embed_dim
            attn_cfg['decoder_params']['embed_dims'] = attention_embed_dim
            fusion_cfg = attn_cfg['decoder_params']['fusion_cfg']
            if fusion_cfg['type'] == 'aspp':
                attn_cfg['decoder_params']['fusion_cfg'] = dict(
                    type='conv', kernel_size=1, act_cfg=dict(type='ReLU'), norm_cfg=fusion_cfg['norm_cfg'])
            kwargs['input_transform'] = 'multiple_select'
        else:  # DLV2Head: its classifier branches are the head, no channels of its own
            kwargs.pop('dilations', None)
            kwargs['channels'] = 1
        kwargs['init_cfg'] = None
        super().__init__(**kwargs)
        del self.conv_seg
        del self.dropout
        self.os = SINGLE_SCALE_HEADS[single_scale_head]

        self.head = MODELS.build(dict(head_cfg, type=single_scale_head))
        if not attention_classwise:
            attn_cfg['num_classes'] = 1
        self.fixed_attention = fixed_attention
        self.scale_attention = MODELS.build(dict(attn_cfg, type=single_scale_head)) if fixed_attention is None \
            else None
        self.lr_loss_weight = lr_loss_weight
        self.hr_loss_weight = hr_loss_weight
        self.scales = list(scales)
        self.enable_hr_crop = enable_hr_crop
        self.hr_slide_inference = hr_slide_inference
        self.debug_output_attention = debug_output_attention
        self.hr_crop_box: Optional[Box] = None
        self.debug = False
        self.debug_output: Dict[str, torch.Tensor] = {}

    def init_conv_seg(self) -> None:
        """No classifier of its own: ``head`` and ``scale_attention`` initialise theirs."""

    def set_hr_crop_box(self, box: Optional[Sequence[int]]) -> None:
        """The detail-crop box (y1, y2, x1, x2) in full-resolution pixels for the next training forward."""
        self.hr_crop_box = None if box is None else tuple(int(v) for v in box)

    def reset_crop(self) -> None:
        """Forget the crop box (after each training forward)."""
        self.hr_crop_box = None

    def hr_crop_slice(self, scale: float) -> Tuple[slice, slice]:
        """Row and column slices of the crop box divided by ``scale``."""
        y1, y2, x1, x2 = scale_box(self.hr_crop_box, scale)
        return slice(y1, y2), slice(x1, x2)

    def resize(self, input: torch.Tensor, scale_factor: float) -> torch.Tensor:
        """Bilinear resize by ``scale_factor``."""
        return resize(input, scale_factor=scale_factor, mode='bilinear', align_corners=self.align_corners)

    def decode_hr(self, inp: HRFeatures, batch_size: int) -> torch.Tensor:
        """HR logits: of the feature list, or of slide features averaged over the overlapping crops.

        Slide features hold the crops of all images along the batch, crop-major; their logits are
        placed at box / os into a canvas and divided by the per-pixel crop count.
        """
        if not (isinstance(inp, dict) and 'boxes' in inp):
            return self.head(inp)
        boxes = [scale_box(box, self.os) for box in inp['boxes']]
        h_img = max(box[1] for box in boxes)
        w_img = max(box[3] for box in boxes)
        crop_seg_logits = self.head(inp['features'])
        preds = crop_seg_logits.new_zeros((batch_size, self.num_classes, h_img, w_img))
        count_mat = crop_seg_logits.new_zeros((batch_size, 1, h_img, w_img))
        for i, (y1, y2, x1, x2) in enumerate(boxes):
            crop_seg_logit = crop_seg_logits[i * batch_size:(i + 1) * batch_size]
            preds += F.pad(crop_seg_logit, (x1, w_img - x2, y1, h_img - y2))
            count_mat[:, :, y1:y2, x1:x2] += 1
        if bool((count_mat == 0).any()):
            raise RuntimeError('HRDAHead: the HR slide crops do not cover the whole image')
        return preds / count_mat

    def get_scale_attention(self, inp: List[torch.Tensor]) -> Union[torch.Tensor, float]:
        """sigmoid of the attention head on the LR features, or ``fixed_attention``."""
        if self.scale_attention is not None:
            return torch.sigmoid(self.scale_attention(inp))
        return self.fixed_attention

    def forward(self, inputs: List) -> Tuple[torch.Tensor, Optional[torch.Tensor], Optional[torch.Tensor]]:
        """``(fused, lr_seg, hr_seg)``; ``lr_seg`` is the (1 − a)-scaled context logits."""
        if len(inputs) != 2:
            raise ValueError(f'HRDAHead expects [lr_features, hr_features], got {len(inputs)} inputs')
        lr_inp, hr_inp = inputs
        lr_scale, hr_scale = self.scales
        has_crop = self.hr_crop_box is not None

        lr_seg = self.head(lr_inp)
        hr_seg = self.decode_hr(hr_inp, lr_inp[0].shape[0])
        att = self.get_scale_attention(lr_inp)
        if has_crop:
            mask = lr_seg.new_zeros([lr_seg.shape[0], 1, *lr_seg.shape[2:]])
            rows, cols = self.hr_crop_slice(self.os / lr_scale)
            mask[:, :, rows, cols] = 1
            att = att * mask
        lr_seg = (1 - att) * lr_seg
        up_lr_seg = self.resize(lr_seg, hr_scale / lr_scale)
        if torch.is_tensor(att):
            att = self.resize(att, hr_scale / lr_scale)

        if has_crop:
            hr_seg_inserted = torch.zeros_like(up_lr_seg)
            rows, cols = self.hr_crop_slice(self.os)
            hr_seg_inserted[:, :, rows, cols] = hr_seg
        else:
            hr_seg_inserted = hr_seg
        fused_seg = att * hr_seg_inserted + up_lr_seg
        if self.debug:
            self.record_debug_output(hr_seg, hr_seg_inserted, lr_seg, fused_seg, att)

        if self.debug_output_attention:
            return torch.sum(att * torch.softmax(fused_seg, dim=1), dim=1, keepdim=True), None, None
        return fused_seg, lr_seg, hr_seg

    @torch.no_grad()
    def record_debug_output(self, hr_seg: torch.Tensor, hr_seg_inserted: torch.Tensor, lr_seg: torch.Tensor,
                            fused_seg: torch.Tensor, att: Union[torch.Tensor, float]) -> None:
        """Arg-max label maps (B, H, W) of each branch and, for a learned attention, Σ_c a_c · softmax(fused)_c."""
        self.debug_output.update({name: torch.argmax(logits, dim=1).cpu() for name, logits in (
            ('High Res', hr_seg), ('High Res Inserted', hr_seg_inserted), ('Low Res', lr_seg), ('Fused', fused_seg))})
        if torch.is_tensor(att):
            self.debug_output['Attention'] = torch.sum(att * torch.softmax(fused_seg, dim=1), dim=1,
                                                       keepdim=True).float().cpu()

    def forward_train(self, inputs: List, gt_semantic_seg: torch.Tensor, seg_weight: Optional[torch.Tensor] = None,
                      return_logits: bool = False) -> Dict[str, torch.Tensor]:
        """Losses of the training forward (``logits`` = the fused logits if asked); resets the crop box."""
        if self.enable_hr_crop and self.hr_crop_box is None:
            raise RuntimeError('HRDAHead: enable_hr_crop is set but no detail-crop box was given '
                               '(HRDAEncoderDecoder.forward_train sets it with set_hr_crop_box)')
        try:
            seg_logits = self.forward(inputs)
            losses = self.losses(seg_logits, gt_semantic_seg, seg_weight)
        finally:
            self.reset_crop()
        if return_logits:
            losses['logits'] = seg_logits[0]
        return losses

    def forward_test(self, inputs: List) -> torch.Tensor:
        """Only the fused logits (or the attention map with ``debug_output_attention``)."""
        return self.forward(inputs)[0]

    def losses(self, seg_logit: Tuple[torch.Tensor, torch.Tensor, torch.Tensor], seg_label: torch.Tensor,
               seg_weight: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """Fused loss, plus ``lr.`` (full label) and ``hr.`` (label and weight cropped with the box)."""
        fused_seg, lr_seg, hr_seg = seg_logit
        loss = super().losses(fused_seg, seg_label, seg_weight)
        if self.hr_loss_weight == 0 and self.lr_loss_weight == 0:
            return loss
        if self.lr_loss_weight > 0:
            loss.update(add_prefix(super().losses(lr_seg, seg_label, seg_weight), 'lr'))
        if self.hr_loss_weight > 0 and self.enable_hr_crop:
            if self.debug:
                self.debug_output['Cropped GT'] = crop(seg_label, self.hr_crop_box).squeeze(1).cpu()
            cropped_weight = None if seg_weight is None else crop(seg_weight, self.hr_crop_box)
            loss.update(add_prefix(super().losses(hr_seg, crop(seg_label, self.hr_crop_box), cropped_weight), 'hr'))
        elif self.hr_loss_weight > 0:
            loss.update(add_prefix(super().losses(hr_seg, seg_label, seg_weight), 'hr'))
        loss['loss_seg'] = loss['loss_seg'] * (1 - self.lr_loss_weight - self.hr_loss_weight)
        if self.lr_loss_weight > 0:
            loss['lr.loss_seg'] = loss['lr.loss_seg'] * self.lr_loss_weight
        if self.hr_loss_weight > 0:
            loss['hr.loss_seg'] = loss['hr.loss_seg'] * self.hr_loss_weight
        return loss
