"""Rain Cityscapes (Hu et al., 2019): Cityscapes frames with synthetic rain streaks and rain accumulation."""
import re
from typing import Any

from mmseg.registry import DATASETS
from .cityscapes_variant import CityscapesVariantDataset, Selection


@DATASETS.register_module()
class RainCityscapesDataset(CityscapesVariantDataset):
    """``leftImg8bit_rain/<split>/<city>/<frame>_leftImg8bit_rain_alpha_<α>_beta_<β>_dropsize_<d>_pattern_<p>.png``
    with the ``gtFine`` label of the clear frame (the release renders 36 variants of each of 262 train and 33 val
    frames: three (α, β, dropsize) levels times 12 streak patterns).

    Args:
        alpha, beta, dropsize, pattern: the rendering parameters to keep, each a value or a list; None (default)
            keeps every value, i.e. all renderings.
        kwargs: as :class:`CityscapesVariantDataset`.
    """

    KIND = 'Rain Cityscapes'
    MARKER = '_leftImg8bit_rain_'
    FILE_PATTERN = re.compile(r'(?P<frame>.+?)_leftImg8bit_rain_alpha_(?P<alpha>[0-9.]+)_beta_(?P<beta>[0-9.]+)'
                              r'_dropsize_(?P<dropsize>[0-9.]+)_pattern_(?P<pattern>[0-9]+)\.png')
    LAYOUT = ('data/cityscapes/leftImg8bit_rain/<split>/<city>/<frame>_leftImg8bit_rain_alpha_<a>_beta_<b>_dropsize_'
              '<d>_pattern_<p>.png (the leftImg8bit_trainval_rain download) with the Cityscapes labels '
              'data/cityscapes/gtFine/<split>/<city>/<frame>_gtFine_labelTrainIds.png (convert them with '
              '`python tools/convert_datasets/cityscapes.py data/cityscapes`); the synthetic pair gets them from '
              '`python tools/make_synthetic_data.py --weather`')

    def __init__(self, alpha: Selection = None, beta: Selection = None, dropsize: Selection = None,
                 pattern: Selection = None, **kwargs: Any) -> None:
        super().__init__(selection=dict(alpha=alpha, beta=beta, dropsize=dropsize, pattern=pattern), **kwargs)
