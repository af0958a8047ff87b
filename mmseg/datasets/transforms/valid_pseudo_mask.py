"""The HRDA/MIC pseudo-label margin mask (``crop_pseudo_margins``, spec §5.4)."""
from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from mmseg.registry import TRANSFORMS

VALID_PSEUDO_MASK = 'valid_pseudo_mask'


@TRANSFORMS.register_module()
class GenerateValidPseudoMask(BaseTransform):
    """``results['valid_pseudo_mask']``: uint8 ones of the loaded image's size, 0 in the margins.

    Added to ``seg_fields``, so the later Resize (nearest), RandomCrop and RandomFlip treat it like
    a label map and a margin stays masked only where the training crop reaches the image border.
    ``PackSegInputs`` packs it as the sample's ``valid_pseudo_mask`` (1, H, W). The target data set
    inserts this step after image loading when given ``crop_pseudo_margins``.

    Args:
        margins: ``[top, bottom, left, right]`` rows / columns of weight 0 (reference: [30, 240, 30, 30]).
    """

    def __init__(self, margins: Sequence[int]) -> None:
        margins = list(margins)
        if len(margins) != 4 or any(not isinstance(m, int) or m < 0 for m in margins):
            raise ValueError(f'crop_pseudo_margins={margins}; expected [top, bottom, left, right], '
                             'non-negative ints')
        self.margins = margins

    def transform(self, results: dict) -> dict:
        mask = np.ones(results['img'].shape[:2], dtype=np.uint8)
        top, bottom, left, right = self.margins
        mask[:top, :] = 0
        if bottom > 0:  # [-0:] would be the whole image
            mask[-bottom:, :] = 0
        mask[:, :left] = 0
        if right > 0:
            mask[:, -right:] = 0
        results[VALID_PSEUDO_MASK] = mask
        seg_fields = results.setdefault('seg_fields', [])
        if VALID_PSEUDO_MASK not in seg_fields:
            seg_fields.append(VALID_PSEUDO_MASK)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(margins={self.margins})'
