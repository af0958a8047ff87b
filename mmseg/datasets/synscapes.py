"""Synscapes (``img/rgb/<id>.png``, labels ``img/class/<id>_gt_labelTrainIds.png``) in the Cityscapes classes, DDB's
second source (spec ebda-cdda-ddb §3.9)."""
from typing import Any

from mmseg.registry import DATASETS
from .basesegdataset import BaseSegDataset
from .cityscapes import CITYSCAPES_CLASSES, CITYSCAPES_PALETTE


@DATASETS.register_module()
class SynscapesDataset(BaseSegDataset):
    """``img/rgb/1.png`` with ``img/class/1_gt_labelTrainIds.png`` (written by
    ``tools/convert_datasets/synscapes.py`` from the Cityscapes label ids of ``img/class/1.png``)."""

    METAINFO = dict(classes=CITYSCAPES_CLASSES, palette=CITYSCAPES_PALETTE)
    LAYOUT = ('data/synscapes/img/rgb/<id>.png and data/synscapes/img/class/<id>_gt_labelTrainIds.png (convert the '
              'labels with `python tools/convert_datasets/synscapes.py data/synscapes`)')

    def __init__(self, img_suffix: str = '.png', seg_map_suffix: str = '_gt_labelTrainIds.png', **kwargs: Any) -> None:
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)
