"""Per-image container passed between pipeline, model and metric (mmseg 1.x ``SegDataSample``)."""
from mmengine.structures import BaseDataElement, PixelData


class SegDataSample(BaseDataElement):
    """Meta information (``ori_shape``, ``img_shape``, ``pad_shape``, ``flip``, ...) plus pixel fields.

    - ``gt_sem_seg``: ground-truth label map (1, H, W);
    - ``seg_weight``: optional per-pixel loss weight (1, H, W), e.g. pseudo-label confidence;
    - ``seg_logits``: predicted logits (C, H, W) at the original size;
    - ``pred_sem_seg``: predicted label map (1, H, W).
    """

    @property
    def gt_sem_seg(self) -> PixelData:
        return self._gt_sem_seg

    @gt_sem_seg.setter
    def gt_sem_seg(self, value: PixelData) -> None:
        self.set_field(value, '_gt_sem_seg', dtype=PixelData)

    @gt_sem_seg.deleter
    def gt_sem_seg(self) -> None:
        del self._gt_sem_seg

    @property
    def seg_weight(self) -> PixelData:
        return self._seg_weight

    @seg_weight.setter
    def seg_weight(self, value: PixelData) -> None:
        self.set_field(value, '_seg_weight', dtype=PixelData)

    @seg_weight.deleter
    def seg_weight(self) -> None:
        del self._seg_weight

    @property
    def seg_logits(self) -> PixelData:
        return self._seg_logits

    @seg_logits.setter
    def seg_logits(self, value: PixelData) -> None:
        self.set_field(value, '_seg_logits', dtype=PixelData)

    @seg_logits.deleter
    def seg_logits(self) -> None:
        del self._seg_logits

    @property
    def pred_sem_seg(self) -> PixelData:
        return self._pred_sem_seg

    @pred_sem_seg.setter
    def pred_sem_seg(self, value: PixelData) -> None:
        self.set_field(value, '_pred_sem_seg', dtype=PixelData)

    @pred_sem_seg.deleter
    def pred_sem_seg(self) -> None:
        del self._pred_sem_seg
