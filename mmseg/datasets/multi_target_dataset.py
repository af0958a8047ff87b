"""Several named target data sets as one: the multi-target training set and the per-target validation set.

Used as the ``target`` of a :class:`UDADataset` (e.g. Cityscapes -> Foggy + Rain Cityscapes, GTA -> Cityscapes +
Mapillary) and as the validation / test data set, where :class:`~mmseg.evaluation.MultiTargetIoUMetric` scores each
target on its own. Every sample carries the name of its target in its metainfo (``target_name``).
"""
import bisect
import copy
import re
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from torch.utils.data import Dataset

from mmseg.registry import DATASETS

TARGET_NAME = 'target_name'
SAMPLINGS = ('union', 'balanced')
NAME_PATTERN = re.compile(r'[A-Za-z0-9_-]+')


@DATASETS.register_module()
class MultiTargetDataset(Dataset):
    """Named target data sets behind one index.

    Args:
        targets: target name -> data set config (or built data set), in the order of the index and of the
            reports. Names are letters, digits, ``_`` and ``-``: they name the metrics (``<name>/mIoU``).
        sampling: ``'union'`` (default): one index per image of every target, the concatenation; a uniform draw
            is uniform over the union, so each target is drawn in proportion to its size. ``'balanced'``: index
            ``i`` belongs to target ``i % K`` (K targets), so each target is drawn equally often; within target
            ``k`` index ``i`` maps to image ``(i // K) * len_k // M`` (M the largest target's size), which spreads
            the M draws of an epoch as evenly as possible over its images. ``K * M`` indices.
        pipeline: the pipeline of every target config without one (the shared pipeline in one place; the test
            tools read it here).
    """

    def __init__(self, targets: Mapping[str, Union[dict, Dataset]], sampling: str = 'union',
                 pipeline: Optional[Sequence[Union[dict, Callable]]] = None) -> None:
        if not isinstance(targets, Mapping) or not targets:
            raise ValueError(f'MultiTargetDataset: targets must be a non-empty dict of name -> data set config; '
                             f'got {targets!r}')
        bad = [name for name in targets if not (isinstance(name, str) and NAME_PATTERN.fullmatch(name))]
        if bad:
            raise ValueError(f'MultiTargetDataset: target names {bad} are not made of letters, digits, _ and -')
        if sampling not in SAMPLINGS:
            raise ValueError(f'MultiTargetDataset: sampling={sampling!r}; expected one of {SAMPLINGS}')
        self.sampling = sampling
        self.datasets: Dict[str, Dataset] = {}
        for name, target in targets.items():
            if isinstance(target, Mapping):
                target = copy.deepcopy(dict(target))
                if pipeline is not None:
                    target.setdefault('pipeline', copy.deepcopy(list(pipeline)))
                target = DATASETS.build(target)
            elif pipeline is not None:
                raise ValueError(f'MultiTargetDataset: target {name!r} is a built data set; the shared pipeline '
                                 'applies to target configs only')
            self.datasets[name] = target
        self.names = list(self.datasets)
        first = self.datasets[self.names[0]]
        for name in self.names[1:]:
            for key in ('classes', 'palette'):
                this, other = first.metainfo.get(key), self.datasets[name].metainfo.get(key)
                if this is not None and other is not None and list(this) != list(other):
                    raise ValueError(f'MultiTargetDataset: targets {self.names[0]!r} and {name!r} have other '
                                     f'{key}: {this} vs {other}')
        self.metainfo = dict(copy.deepcopy(first.metainfo), target_names=list(self.names))
        self.lengths = [len(self.datasets[name]) for name in self.names]
        empty = [name for name, length in zip(self.names, self.lengths) if length == 0]
        if empty:
            raise ValueError(f'MultiTargetDataset: targets {empty} have no images')
        self.offsets = [sum(self.lengths[:k]) for k in range(len(self.names))]

    def full_init(self) -> None:
        """Initialise every target (they are built fully already unless given lazily)."""
        for dataset in self.datasets.values():
            if hasattr(dataset, 'full_init'):
                dataset.full_init()

    def __len__(self) -> int:
        if self.sampling == 'balanced':
            return len(self.names) * max(self.lengths)
        return sum(self.lengths)

    def locate(self, idx: int) -> Tuple[str, int]:
        """(target name, index in the target) of index ``idx``."""
        if not 0 <= idx < len(self):
            raise IndexError(f'MultiTargetDataset: index {idx} out of range 0..{len(self) - 1}')
        if self.sampling == 'balanced':
            k = idx % len(self.names)
            return self.names[k], (idx // len(self.names)) * self.lengths[k] // max(self.lengths)
        k = bisect.bisect_right(self.offsets, idx) - 1
        return self.names[k], idx - self.offsets[k]

    def __getitem__(self, idx: int) -> dict:
        name, local = self.locate(int(idx))
        item = self.datasets[name][local]
        if not isinstance(item, dict) or 'data_samples' not in item:
            raise TypeError(f'MultiTargetDataset: target {name!r} returned no data_samples; its pipeline must end '
                            'with PackSegInputs')
        item['data_samples'].set_metainfo({TARGET_NAME: name})
        return item

    def target_lengths(self) -> Dict[str, int]:
        """Images per target."""
        return dict(zip(self.names, self.lengths))

    def __repr__(self) -> str:
        parts: List[str] = [f'{name}: {type(self.datasets[name]).__name__} ({length} images)'
                            for name, length in zip(self.names, self.lengths)]
        return f'MultiTargetDataset(sampling={self.sampling!r}, {", ".join(parts)})'

