"""GTA5 (``images/<5 digits>.png``, ``labels/<5 digits>_labelTrainIds.png``) in the Cityscapes classes."""
from typing import Any

from mmseg.registry import DATASETS
from .basesegdataset import BaseSegDataset
from .cityscapes import CITYSCAPES_CLASSES, CITYSCAPES_PALETTE


@DATASETS.register_module()
class GTADataset(BaseSegDataset):
    """``images/00001.png`` with ``labels/00001_labelTrainIds.png`` (written by ``tools/convert_datasets/gta.py``)."""

    METAINFO = dict(classes=CITYSCAPES_CLASSES, palette=CITYSCAPES_PALETTE)
    LAYOUT = ('data/gta/images/<5-digit>.png and data/gta/labels/<5-digit>_labelTrainIds.png '
              '(convert the labels with `python tools/convert_datasets/gta.py data/gta`)')

    def __init__(self, img_suffix: str = '.png', seg_map_suffix: str = '_labelTrainIds.png', **kwargs: Any) -> None:
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)
