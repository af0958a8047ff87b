"""Conversion of dataset labels to Cityscapes train ids, with the class statistics used by RCS.

Shared by ``tools/convert_datasets/{gta,cityscapes,synthia}.py``; the outputs are those of the
DAFormer converters:

- ``<label>_labelTrainIds.png`` (uint8 'L', 255 = ignore) next to each label file;
- ``sample_class_stats.json``: a list with one ``{"<train id>": pixels, ..., "file": path}`` per label;
- ``sample_class_stats_dict.json``: ``{path: {"<train id>": pixels}}``;
- ``samples_with_class.json``: ``{"<train id>": [[path, pixels], ...]}``, classes in first-seen order.

Every file is written to a hidden temporary file and moved into place, so a re-run overwrites
complete files only. Label ids the data set does not define are mapped to 255 like the void ids
and reported in one warning per run.
"""
import json
import os
import warnings
from functools import partial
from multiprocessing import Pool
from typing import Any, Callable, Collection, Dict, List, Mapping, Optional, Sequence, Tuple

import cv2
import numpy as np
from cityscapesscripts.helpers.annotation import Annotation
from cityscapesscripts.helpers.labels import labels as CITYSCAPES_LABELS
from cityscapesscripts.preparation.json2labelImg import createLabelImage
from PIL import Image
from tqdm import tqdm

NUM_CLASSES = 19
IGNORE_INDEX = 255
TRAIN_ID_SUFFIX = '_labelTrainIds.png'

# Cityscapes label id -> train id (cityscapesscripts); GTA labels use the same ids.
CITYSCAPES_ID_TO_TRAIN_ID: Dict[int, int] = {
    label.id: label.trainId
    for label in sorted(CITYSCAPES_LABELS, key=lambda label: label.trainId)
    if label.id >= 0 and 0 <= label.trainId < IGNORE_INDEX
}
# SYNTHIA-RAND-CITYSCAPES id -> train id; terrain (16), truck (18) and train (20) have no pixels.
SYNTHIA_ID_TO_TRAIN_ID: Dict[int, int] = {
    3: 0, 4: 1, 2: 2, 21: 3, 5: 4, 7: 5, 15: 6, 9: 7, 6: 8, 16: 9, 1: 10, 10: 11, 17: 12, 8: 13, 18: 14,
    19: 15, 20: 16, 12: 17, 11: 18
}
# All ids of each label set, the void ones (-> 255) included: 0..33 for Cityscapes and GTA, 0..22 for
# SYNTHIA (13 parking slot, 14 road work and 22 lane marking -> 255).
CITYSCAPES_LABEL_IDS = frozenset(label.id for label in CITYSCAPES_LABELS if label.id >= 0)
SYNTHIA_LABEL_IDS = frozenset(range(23))
# GTA / SYNTHIA label files end in a digit, so converted *_labelTrainIds.png files are skipped.
DIGIT_PNG_SUFFIXES = tuple(f'{i}.png' for i in range(10))

ClassStats = Dict[Any, Any]
IdCounts = Dict[int, int]
MAX_LISTED_IDS = 10


def to_train_ids(label: np.ndarray, id_to_train_id: Mapping[int, int]) -> np.ndarray:
    """Map a label-id array to uint8 train ids; ids not in the table become 255."""
    if not np.issubdtype(label.dtype, np.integer):
        raise TypeError(f'label ids must be integers, got {label.dtype}')
    lut = np.full(max(id_to_train_id) + 1, IGNORE_INDEX, dtype=np.uint8)
    for label_id, train_id in id_to_train_id.items():
        lut[label_id] = train_id
    inside = (label >= 0) & (label < len(lut))
    train_ids = np.full(label.shape, IGNORE_INDEX, dtype=np.uint8)
    train_ids[inside] = lut[label[inside]]
    return train_ids


def unknown_ids(label: np.ndarray, label_ids: Collection[int]) -> IdCounts:
    """Pixel count of each id in ``label`` that is not in ``label_ids``."""
    unknown = label[~np.isin(label, list(label_ids))]
    ids, counts = np.unique(unknown, return_counts=True)
    return {int(i): int(n) for i, n in zip(ids, counts)}


def warn_unknown_ids(dataset: str, unknown_per_file: Sequence[Tuple[str, IdCounts]]) -> None:
    """One warning summing the ``(label file, unknown id counts)`` of a conversion run, if any."""
    bad = [(path, counts) for path, counts in unknown_per_file if counts]
    if not bad:
        return
    totals: IdCounts = {}
    for _, counts in bad:
        for i, n in counts.items():
            totals[i] = totals.get(i, 0) + n
    listed = ', '.join(f'{i}: {n}' for i, n in sorted(totals.items())[:MAX_LISTED_IDS])
    if len(totals) > MAX_LISTED_IDS:
        listed += f', ... ({len(totals)} ids)'
    warnings.warn(f'{dataset}: {sum(totals.values())} pixels in {len(bad)} of {len(unknown_per_file)} label files '
                  f'have ids outside the {dataset} label table and were mapped to 255 (ignore); pixels per id: '
                  f'{{{listed}}}; first file: {bad[0][0]!r}', stacklevel=3)


def class_stats(train_ids: np.ndarray, num_classes: int = NUM_CLASSES) -> Dict[int, int]:
    """Pixel count per train id, ascending, for the classes that occur."""
    counts = np.bincount(train_ids.ravel(), minlength=256)[:num_classes]
    return {c: int(n) for c, n in enumerate(counts) if n > 0}


def _temp_path(path: str) -> str:
    directory, name = os.path.split(path)
    return os.path.join(directory, f'.{name}.{os.getpid()}.tmp')


def _replace_into(path: str, write: Callable[[str], None]) -> None:
    tmp = _temp_path(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_png(path: str, array: np.ndarray) -> None:
    """Atomically write a uint8 array as an 8-bit grey ('L') PNG."""
    _replace_into(path, lambda tmp: Image.fromarray(np.ascontiguousarray(array, dtype=np.uint8)).save(tmp, 'PNG'))


def write_text(path: str, text: str) -> None:
    """Atomically write a text file."""
    def write(tmp: str) -> None:
        with open(tmp, 'w') as f:
            f.write(text)

    _replace_into(path, write)


def save_class_stats(out_dir: str, sample_class_stats: Sequence[ClassStats]) -> None:
    """Write the three class-statistics JSON files (indent 2) into ``out_dir``."""
    write_text(os.path.join(out_dir, 'sample_class_stats.json'), json.dumps(list(sample_class_stats), indent=2))
    per_file = {
        stats['file']: {c: n for c, n in stats.items() if c != 'file'}
        for stats in sample_class_stats
    }
    write_text(os.path.join(out_dir, 'sample_class_stats_dict.json'), json.dumps(per_file, indent=2))
    samples_with_class: Dict[int, List[List[Any]]] = {}
    for file, counts in per_file.items():
        for c, n in counts.items():
            samples_with_class.setdefault(c, []).append([file, n])
    write_text(os.path.join(out_dir, 'samples_with_class.json'), json.dumps(samples_with_class, indent=2))


def require_dir(path: str, what: str) -> None:
    """Raise FileNotFoundError naming ``path`` unless it is a folder."""
    if not os.path.isdir(path):
        raise FileNotFoundError(f'{what} {path!r} does not exist or is not a folder')


def scan_files(directory: str, suffixes: Sequence[str]) -> List[str]:
    """Sorted paths (``directory`` joined with the relative path) of non-hidden files ending in a suffix."""
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if not d.startswith('.')]
        found.extend(os.path.join(root, name) for name in files
                     if not name.startswith('.') and name.endswith(tuple(suffixes)))
    return sorted(found)


def track_parallel(func: Callable[[Any], Any], items: Sequence[Any], nproc: int, desc: str) -> List[Any]:
    """``[func(item) for item in items]`` in order, with a progress bar; ``nproc`` > 1 uses a process pool."""
    if nproc > 1 and len(items) > 1:
        chunksize = max(1, min(16, len(items) // (nproc * 8)))
        with Pool(nproc) as pool:
            return list(tqdm(pool.imap(func, items, chunksize), total=len(items), desc=desc))
    return [func(item) for item in tqdm(items, desc=desc)]


def read_palette_label(path: str) -> np.ndarray:
    """A single-channel label image (palette or grey) read with PIL, as GTA labels are."""
    with Image.open(path) as img:
        label = np.array(img)
    if label.ndim != 2:
        raise ValueError(f'{path}: expected a single-channel (palette or grey) label image, got mode {img.mode}')
    return label


def read_synthia_label(path: str) -> np.ndarray:
    """The class channel of a 16-bit SYNTHIA label: OpenCV's last channel, i.e. the first one in RGB order."""
    label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if label is None or label.ndim != 3:
        raise ValueError(f'{path}: expected a multi-channel SYNTHIA label PNG')
    return label[:, :, -1]


def convert_label_file(path: str, read_label: Callable[[str], np.ndarray], id_to_train_id: Mapping[int, int],
                       label_ids: Collection[int]) -> Tuple[ClassStats, IdCounts]:
    """Write ``<name>_labelTrainIds.png`` next to the ``<name>.png`` label.

    Returns its class stats and the pixel counts of its ids outside ``label_ids``.
    """
    label = read_label(path)
    train_ids = to_train_ids(label, id_to_train_id)
    out_file = path[:-len('.png')] + TRAIN_ID_SUFFIX
    write_png(out_file, train_ids)
    return {**class_stats(train_ids), 'file': out_file}, unknown_ids(label, label_ids)


def convert_id_label_dataset(data_root: str, gt_dir: str, out_dir: Optional[str], nproc: int,
                             read_label: Callable[[str], np.ndarray], id_to_train_id: Mapping[int, int],
                             dataset: str, label_ids: Optional[Collection[int]] = None) -> List[ClassStats]:
    """Convert every ``<digits>.png`` below ``data_root/gt_dir`` (GTA, SYNTHIA) and save the class stats.

    ``label_ids`` are the ids the data set defines (default: 0 to the largest id of the table);
    pixels of other ids are counted in a warning.
    """
    label_dir = os.path.join(data_root, gt_dir)
    require_dir(label_dir, f'{dataset} label folder')
    files = scan_files(label_dir, DIGIT_PNG_SUFFIXES)
    if not files:
        raise FileNotFoundError(f'no {dataset} label PNGs (names ending in a digit + ".png") in {label_dir!r}')
    if label_ids is None:
        label_ids = range(max(id_to_train_id) + 1)
    convert = partial(convert_label_file, read_label=read_label, id_to_train_id=id_to_train_id,
                      label_ids=label_ids)
    results = track_parallel(convert, files, nproc, f'{dataset} labels')
    warn_unknown_ids(dataset, [(path, unknown) for path, (_, unknown) in zip(files, results)])
    sample_class_stats = [stats for stats, _ in results]
    out_dir = out_dir or data_root
    os.makedirs(out_dir, exist_ok=True)
    save_class_stats(out_dir, sample_class_stats)
    return sample_class_stats


CITYSCAPES_SPLITS = ('train', 'val', 'test')
POLYGONS_SUFFIX = '_polygons.json'
LABEL_IDS_SUFFIX = '_labelIds.png'


def cityscapes_train_ids(base: str) -> Tuple[np.ndarray, IdCounts]:
    """Train ids of ``<base>_polygons.json`` rendered by cityscapesscripts, else of ``<base>_labelIds.png``.

    Also returns the pixel counts of label ids that Cityscapes does not define (label-id files only;
    cityscapesscripts rejects unknown polygon labels).
    """
    polygons = base + POLYGONS_SUFFIX
    if os.path.exists(polygons):
        annotation = Annotation()
        annotation.fromJsonFile(polygons)
        try:
            image = createLabelImage(annotation, 'trainIds')
        except SystemExit:  # cityscapesscripts exits on an unknown label name
            raise ValueError(f'{polygons}: unknown Cityscapes label name') from None
        return np.asarray(image), {}
    label = read_palette_label(base + LABEL_IDS_SUFFIX)
    return to_train_ids(label, CITYSCAPES_ID_TO_TRAIN_ID), unknown_ids(label, CITYSCAPES_LABEL_IDS)


def convert_cityscapes_label(base: str, gt_root: str) -> Tuple[Optional[ClassStats], IdCounts]:
    """Write ``<base>_labelTrainIds.png``.

    Returns its class stats for the train split (else None) and the counts of unknown label ids.
    """
    out_file = base + TRAIN_ID_SUFFIX
    train_ids, unknown = cityscapes_train_ids(base)
    write_png(out_file, train_ids)
    if os.path.relpath(base, gt_root).split(os.sep)[0] != 'train':
        return None, unknown
    return {**class_stats(train_ids), 'file': out_file}, unknown


def cityscapes_label_bases(gt_root: str) -> List[str]:
    """Sorted ``<gt_root>/<split>/<city>/<stem>_gtFine`` of all polygon or label-id files."""
    files = scan_files(gt_root, (POLYGONS_SUFFIX, LABEL_IDS_SUFFIX))
    return sorted({f[:-len(POLYGONS_SUFFIX if f.endswith(POLYGONS_SUFFIX) else LABEL_IDS_SUFFIX)] for f in files})


def convert_cityscapes(data_root: str, gt_dir: str = 'gtFine', out_dir: Optional[str] = None,
                       nproc: int = 1) -> List[ClassStats]:
    """Convert all Cityscapes annotations, save the train-split class stats and ``{train,val,test}.txt``."""
    gt_root = os.path.join(data_root, gt_dir)
    require_dir(gt_root, 'Cityscapes annotation folder')
    bases = cityscapes_label_bases(gt_root)
    if not bases:
        raise FileNotFoundError(f'no *{POLYGONS_SUFFIX} or *{LABEL_IDS_SUFFIX} files below {gt_root!r}; '
                                'expected <split>/<city>/<stem>_gtFine_polygons.json')
    results = track_parallel(partial(convert_cityscapes_label, gt_root=gt_root), bases, nproc, 'Cityscapes labels')
    warn_unknown_ids('Cityscapes', [(base + LABEL_IDS_SUFFIX, unknown) for base, (_, unknown) in zip(bases, results)])
    sample_class_stats = [stats for stats, _ in results if stats is not None]
    out_dir = out_dir or data_root
    os.makedirs(out_dir, exist_ok=True)
    save_class_stats(out_dir, sample_class_stats)
    rel_parts = [os.path.relpath(base, gt_root).split(os.sep) for base in bases]
    for split in CITYSCAPES_SPLITS:
        # 'aachen/aachen_000000_000019_gtFine' -> 'aachen/aachen_000000_000019'
        stems = ['/'.join(parts[1:]).rsplit('_', 1)[0] for parts in rel_parts if parts[0] == split]
        write_text(os.path.join(out_dir, f'{split}.txt'), ''.join(f'{stem}\n' for stem in stems))
    return sample_class_stats
