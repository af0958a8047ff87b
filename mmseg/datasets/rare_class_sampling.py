"""Rare class sampling (RCS) of DAFormer's ``UDADataset`` (spec §8.4, §13.12).

The class statistics come from the dataset converters (``tools/convert_datasets/<dataset>.py``),
which write ``sample_class_stats.json`` and ``samples_with_class.json`` into the data root.
"""
import json
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple, TypeVar, Union

import numpy as np
import torch

from .cityscapes import CITYSCAPES_CLASSES

NumpyRNG = Union[np.random.RandomState, np.random.Generator]
Sample = TypeVar('Sample')

MAX_CROP_RETRIES = 10


def _read_json(data_root: str, name: str):
    """``data_root/name`` parsed; a missing or broken file is an error that names the converter."""
    path = osp.join(data_root, name)
    run_converter = (f'it is written by the dataset converter: run `python tools/convert_datasets/gta.py {data_root}` '
                     '(synthia.py or cityscapes.py for those sources), or set rare_class_sampling=None')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} not found. Rare class sampling reads {name} from the source data root; '
                                f'{run_converter}.')
    with open(path) as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as error:
            raise ValueError(f'{path} is not valid JSON ({error}); {run_converter}.') from None


STATS_STRUCTURE = ('a list with one object per image: {"file": "<label path>", "<class id>": <pixel count>, ...}, '
                   'e.g. [{"file": "labels/00001_labelTrainIds.png", "0": 1200, "13": 40}]')
SAMPLES_STRUCTURE = ('an object mapping each class id to a list of [file, pixel count] pairs, '
                     'e.g. {"13": [["labels/00001_labelTrainIds.png", 40]]}')


def _is_class_id(key) -> bool:
    return (isinstance(key, str) and key.lstrip('-').isdigit()) or (isinstance(key, int) and not isinstance(key, bool))


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_sample_class_stats(stats, path: str) -> None:
    """Raise naming ``path`` and the first offending entry unless ``stats`` has :data:`STATS_STRUCTURE`."""
    problem = None
    if not isinstance(stats, list):
        problem = f'the top level is a {type(stats).__name__}'
    else:
        for index, sample in enumerate(stats):
            if not isinstance(sample, dict):
                problem = f'entry {index} is a {type(sample).__name__}'
            elif not isinstance(sample.get('file'), str):
                problem = f'entry {index} has no "file" path'
            else:
                wrong = [k for k, v in sample.items() if k != 'file' and not (_is_class_id(k) and _is_count(v))]
                if wrong:
                    problem = (f'entry {index} has {wrong[0]!r}: {sample[wrong[0]]!r}, not a class id with a '
                               'pixel count')
            if problem:
                break
    if problem:
        raise ValueError(f'{path}: {problem}; expected {STATS_STRUCTURE}. Re-run the dataset converter.')


def check_samples_with_class(samples, path: str) -> None:
    """Raise naming ``path`` and the first offending entry unless ``samples`` has :data:`SAMPLES_STRUCTURE`."""
    problem = None
    if not isinstance(samples, dict):
        problem = f'the top level is a {type(samples).__name__}'
    else:
        for key, pairs in samples.items():
            if not _is_class_id(key) or not isinstance(pairs, list):
                problem = f'entry {key!r} is {type(pairs).__name__} {pairs!r}'
            else:
                wrong = [p for p in pairs if not (isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)
                                                   and _is_count(p[1]))]
                if wrong:
                    problem = f'class {key!r} lists {wrong[0]!r}, not a [file, pixel count] pair'
            if problem:
                break
    if problem:
        raise ValueError(f'{path}: {problem}; expected {SAMPLES_STRUCTURE}. Re-run the dataset converter.')


def get_rcs_class_probs(data_root_or_stats: Union[str, Sequence[dict]],
                        temperature: float) -> Tuple[List[int], np.ndarray]:
    """Classes sorted by ascending total pixel count and their sampling probabilities.

    ``data_root_or_stats`` is a data root holding ``sample_class_stats.json`` or that file's
    list of per-image ``{class id: count, 'file': path}`` dicts. Ties keep first-appearance order
    (stable sort). P = softmax((1 - f) / T) of the class frequencies f, in float32 as the
    reference. Returns (classes, float32 probabilities).
    """
    if isinstance(data_root_or_stats, str):
        stats = _read_json(data_root_or_stats, 'sample_class_stats.json')
        check_sample_class_stats(stats, osp.join(data_root_or_stats, 'sample_class_stats.json'))
    else:
        stats = data_root_or_stats
        check_sample_class_stats(stats, 'sample_class_stats')
    totals: Dict[int, int] = {}
    for sample in stats:
        for c, n in sample.items():
            if c == 'file':
                continue
            totals[int(c)] = totals.get(int(c), 0) + n
    ordered = sorted(totals.items(), key=lambda item: item[1])
    freq = torch.tensor([n for _, n in ordered])
    freq = freq / torch.sum(freq)
    freq = 1 - freq
    probs = torch.softmax(freq / temperature, dim=-1)
    return [c for c, _ in ordered], probs.numpy()


def _class_name(c: int) -> str:
    """`` (<Cityscapes name>)`` for a train id, else ''."""
    return f' ({CITYSCAPES_CLASSES[c]})' if 0 <= c < len(CITYSCAPES_CLASSES) else ''


class RareClassSampler:
    """Draws a rare class, then a source file containing it, and checks the random crop.

    Args:
        classes: RCS classes (from :func:`get_rcs_class_probs`).
        probs: their probabilities.
        samples_with_class: ``samples_with_class.json`` content, ``{class id: [[file, count], ...]}``.
        min_pixels: a file is a candidate for class c if it has more than this many c pixels.
        min_crop_ratio: a crop is accepted if it has more than ``min_pixels·min_crop_ratio`` c
            pixels; 0 disables the check.
    """

    def __init__(self, classes: Sequence[int], probs: np.ndarray, samples_with_class: Dict,
                 min_pixels: int, min_crop_ratio: float):
        self.classes = list(classes)
        self.probs = np.asarray(probs)
        self.min_pixels = min_pixels
        self.min_crop_ratio = min_crop_ratio
        by_class = {int(k): v for k, v in samples_with_class.items()}
        self.files: Dict[int, List[str]] = {}
        for c in self.classes:
            self.files[c] = [file.split('/')[-1] for file, pixels in by_class.get(c, []) if pixels > min_pixels]
            if not self.files[c]:
                largest = max((pixels for _, pixels in by_class.get(c, [])), default=0)
                if not largest:
                    raise ValueError(f'rare class sampling: class {c}{_class_name(c)} is in sample_class_stats.json '
                                     'but no file of samples_with_class.json has it; re-run the dataset converter')
                raise ValueError(
                    f'rare class sampling: no source file has more than min_pixels={min_pixels} pixels of class '
                    f'{c}{_class_name(c)} (the most in one file is {largest}, per samples_with_class.json); '
                    f'set rare_class_sampling.min_pixels below {largest}')

    @classmethod
    def from_data_root(cls, data_root: str, min_pixels: int, class_temp: float,
                       min_crop_ratio: float) -> 'RareClassSampler':
        """Build from the converter outputs in ``data_root`` (the reference's ``rare_class_sampling`` cfg)."""
        classes, probs = get_rcs_class_probs(data_root, class_temp)
        samples = _read_json(data_root, 'samples_with_class.json')
        check_samples_with_class(samples, osp.join(data_root, 'samples_with_class.json'))
        return cls(classes, probs, samples, min_pixels, min_crop_ratio)

    def sample_class(self, rng: Optional[NumpyRNG] = None) -> int:
        """c ~ P (numpy's global RNG if ``rng`` is None, as the reference)."""
        rng = np.random if rng is None else rng
        return int(rng.choice(self.classes, p=self.probs))

    def sample_file(self, c: int, rng: Optional[NumpyRNG] = None) -> str:
        """A candidate file basename of class ``c``, uniformly."""
        rng = np.random if rng is None else rng
        return self.files[c][rng.choice(len(self.files[c]))]

    def sample(self, rng: Optional[NumpyRNG] = None) -> Tuple[int, str]:
        """(class, file basename), drawn in the reference's order."""
        c = self.sample_class(rng)
        return c, self.sample_file(c, rng)

    def crop_has_class(self, gt: torch.Tensor, c: int) -> bool:
        """Whether a cropped label has more than ``min_pixels·min_crop_ratio`` pixels of ``c``."""
        return bool(torch.sum(gt == c) > self.min_pixels * self.min_crop_ratio)

    def select_crop(self, load: Callable[[], Sample], label_of: Callable[[Sample], torch.Tensor], c: int) -> Sample:
        """Load a random crop and re-load up to 10 times until it passes :meth:`crop_has_class`.

        ``load`` runs the source pipeline on the chosen file (a new random crop per call). If all
        10 checks fail, the 11th crop is returned unchecked, as the reference does.
        """
        sample = load()
        if self.min_crop_ratio > 0:
            for _ in range(MAX_CROP_RETRIES):
                if self.crop_has_class(label_of(sample), c):
                    break
                sample = load()
        return sample
