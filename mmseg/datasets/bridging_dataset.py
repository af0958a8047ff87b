"""DDB's training set (the reference's ``STDataset``, spec ebda-cdda-ddb §3.3): a source sample, a target sample
and their domain-bridging sample, mixed in the data loader as the reference does.

Item ``idx`` pairs source ``idx % len(source)`` (the sampler shuffles ``idx`` over ``max(len(source),
len(target))``; no rare class sampling in DDB) with a target drawn uniformly at random (numpy's global RNG, which
mmengine seeds per worker); each goes through its own pipeline, then :func:`~.domain_bridging.bridge` mixes the two
crops. The item is ``dict(inputs, data_samples, target_inputs, target_data_samples, bridging_inputs,
bridging_mask)``: ``bridging_inputs`` is the bridged image as a float (3, H, W) tensor in the loaded images' space
(BGR pixel values, which the model's data pre-processor normalises like the other inputs), ``bridging_mask`` its
(1, H, W) int64 mask (1 = source pixel). Colour jitter acts on the RGB image, as the reference's on its
de-normalised one. Source and target crops of a pair must have one size (the DDB pipelines crop both to the crop
size).
"""
import copy
from typing import Union

import numpy as np
import torch
from torch.utils.data import Dataset

from mmseg.registry import DATASETS
from .domain_bridging import BRIDGING_MODES, CUT_AREA, bridge

BGR_TO_RGB = [2, 1, 0]  # LoadImageFromFile gives BGR images; the same index list converts back


def _build(dataset: Union[dict, Dataset]) -> Dataset:
    return DATASETS.build(copy.deepcopy(dataset)) if isinstance(dataset, dict) else dataset


@DATASETS.register_module()
class DomainBridgingDataset(Dataset):
    """Args (the reference's ``STDataset`` / ``get_bridging`` settings):
        source, target: data set configs (or data sets); several sources or targets are one data set
            (``ConcatDataset`` of the sources, ``MultiTargetDataset`` of the targets).
        mode: ``'class'`` (ClassMix, ST-ca), ``'cut'`` (CutMix, ST-cu) or ``'zero'`` (the target itself, CKD).
        post_pmd, post_blur: colour jitter (p 0.8) and Gaussian blur (p 0.5) of the bridged image.
        cut_area: box area fraction of ``'cut'`` (0.4).
        color_jitter_strength, color_jitter_probability: kornia ColorJitter strength and the gate of the jitter.
        reference_blur: the reference's horizontal-only blur (see :mod:`.domain_bridging`); False: 2-D as DACS.
    """

    def __init__(self, source: Union[dict, Dataset], target: Union[dict, Dataset], mode: str = 'class',
                 post_pmd: bool = True, post_blur: bool = True, cut_area: float = CUT_AREA,
                 color_jitter_strength: float = 0.2, color_jitter_probability: float = 0.2,
                 reference_blur: bool = True) -> None:
        if mode not in BRIDGING_MODES:
            raise ValueError(f'DomainBridgingDataset: mode={mode!r}; expected one of {BRIDGING_MODES}')
        if not 0 < cut_area <= 1:
            raise ValueError(f'DomainBridgingDataset: cut_area={cut_area}; expected a fraction in (0, 1]')
        self.source = _build(source)
        self.target = _build(target)
        for key in ('classes', 'palette'):
            src, tgt = self.source.metainfo.get(key), self.target.metainfo.get(key)
            if src is not None and tgt is not None and list(src) != list(tgt):
                raise ValueError(f'DomainBridgingDataset: source and target {key} differ: {src} vs {tgt}')
        self.metainfo = copy.deepcopy(self.source.metainfo)
        self.mode = mode
        self.post_pmd = post_pmd
        self.post_blur = post_blur
        self.cut_area = cut_area
        self.color_jitter_strength = color_jitter_strength
        self.color_jitter_probability = color_jitter_probability
        self.reference_blur = reference_blur
        self._pixel_mean = torch.zeros((1, 3, 1, 1))  # the bridging functions see RGB pixel values
        self._pixel_std = torch.ones((1, 3, 1, 1))

    def __len__(self) -> int:
        return max(len(self.source), len(self.target))

    def __getitem__(self, idx: int) -> dict:
        target = self.target[np.random.randint(len(self.target))]
        source = self.source[idx % len(self.source)]
        source_img = source['inputs'].float()[BGR_TO_RGB]
        target_img = target['inputs'].float()[BGR_TO_RGB]
        if source_img.shape != target_img.shape:
            raise ValueError(f'DomainBridgingDataset: the source crop {tuple(source_img.shape[1:])} and the target '
                             f'crop {tuple(target_img.shape[1:])} differ in size; crop (or pad) both pipelines to '
                             'the same crop size')
        label = source['data_samples'].gt_sem_seg.data.long()
        bridged = bridge(source_img, label, target_img, self.mode, self._pixel_mean, self._pixel_std,
                         post_pmd=self.post_pmd, post_blur=self.post_blur, area=self.cut_area,
                         color_jitter_strength=self.color_jitter_strength,
                         color_jitter_probability=self.color_jitter_probability, reference_blur=self.reference_blur)
        return dict(inputs=source['inputs'], data_samples=source['data_samples'], target_inputs=target['inputs'],
                    target_data_samples=target['data_samples'], bridging_inputs=bridged.img[BGR_TO_RGB],
                    bridging_mask=bridged.mask)
