"""Source/target pairs for UDA training, with rare class sampling (spec §8.4, §13.12).

Each item is a labelled source sample and an unlabelled target sample:
``dict(inputs, data_samples, target_inputs, target_data_samples)``. With rare class sampling
the dataloader index is ignored (as the reference): a class is drawn with P(c) ∝
softmax((1 − f_c)/T), then a source file with enough pixels of it, then random crops are
re-drawn until one keeps enough of the class (10 retries, the 11th is taken unchecked); the
target is drawn uniformly and independently. Randomness comes from numpy's global RNG, which
mmengine seeds per worker and rank. A target data set with ``crop_pseudo_margins`` gives its samples a
``valid_pseudo_mask`` (the reference's extra output key), which travels in ``target_data_samples``.
"""
import copy
import os
from typing import Optional, Union

import numpy as np
from torch.utils.data import Dataset

from mmseg.registry import DATASETS
from mmseg.utils import check_config_keys
from .rare_class_sampling import RareClassSampler


def _build(dataset: Union[dict, Dataset]) -> Dataset:
    return DATASETS.build(copy.deepcopy(dataset)) if isinstance(dataset, dict) else dataset


@DATASETS.register_module()
class UDADataset(Dataset):
    """Args:
        source, target: data set configs (or data sets) of the two domains.
        rare_class_sampling: ``dict(min_pixels, class_temp, min_crop_ratio)`` (reference names), read
            from the converter statistics in the source ``data_root``; None for plain pairing.
    """

    def __init__(self, source: Union[dict, Dataset], target: Union[dict, Dataset],
                 rare_class_sampling: Optional[dict] = None):
        self.source = _build(source)
        self.target = _build(target)
        for key in ('classes', 'palette'):
            src, tgt = self.source.metainfo.get(key), self.target.metainfo.get(key)
            if src is not None and tgt is not None and list(src) != list(tgt):
                raise ValueError(f'UDADataset: source and target {key} differ: {src} vs {tgt}')
        self.metainfo = copy.deepcopy(self.source.metainfo)
        self.rcs = None
        if rare_class_sampling is not None:
            check_config_keys(rare_class_sampling, ('min_pixels', 'class_temp', 'min_crop_ratio'),
                              'rare_class_sampling')
            self.rcs = RareClassSampler.from_data_root(self.source.data_root, **rare_class_sampling)
            self.source.full_init()
            self.file_to_idx = {os.path.basename(info['seg_map_path']): i
                                for i, info in enumerate(self.source.load_data_list())}
            missing = sorted({f for files in self.rcs.files.values() for f in files} - set(self.file_to_idx))
            if missing:
                raise ValueError(f'rare class sampling: {len(missing)} file(s) of samples_with_class.json in '
                                 f'{self.source.data_root} are not in the source data set, e.g. {missing[:3]}; '
                                 're-run the converter on this data root')

    def __len__(self) -> int:
        return len(self.source) * len(self.target)

    def rare_class_sample(self) -> dict:
        """A source crop of a rare class and a uniformly drawn target sample."""
        c, file = self.rcs.sample()
        index = self.file_to_idx[file]
        source = self.rcs.select_crop(lambda: self.source[index], lambda s: s['data_samples'].gt_sem_seg.data, c)
        target = self.target[np.random.choice(range(len(self.target)))]
        return self._pair(source, target)

    def __getitem__(self, idx: int) -> dict:
        if self.rcs is not None:
            return self.rare_class_sample()
        return self._pair(self.source[idx // len(self.target)], self.target[idx % len(self.target)])

    @staticmethod
    def _pair(source: dict, target: dict) -> dict:
        return dict(inputs=source['inputs'], data_samples=source['data_samples'], target_inputs=target['inputs'],
                    target_data_samples=target['data_samples'])
