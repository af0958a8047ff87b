"""Mapillary Vistas in the Cityscapes classes, DDB's second target (spec ebda-cdda-ddb §3.9).

Training images ``training/images/<key>.jpg`` with the labels of ``tools/convert_datasets/mapillary2cityscape.py``,
``cityscapes_trainIdLabel/train/label/<key>.png`` (train ids); validation at half resolution, ``half/val_img/<key>.jpg``
and ``half/val_label/<key>.png`` (``tools/convert_datasets/mapillary_resize.py``).
"""
from typing import Any

from mmseg.registry import DATASETS
from .basesegdataset import BaseSegDataset
from .cityscapes import CITYSCAPES_CLASSES, CITYSCAPES_PALETTE


@DATASETS.register_module()
class MapillaryDataset(BaseSegDataset):
    """JPEG images with uint8 train-id PNG labels of the same name."""

    METAINFO = dict(classes=CITYSCAPES_CLASSES, palette=CITYSCAPES_PALETTE)
    LAYOUT = ('data/mapillary/training/images/<key>.jpg with data/mapillary/cityscapes_trainIdLabel/train/label/<key>'
              '.png (convert the labels with `python tools/convert_datasets/mapillary2cityscape.py data/mapillary '
              'data/mapillary/cityscapes_trainIdLabel --train_id`), and for validation data/mapillary/half/val_img/'
              '<key>.jpg with data/mapillary/half/val_label/<key>.png (`python tools/convert_datasets/'
              'mapillary_resize.py data/mapillary/validation/images data/mapillary/cityscapes_trainIdLabel/val/label '
              'data/mapillary/half/val_img data/mapillary/half/val_label`)')

    def __init__(self, img_suffix: str = '.jpg', seg_map_suffix: str = '.png', **kwargs: Any) -> None:
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)
