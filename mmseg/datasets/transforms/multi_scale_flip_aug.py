"""Test-time augmentation of the reference (mmseg 0.16 ``MultiScaleFlipAug``, DAFormer's ``--aug-test``)."""
import copy
from typing import List, Optional, Sequence, Tuple

from mmcv.transforms import BaseTransform

from mmseg.registry import TRANSFORMS
from .random_flip import RandomFlip
from .resize import Resize


@TRANSFORMS.register_module()
class MultiScaleFlipAug(BaseTransform):
    """One result per scale and flip: ``dict(inputs=[...], data_samples=[...])`` in the order scale-major,
    un-flipped first (mmengine's test-time-augmentation layout, which ``pseudo_collate`` turns into one
    batch per augmentation).

    The scales are ``img_scale`` (W, H) times each of ``img_ratios`` (``int(W * r), int(H * r)``), or, with
    ``img_scale=None``, the loaded image's own size times each ratio; each is a keep-ratio :class:`Resize`.
    Flipped copies use :class:`RandomFlip` with probability 1. ``transforms`` run after resize and flip
    (label loading, packing), so labels keep their full resolution.

    Args:
        img_scale: (W, H) the ratios refer to, or None for the image's size.
        img_ratios: scale ratios (DAFormer's aug-test: 0.5, 0.75, 1.0, 1.25, 1.5, 1.75).
        flip: add a flipped copy of every scale.
        flip_direction: 'horizontal' or 'vertical'.
        transforms: transform configs applied to every augmented copy afterwards.
    """

    def __init__(self, img_ratios: Sequence[float], transforms: Sequence[dict], img_scale: Optional[Tuple] = None,
                 flip: bool = True, flip_direction: str = 'horizontal') -> None:
        if not img_ratios or any(r <= 0 for r in img_ratios):
            raise ValueError(f'MultiScaleFlipAug img_ratios={list(img_ratios)}: expected positive ratios')
        self.img_scale = None if img_scale is None else tuple(img_scale)
        self.img_ratios = list(img_ratios)
        self.flips = [False, True] if flip else [False]
        self.flip_direction = flip_direction
        self.transforms = [TRANSFORMS.build(t) for t in transforms]

    def scales(self, results: dict) -> List[Tuple[int, int]]:
        """The (W, H) resize targets for ``results``."""
        if self.img_scale is None:
            height, width = results['img'].shape[:2]
        else:
            width, height = self.img_scale
        return [(int(width * r), int(height * r)) for r in self.img_ratios]

    def transform(self, results: dict) -> dict:
        inputs, data_samples = [], []
        for scale in self.scales(results):
            for flip in self.flips:
                copy_ = Resize(scale=scale, keep_ratio=True)(copy.deepcopy(results))
                if flip:
                    copy_ = RandomFlip(prob=1.0, direction=self.flip_direction)(copy_)
                else:
                    copy_.update(flip=False, flip_direction=None)
                for step in self.transforms:
                    copy_ = step(copy_)
                inputs.append(copy_['inputs'])
                data_samples.append(copy_['data_samples'])
        return dict(inputs=inputs, data_samples=data_samples)

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(img_scale={self.img_scale}, img_ratios={self.img_ratios}, '
                f'flip={len(self.flips) > 1}, flip_direction={self.flip_direction!r})')
