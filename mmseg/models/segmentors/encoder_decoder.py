"""Encoder-decoder segmentor: backbone (+ neck) + decode head, with whole and slide inference (spec §3).

Two interfaces over the same computation:
- the reference's tensor API used by the UDA wrappers and the golden tests: ``extract_feat``,
  ``encode_decode``, ``forward_train``, ``inference``, ``simple_test``;
- mmengine's ``BaseModel`` API used by the Runner: ``forward(inputs, data_samples, mode)`` with
  ``loss`` / ``predict`` / ``tensor``.
"""
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.structures import PixelData

from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from ..utils.resize import resize

INFERENCE_MODES = ('whole', 'slide')


def add_prefix(inputs: Dict[str, torch.Tensor], prefix: str) -> Dict[str, torch.Tensor]:
    """``{k: v}`` → ``{f'{prefix}.{k}': v}``."""
    return {f'{prefix}.{name}': value for name, value in inputs.items()}


def build_data_preprocessor(cfg: Optional[dict]) -> torch.nn.Module:
    """Build from the mmseg registry (mmengine's BaseModel would look only in its own)."""
    if isinstance(cfg, torch.nn.Module):
        return cfg
    return MODELS.build(cfg if cfg is not None else dict(type='SegDataPreProcessor'))


def default_img_metas(img: torch.Tensor) -> List[dict]:
    """Meta entries of un-resized, un-flipped, un-padded images."""
    shape = tuple(img.shape[2:])
    return [dict(ori_shape=shape, img_shape=shape, pad_shape=shape, flip=False) for _ in range(img.shape[0])]


@MODELS.register_module()
class EncoderDecoder(BaseModel):
    """Args follow the reference config schema (``pretrained`` is forwarded to the backbone).

    ``test_cfg``: ``mode`` ``'whole'`` or ``'slide'``; for slide, ``crop_size`` and ``stride`` (H, W)
    and ``batched_slide`` (all windows in one forward).

    ``compile_cfg``: when given (e.g. ``dict()`` or ``dict(mode='max-autotune')``), the backbone,
    neck and decode head are compiled in place with ``torch.compile`` (state-dict keys unchanged);
    the first iterations are slow while it compiles, and each new input size compiles again.
    """

    def __init__(self, backbone: dict, decode_head: dict, neck: Optional[dict] = None,
                 train_cfg: Optional[dict] = None, test_cfg: Optional[dict] = None,
                 pretrained: Optional[str] = None, data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None, compile_cfg: Optional[dict] = None):
        super().__init__(data_preprocessor=build_data_preprocessor(data_preprocessor), init_cfg=init_cfg)
        if pretrained is not None:
            backbone = dict(backbone, pretrained=pretrained)
        self.backbone = MODELS.build(backbone)
        if neck is not None:
            self.neck = MODELS.build(neck)
        self.decode_head = MODELS.build(decode_head)
        self._check_head_channels()
        self.align_corners = self.decode_head.align_corners
        self.num_classes = self.decode_head.num_classes
        self.train_cfg = dict(train_cfg or {})
        self.test_cfg = dict(test_cfg or dict(mode='whole'))
        if compile_cfg is not None:
            for module in (self.backbone, getattr(self, 'neck', None), self.decode_head):
                if module is not None:
                    module.compile(**compile_cfg)
        mode = self.test_cfg.get('mode', 'whole')
        if mode not in INFERENCE_MODES:
            raise ValueError(f'test_cfg.mode={mode!r}; expected one of {INFERENCE_MODES}')
        if mode == 'slide':
            for key in ('crop_size', 'stride'):
                if key not in self.test_cfg:
                    raise ValueError(f"test_cfg.mode='slide' needs test_cfg.{key} (H, W)")

    def _check_head_channels(self) -> None:
        """Fail early, naming the config key, when the head's in_channels do not fit the backbone."""
        widths = getattr(self.backbone, 'embed_dims', None)
        head = self.decode_head
        if widths is None or self.with_neck or head.input_transform != 'multiple_select':
            return
        expected = [widths[i] for i in head.in_index]
        if list(head.in_channels) != expected:
            raise ValueError(f'model.decode_head.in_channels={list(head.in_channels)} does not match the backbone '
                             f'{type(self.backbone).__name__} (stage widths {widths}); expected {expected}')

    @property
    def with_neck(self) -> bool:
        return hasattr(self, 'neck') and self.neck is not None

    # ---- reference tensor API -------------------------------------------------------------------
    def extract_feat(self, img: torch.Tensor) -> List[torch.Tensor]:
        """Backbone (+ neck) features."""
        x = self.backbone(img)
        return self.neck(x) if self.with_neck else x

    def encode_decode(self, img: torch.Tensor, img_metas: Optional[List[dict]] = None,
                      upscale_pred: bool = True) -> torch.Tensor:
        """Logits, resized to the input size unless ``upscale_pred=False``."""
        out = self.decode_head.forward_test(self.extract_feat(img))
        if upscale_pred:
            out = resize(out, size=img.shape[2:], mode='bilinear', align_corners=self.align_corners)
        return out

    def forward_train(self, img: torch.Tensor, img_metas: Optional[List[dict]], gt_semantic_seg: torch.Tensor,
                      seg_weight: Optional[torch.Tensor] = None, return_feat: bool = False,
                      return_logits: bool = False) -> Dict[str, torch.Tensor]:
        """Loss dict with keys ``decode.loss_seg`` / ``decode.acc_seg`` (+ ``features``, ``decode.logits``)."""
        x = self.extract_feat(img)
        losses = {}
        if return_feat:
            losses['features'] = x
        losses.update(add_prefix(self.decode_head.forward_train(x, gt_semantic_seg, seg_weight, return_logits),
                                 'decode'))
        return losses

    def rescale_logits(self, seg_logit: torch.Tensor, img_metas: List[dict]) -> torch.Tensor:
        """Drop batch padding (beyond ``img_shape``), then resize bilinearly to ``ori_shape``."""
        img_h, img_w = img_metas[0].get('img_shape', seg_logit.shape[2:])[:2]
        seg_logit = seg_logit[:, :, :img_h, :img_w]
        return resize(seg_logit, size=img_metas[0]['ori_shape'][:2], mode='bilinear',
                      align_corners=self.align_corners)

    def whole_inference(self, img: torch.Tensor, img_metas: List[dict], rescale: bool) -> torch.Tensor:
        seg_logit = self.encode_decode(img, img_metas)
        return self.rescale_logits(seg_logit, img_metas) if rescale else seg_logit

    def slide_windows(self, h_img: int, w_img: int) -> List[tuple]:
        """Window boxes (y1, y2, x1, x2); the last window of each axis is shifted back to the border."""
        h_stride, w_stride = self.test_cfg['stride']
        h_crop, w_crop = self.test_cfg['crop_size']
        h_grids = max(h_img - h_crop + h_stride - 1, 0) // h_stride + 1
        w_grids = max(w_img - w_crop + w_stride - 1, 0) // w_stride + 1
        boxes = []
        for h_idx in range(h_grids):
            for w_idx in range(w_grids):
                y2 = min(h_idx * h_stride + h_crop, h_img)
                x2 = min(w_idx * w_stride + w_crop, w_img)
                boxes.append((max(y2 - h_crop, 0), y2, max(x2 - w_crop, 0), x2))
        return boxes

    def slide_inference(self, img: torch.Tensor, img_metas: List[dict], rescale: bool) -> torch.Tensor:
        """Average the window logits over overlapping crops (batched if ``test_cfg.batched_slide``)."""
        batch_size, _, h_img, w_img = img.shape
        boxes = self.slide_windows(h_img, w_img)
        preds = img.new_zeros((batch_size, self.num_classes, h_img, w_img))
        count_mat = img.new_zeros((batch_size, 1, h_img, w_img))
        if self.test_cfg.get('batched_slide', False):
            crops = torch.cat([img[:, :, y1:y2, x1:x2] for y1, y2, x1, x2 in boxes], dim=0)
            logits = self.encode_decode(crops, img_metas).split(batch_size, dim=0)
        else:
            logits = [self.encode_decode(img[:, :, y1:y2, x1:x2], img_metas) for y1, y2, x1, x2 in boxes]
        for (y1, y2, x1, x2), crop_logit in zip(boxes, logits):
            preds += F.pad(crop_logit, (x1, w_img - x2, y1, h_img - y2))
            count_mat[:, :, y1:y2, x1:x2] += 1
        preds = preds / count_mat
        return self.rescale_logits(preds, img_metas) if rescale else preds

    def inference_logits(self, img: torch.Tensor, img_metas: List[dict], rescale: bool) -> torch.Tensor:
        """Logits of the configured test mode, resized to ``ori_shape`` if ``rescale``, un-flipped."""
        if self.test_cfg.get('mode', 'whole') == 'slide':
            seg_logit = self.slide_inference(img, img_metas, rescale)
        else:
            seg_logit = self.whole_inference(img, img_metas, rescale)
        if img_metas[0].get('flip', False):
            direction = img_metas[0].get('flip_direction', 'horizontal')
            seg_logit = seg_logit.flip(dims=(3, ) if direction == 'horizontal' else (2, ))
        return seg_logit

    def inference(self, img: torch.Tensor, img_metas: List[dict], rescale: bool = True) -> torch.Tensor:
        """Softmax probabilities of the configured test mode (the reference's ``inference``)."""
        return F.softmax(self.inference_logits(img, img_metas, rescale), dim=1)

    def simple_test(self, img: torch.Tensor, img_metas: Optional[List[dict]] = None,
                    rescale: bool = True) -> torch.Tensor:
        """Argmax prediction (B, H, W)."""
        return self.inference(img, img_metas or default_img_metas(img), rescale).argmax(dim=1)

    # ---- mmengine API ---------------------------------------------------------------------------
    def forward(self, inputs: torch.Tensor, data_samples: Optional[Sequence[SegDataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.encode_decode(inputs)
        raise ValueError(f"forward mode={mode!r}; expected 'loss', 'predict' or 'tensor'")

    def loss(self, inputs: torch.Tensor, data_samples: Sequence[SegDataSample]) -> Dict[str, torch.Tensor]:
        """Losses of a labelled batch; ``seg_weight`` of the samples is used when all carry one."""
        gt = torch.stack([s.gt_sem_seg.data for s in data_samples]).long()
        seg_weight = None
        if all('seg_weight' in s for s in data_samples):
            seg_weight = torch.stack([s.seg_weight.data for s in data_samples]).squeeze(1)
        return self.forward_train(inputs, [s.metainfo for s in data_samples], gt, seg_weight)

    def predict(self, inputs: torch.Tensor,
                data_samples: Optional[Sequence[SegDataSample]] = None) -> List[SegDataSample]:
        """Per image: logits at the original size (``seg_logits``) and the label map (``pred_sem_seg``)."""
        if data_samples is None:
            data_samples = [SegDataSample(metainfo=meta) for meta in default_img_metas(inputs)]
        img_metas = [s.metainfo for s in data_samples]
        if len({tuple(m['ori_shape'][:2]) for m in img_metas}) > 1:
            logits = [self.inference_logits(inputs[i:i + 1], img_metas[i:i + 1], rescale=True)[0]
                      for i in range(len(img_metas))]
        else:
            logits = list(self.inference_logits(inputs, img_metas, rescale=True))
        for sample, logit in zip(data_samples, logits):
            sample.seg_logits = PixelData(data=logit)
            sample.pred_sem_seg = PixelData(data=logit.argmax(dim=0, keepdim=True))
        return list(data_samples)
