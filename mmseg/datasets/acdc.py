"""ACDC (adverse conditions), with the condition folders flattened into ``rgb_anon/<split>`` and ``gt/<split>``."""
from typing import Any

from mmseg.registry import DATASETS
from .cityscapes import CityscapesDataset


@DATASETS.register_module()
class ACDCDataset(CityscapesDataset):
    """``rgb_anon/<split>/**/<stem>_rgb_anon.png`` with ``gt/<split>/**/<stem>_gt_labelTrainIds.png``.

    ACDC ships train-id labels, so there is no converter; the test split has no labels.
    """

    LAYOUT = ('data/acdc/rgb_anon/<split>/**/<stem>_rgb_anon.png and '
              'data/acdc/gt/<split>/**/<stem>_gt_labelTrainIds.png, the condition folders flattened into <split> '
              '(ACDC ships train-id labels: no conversion; the test split has no labels)')

    def __init__(self, img_suffix: str = '_rgb_anon.png', seg_map_suffix: str = '_gt_labelTrainIds.png',
                 **kwargs: Any) -> None:
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)
