"""Data pipeline transforms, registered in ``mmseg.registry.TRANSFORMS`` (one per file).

Images are loaded by :class:`LoadImageFromFile`, mmcv's loader (OpenCV, BGR uint8) with errors that
name the file. Random transforms draw from numpy's global RNG, as mmcv and the reference do; mmengine's
data-loader ``worker_init_fn`` seeds it (and ``random``, torch) per worker with
``num_workers * rank + worker_id + seed``, so a seeded run repeats its crops and flips.
Pipelines end with :class:`PackSegInputs`; normalisation and padding are done by the model's
``SegDataPreProcessor``.
"""
from .depth_loading import LoadDepthMap
from .formatting import PackSegInputs
from .loading import LoadAnnotations, LoadImageFromFile
from .multi_scale_flip_aug import MultiScaleFlipAug
from .photometric_distortion import PhotoMetricDistortion
from .random_crop import RandomCrop
from .random_flip import RandomFlip
from .resize import Resize
from .valid_pseudo_mask import GenerateValidPseudoMask

__all__ = [
    'GenerateValidPseudoMask', 'LoadAnnotations', 'LoadDepthMap', 'LoadImageFromFile', 'MultiScaleFlipAug',
    'PackSegInputs', 'PhotoMetricDistortion', 'RandomCrop', 'RandomFlip', 'Resize'
]
