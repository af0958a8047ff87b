"""SYNTHIA-RAND-CITYSCAPES (``RGB/<7 digits>.png``, ``GT/LABELS/<7 digits>_labelTrainIds.png``)."""
from typing import Any

from mmseg.registry import DATASETS
from .basesegdataset import BaseSegDataset
from .cityscapes import CITYSCAPES_CLASSES, CITYSCAPES_PALETTE


@DATASETS.register_module()
class SynthiaDataset(BaseSegDataset):
    """``RGB/0000001.png`` with ``GT/LABELS/0000001_labelTrainIds.png`` (``tools/convert_datasets/synthia.py``).

    The labels use the 19 Cityscapes train ids; terrain, truck and train have no pixels.
    """

    METAINFO = dict(classes=CITYSCAPES_CLASSES, palette=CITYSCAPES_PALETTE)
    LAYOUT = ('data/synthia/RGB/<7-digit>.png and data/synthia/GT/LABELS/<7-digit>_labelTrainIds.png '
              '(convert the labels with `python tools/convert_datasets/synthia.py data/synthia`)')

    def __init__(self, img_suffix: str = '.png', seg_map_suffix: str = '_labelTrainIds.png', **kwargs: Any) -> None:
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)
