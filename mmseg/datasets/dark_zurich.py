"""Dark Zurich (night driving): ``rgb_anon/{train/night,val/night}/<seq>/*_rgb_anon.png``, labels for val only."""
from typing import Any

from mmseg.registry import DATASETS
from .cityscapes import CityscapesDataset


@DATASETS.register_module()
class DarkZurichDataset(CityscapesDataset):
    """``rgb_anon/<split>/**/<stem>_rgb_anon.png`` with ``gt/<split>/**/<stem>_gt_labelTrainIds.png``.

    Only the val split has (train-id) labels; the train split is used without labels.
    """

    LAYOUT = ('data/dark_zurich/rgb_anon/<split>/<condition>/<sequence>/<stem>_rgb_anon.png and '
              'data/dark_zurich/gt/val/night/<sequence>/<stem>_gt_labelTrainIds.png (Dark Zurich ships train-id '
              'labels, for the val split only: no conversion)')

    def __init__(self, img_suffix: str = '_rgb_anon.png', seg_map_suffix: str = '_gt_labelTrainIds.png',
                 **kwargs: Any) -> None:
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)
