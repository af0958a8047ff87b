"""Source/target pairs for UDA training, with rare class sampling (spec §8.4, §13.12).

Each item is a labelled source sample and an unlabelled target sample:
``dict(inputs, data_samples, target_inputs, target_data_samples)``. With rare class sampling
the dataloader index is ignored (as the reference): a class is drawn with P(c) ∝
softmax((1 − f_c)/T), then a source file with enough pixels of it, then random crops are
re-drawn until one keeps enough of the class (10 retries, the 11th is taken unchecked); the
target is drawn uniformly and independently. Randomness comes from numpy's global RNG, which
mmengine seeds per worker and rank. A target data set with ``crop_pseudo_margins`` gives its samples a
``valid_pseudo_mask`` (the reference's extra output key), which travels in ``target_data_samples``.
With ``sync_crop_size`` (HRDA's crop-size ablations; off in the final configs) one random box is cut
identically from the image, label and ``valid_pseudo_mask`` of both samples after their own pipelines.
"""
import copy
import os
from typing import Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.structures import PixelData
from torch import Tensor
from torch.utils.data import Dataset

from mmseg.registry import DATASETS
from mmseg.structures import SegDataSample
from mmseg.utils import check_config_keys
from .rare_class_sampling import RareClassSampler


SYNC_CROPPED_FIELDS = ('gt_sem_seg', 'valid_pseudo_mask')


def _build(dataset: Union[dict, Dataset]) -> Dataset:
    return DATASETS.build(copy.deepcopy(dataset)) if isinstance(dataset, dict) else dataset


def _crop_sample(inputs: Tensor, data_sample: SegDataSample, box: Tuple[int, int, int, int]) -> Tensor:
    """``inputs`` (C, H, W) cut to ``box`` (y1, y2, x1, x2); the sample's label and margin mask alike (in place: the
    pipeline made them for this item)."""
    y1, y2, x1, x2 = box
    for field in SYNC_CROPPED_FIELDS:
        if field in data_sample:
            pixel_data = getattr(data_sample, field)
            setattr(data_sample, field, PixelData(data=pixel_data.data[:, y1:y2, x1:x2], metainfo=pixel_data.metainfo))
    data_sample.set_metainfo(dict(img_shape=(y2 - y1, x2 - x1)))
    return inputs[:, y1:y2, x1:x2]


@DATASETS.register_module()
class UDADataset(Dataset):
    """Args:
        source, target: data set configs (or data sets) of the two domains.
        rare_class_sampling: ``dict(min_pixels, class_temp, min_crop_ratio)`` (reference names), read
            from the converter statistics in the source ``data_root``; None for plain pairing.
        sync_crop_size: (H, W) of a box cut at the same random place from both samples after their
            pipelines (the reference's ``synchronized_crop``); None: no such crop.
    """

    def __init__(self, source: Union[dict, Dataset], target: Union[dict, Dataset],
                 rare_class_sampling: Optional[dict] = None, sync_crop_size: Optional[Sequence[int]] = None):
        if sync_crop_size is not None and (len(sync_crop_size) != 2 or min(sync_crop_size) <= 0):
            raise ValueError(f'UDADataset: sync_crop_size={sync_crop_size!r}; expected a positive (H, W)')
        self.sync_crop_size = None if sync_crop_size is None else tuple(int(v) for v in sync_crop_size)
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

    def rare_class_source(self) -> dict:
        """A source crop of a rare class (class, file and crop drawn from numpy's global RNG)."""
        c, file = self.rcs.sample()
        index = self.file_to_idx[file]
        return self.rcs.select_crop(lambda: self.source[index], lambda s: s['data_samples'].gt_sem_seg.data, c)

    def source_sample(self, idx: int) -> dict:
        """The source half of item ``idx``: a rare-class crop with rare class sampling, else source ``idx //
        len(target)`` (CDDA's bank is made of these)."""
        return self.rare_class_source() if self.rcs is not None else self.source[idx // len(self.target)]

    def rare_class_sample(self) -> dict:
        """A source crop of a rare class and a uniformly drawn target sample."""
        source = self.rare_class_source()
        target = self.target[np.random.choice(range(len(self.target)))]
        return self._pair(source, target)

    def __getitem__(self, idx: int) -> dict:
        if self.rcs is not None:
            return self.rare_class_sample()
        return self._pair(self.source[idx // len(self.target)], self.target[idx % len(self.target)])

    def _pair(self, source: dict, target: dict) -> dict:
        pair = dict(inputs=source['inputs'], data_samples=source['data_samples'], target_inputs=target['inputs'],
                    target_data_samples=target['data_samples'])
        return pair if self.sync_crop_size is None else self.synchronized_crop(pair)

    def synchronized_crop(self, pair: dict) -> dict:
        """One random ``sync_crop_size`` box (offsets drawn with numpy, H first, as the reference), cut
        from both samples' images, labels and margin masks. The box is placed in the source's size."""
        img_h, img_w = pair['inputs'].shape[-2:]
        crop_h, crop_w = self.sync_crop_size
        target_h, target_w = pair['target_inputs'].shape[-2:]
        if crop_h > min(img_h, target_h) or crop_w > min(img_w, target_w):
            raise ValueError(f'UDADataset: sync_crop_size {list(self.sync_crop_size)} is larger than the pipeline '
                             f'crops (source {img_h}x{img_w}, target {target_h}x{target_w}); expected at most '
                             'their size')
        offset_h = np.random.randint(0, img_h - crop_h + 1)
        offset_w = np.random.randint(0, img_w - crop_w + 1)
        box = (offset_h, offset_h + crop_h, offset_w, offset_w + crop_w)
        pair['inputs'] = _crop_sample(pair['inputs'], pair['data_samples'], box)
        pair['target_inputs'] = _crop_sample(pair['target_inputs'], pair['target_data_samples'], box)
        return pair
