"""Cityscapes (``leftImg8bit`` / ``gtFine``) with the 19 train-id classes of cityscapesscripts."""
from typing import Any, Callable, List, Optional, Sequence, Union

from cityscapesscripts.helpers.labels import trainId2label

from mmseg.registry import DATASETS
from .basesegdataset import BaseSegDataset, insert_after_image_loading
from .transforms.valid_pseudo_mask import GenerateValidPseudoMask

NUM_CLASSES = 19
# Names and colours of train ids 0..18 from the official label table.
CITYSCAPES_CLASSES = tuple(trainId2label[i].name for i in range(NUM_CLASSES))
CITYSCAPES_PALETTE = [list(trainId2label[i].color) for i in range(NUM_CLASSES)]


def with_valid_pseudo_mask(pipeline: Sequence[Union[dict, Callable]], margins: Sequence[int],
                           dataset: str) -> List[Callable]:
    """The built ``pipeline`` with :class:`GenerateValidPseudoMask` right after the image loading step (the
    margin mask is made at the loaded image size, before the resize / crop / flip)."""
    return insert_after_image_loading(pipeline, GenerateValidPseudoMask(margins), dataset, 'crop_pseudo_margins')


@DATASETS.register_module()
class CityscapesDataset(BaseSegDataset):
    """``leftImg8bit/<split>/<city>/<stem>_leftImg8bit.png``, labels ``gtFine/.../<stem>_gtFine_labelTrainIds.png``.

    The train-id labels are written by ``tools/convert_datasets/cityscapes.py``, which also writes
    the split files ``{train,val,test}.txt`` (``<city>/<stem>`` per line) usable as ``ann_file``.

    ``crop_pseudo_margins``: ``[top, bottom, left, right]`` (HRDA/MIC targets: [30, 240, 30, 30]) adds
    the pseudo-label margin mask ``valid_pseudo_mask`` to each sample (spec §5.4): ones of the image's
    size with the margins 0, made after loading and transformed like a label by the rest of the
    pipeline. The reference makes it in ``pre_pipeline`` at a fixed ``valid_mask_size``, the size of
    the data set's images ([1024, 2048]; [1080, 1920] for ACDC and Dark Zurich); here it takes the
    size of each loaded image, which is the same for those data sets and fits any other.
    """

    METAINFO = dict(classes=CITYSCAPES_CLASSES, palette=CITYSCAPES_PALETTE)
    DEPTH_LAYOUT = 'cityscapes'  # depth_any/<split>/<city>/<stem>_depth.png
    LAYOUT = ('data/cityscapes/leftImg8bit/<split>/<city>/<stem>_leftImg8bit.png and '
              'data/cityscapes/gtFine/<split>/<city>/<stem>_gtFine_labelTrainIds.png (convert the labels with '
              '`python tools/convert_datasets/cityscapes.py data/cityscapes`)')

    def __init__(self, img_suffix: str = '_leftImg8bit.png', seg_map_suffix: str = '_gtFine_labelTrainIds.png',
                 crop_pseudo_margins: Optional[Sequence[int]] = None, **kwargs: Any) -> None:
        if crop_pseudo_margins is not None:
            kwargs['pipeline'] = with_valid_pseudo_mask(kwargs.get('pipeline', ()), crop_pseudo_margins,
                                                        type(self).__name__)
        super().__init__(img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)
        self.crop_pseudo_margins = None if crop_pseudo_margins is None else list(crop_pseudo_margins)
