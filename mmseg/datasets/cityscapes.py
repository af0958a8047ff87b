"""Cityscapes (``leftImg8bit`` / ``gtFine``) with the 19 train-id classes of cityscapesscripts."""
from typing import Any

from cityscapesscripts.helpers.labels import trainId2label

from mmseg.registry import DATASETS
from .basesegdataset import BaseSegDataset

NUM_CLASSES = 19
# Names and colours of train ids 0..18 from the official label table.
CITYSCAPES_CLASSES = tuple(trainId2label[i].name for i in range(NUM_CLASSES))
CITYSCAPES_PALETTE = [list(trainId2label[i].color) for i in range(NUM_CLASSES)]


@DATASETS.register_module()
class CityscapesDataset(BaseSegDataset):
    """``leftImg8bit/<split>/<city>/<stem>_leftImg8bit.png``, labels ``gtFine/.../<stem>_gtFine_labelTrainIds.png``.

    The train-id labels are written by ``tools/convert_datasets/cityscapes.py``, which also writes
    the split files ``{train,val,test}.txt`` (``<city>/<stem>`` per line) usable as ``ann_file``.
    """

    METAINFO = dict(classes=CITYSCAPES_CLASSES, palette=CITYSCAPES_PALETTE)
    LAYOUT = ('data/cityscapes/leftImg8bit/<split>/<city>/<stem>_leftImg8bit.png and '
              'data/cityscapes/gtFine/<split>/<city>/<stem>_gtFine_labelTrainIds.png (convert the labels with '
              '`python tools/convert_datasets/cityscapes.py data/cityscapes`)')

    def __init__(self, img_suffix: str = '_leftImg8bit.png', seg_map_suffix: str = '_gtFine_labelTrainIds.png',
                 **kwargs: Any) -> None:
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)
