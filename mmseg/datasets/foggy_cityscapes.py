"""Foggy Cityscapes (Sakaridis et al., 2018): Cityscapes frames with synthetic fog of attenuation β."""
import re
from typing import Any

from mmseg.registry import DATASETS
from .cityscapes_variant import CityscapesVariantDataset, Selection


@DATASETS.register_module()
class FoggyCityscapesDataset(CityscapesVariantDataset):
    """``leftImg8bit_foggy/<split>/<city>/<frame>_leftImg8bit_foggy_beta_<β>.png`` with the ``gtFine`` label of
    the clear frame.

    Args:
        beta: the fog's attenuation coefficient(s) to keep (the release has 0.005, 0.01 and 0.02 for every
            frame); 0.02, the densest, is the one UDA papers use. None keeps all three.
        kwargs: as :class:`CityscapesVariantDataset`.
    """

    KIND = 'Foggy Cityscapes'
    MARKER = '_leftImg8bit_foggy_'
    FILE_PATTERN = re.compile(r'(?P<frame>.+?)_leftImg8bit_foggy_beta_(?P<beta>[0-9.]+)\.png')
    LAYOUT = ('data/cityscapes/leftImg8bit_foggy/<split>/<city>/<frame>_leftImg8bit_foggy_beta_<beta>.png (the '
              'leftImg8bit_trainvaltest_foggy download) with the Cityscapes labels '
              'data/cityscapes/gtFine/<split>/<city>/<frame>_gtFine_labelTrainIds.png (convert them with '
              '`python tools/convert_datasets/cityscapes.py data/cityscapes`); the synthetic pair gets them from '
              '`python tools/make_synthetic_data.py --weather`')

    def __init__(self, beta: Selection = 0.02, **kwargs: Any) -> None:
        super().__init__(selection=dict(beta=beta), **kwargs)
