"""Random flip of the image and its label maps (mmseg 0.16 ``RandomFlip(prob)``)."""
import mmcv
from mmcv.transforms import RandomFlip as MMCVRandomFlip

from mmseg.registry import TRANSFORMS
from .utils import geometric_keys


@TRANSFORMS.register_module()
class RandomFlip(MMCVRandomFlip):
    """Flip the image and every label map of ``seg_fields`` with probability ``prob``.

    mmcv draws the decision as ``np.random.choice([direction, None], p=[prob, 1 - prob])``, which
    takes one uniform ``u`` from numpy's global RNG and flips iff ``u < prob``: the same draw and
    decision as the reference's ``np.random.rand() < prob``. Sets ``flip`` and ``flip_direction``
    (None when not flipped). A depth map (``gt_depth_map``) is flipped with the image. The flipped
    arrays are views with negative strides.

    Args:
        prob: flip probability.
        direction: ``'horizontal'``, ``'vertical'`` or ``'diagonal'``.
    """

    def __init__(self, prob: float = 0.5, direction: str = 'horizontal') -> None:
        super().__init__(prob=float(prob), direction=direction)

    def _flip(self, results: dict) -> None:
        direction = results['flip_direction']
        results['img'] = mmcv.imflip(results['img'], direction=direction)
        for key in geometric_keys(results):
            results[key] = mmcv.imflip(results[key], direction=direction)
