"""Convert Mapillary Vistas labels to the 19 Cityscapes classes (DDB's ``mapillary2cityscape.py``).

    python tools/convert_datasets/mapillary2cityscape.py data/mapillary data/mapillary/cityscapes_trainIdLabel \\
        --train_id [--version v1.2] [--nproc 8]

Reads the label list of ``data/mapillary/config_<version>.json`` and maps each Mapillary class by its ``readable``
name, normalised (lower case, spaces and dashes removed), with the reference's rules in this order:

1. the normalised name of a Cityscapes class (``road``, ``trafficlight``, ``car``, ...) -> that class;
2. contains ``trafficsign``, ``front`` or ``back`` -> traffic sign (Traffic Sign (Front/Back), Traffic Sign Frame);
3. contains ``onrail`` -> train (On Rails);
4. contains ``cyclist`` or ``rider`` -> rider (Bicyclist, Motorcyclist, Other Rider);
5. contains ``pole`` or ``streetlight`` -> pole (Utility Pole, Street Light);
6. contains ``curb`` or ``pedestrianarea`` -> sidewalk (Curb, Curb Cut, Pedestrian Area);
7. contains ``crosswalkplain``, ``parking``, ``bikelane``, ``servicelane`` or ``lanemarking`` -> road;
8. everything else -> 255 (ignored): Guard Rail, Barrier, Bridge, Tunnel, Caravan, Trailer, Ego Vehicle, ...

The mapping is printed. Labels ``<split>/<version>/labels/<key>.png`` (class indices) of ``training`` and
``validation`` become ``<out>/train/label/<key>.png`` and ``<out>/val/label/<key>.png`` (uint8): train ids 0..18 with
``--train_id`` (what DDB's Mapillary data set reads), else Cityscapes label ids.
"""
import argparse
import json
import os
import sys
from functools import partial
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
from cityscapesscripts.helpers.labels import trainId2label

REPO_ROOT = str(Path(__file__).resolve().parents[2])
if REPO_ROOT not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, REPO_ROOT)

from mmseg.datasets.conversion import (IGNORE_INDEX, read_palette_label, require_dir, scan_files,  # noqa: E402
                                       track_parallel, write_png)

SPLITS = {'training': 'train', 'validation': 'val'}
NUM_TRAIN_IDS = 19
# (substrings, Cityscapes train id) of rules 2-7, in order
NAME_RULES = (
    (('trafficsign', 'front', 'back'), 7),
    (('onrail', ), 16),
    (('cyclist', 'rider'), 12),
    (('pole', 'streetlight'), 5),
    (('curb', 'pedestrianarea'), 1),
    (('crosswalkplain', 'parking', 'bikelane', 'servicelane', 'lanemarking'), 0),
)


def normalise(name: str) -> str:
    """Lower case without spaces and dashes (``'Traffic Sign (Front)'`` -> ``'trafficsign(front)'``)."""
    return name.lower().replace(' ', '').replace('-', '')


CITYSCAPES_NAMES = {normalise(trainId2label[train_id].name): train_id for train_id in range(NUM_TRAIN_IDS)}


def train_id_of(readable: str) -> int:
    """The Cityscapes train id of a Mapillary class name (the rules of the module docstring), 255 for none."""
    name = normalise(readable)
    if name in CITYSCAPES_NAMES:
        return CITYSCAPES_NAMES[name]
    for parts, train_id in NAME_RULES:
        if any(part in name for part in parts):
            return train_id
    return IGNORE_INDEX


def read_labels(dataset_path: str, version: str) -> List[dict]:
    """The ``labels`` list of ``config_<version>.json``."""
    path = os.path.join(dataset_path, f'config_{version}.json')
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{path!r} not found: the Mapillary Vistas label list of --version {version} '
                                '(config_v1.2.json in the root of the download)')
    with open(path) as f:
        config = json.load(f)
    if not config.get('labels') or any('readable' not in label for label in config['labels']):
        raise ValueError(f'{path!r}: expected a "labels" list whose entries have a "readable" name')
    return config['labels']


def lookup_table(labels: Sequence[dict], train_id: bool) -> np.ndarray:
    """uint8 table of 256 entries: Mapillary class index -> train id (``train_id``) or Cityscapes label id; 255
    for unmapped classes and indices without a class."""
    lut = np.full(256, IGNORE_INDEX, np.uint8)
    for index, label in enumerate(labels):
        mapped = train_id_of(label['readable'])
        if mapped != IGNORE_INDEX and not train_id:
            mapped = trainId2label[mapped].id
        lut[index] = mapped
    return lut


def mapping_lines(labels: Sequence[dict]) -> List[str]:
    """``<index> <readable> -> <Cityscapes class>`` per Mapillary class."""
    lines = []
    for index, label in enumerate(labels):
        train_id = train_id_of(label['readable'])
        lines.append(f'{index:3d} {label["readable"]} -> '
                     f'{"ignore" if train_id == IGNORE_INDEX else trainId2label[train_id].name}')
    return lines


def convert_file(path: str, out_dir: str, lut: np.ndarray) -> None:
    """Write the mapped label of one Mapillary label PNG into ``out_dir`` under the same name."""
    write_png(os.path.join(out_dir, os.path.basename(path)), lut[read_palette_label(path)])


def convert_mapillary(dataset_path: str, save_path: str, train_id: bool, version: str = 'v1.2',
                      nproc: int = 1) -> Dict[str, int]:
    """Convert the training and validation labels; returns the number of files per output split."""
    labels = read_labels(dataset_path, version)
    print('Mapillary class -> Cityscapes class:\n' + '\n'.join(mapping_lines(labels)))
    lut = lookup_table(labels, train_id)
    written = {}
    for split, out_split in SPLITS.items():
        label_dir = os.path.join(dataset_path, split, version, 'labels')
        require_dir(label_dir, f'Mapillary {split} label folder')
        files = scan_files(label_dir, ('.png', ))
        if not files:
            raise FileNotFoundError(f'no Mapillary label PNGs in {label_dir!r}')
        out_dir = os.path.join(save_path, out_split, 'label')
        os.makedirs(out_dir, exist_ok=True)
        track_parallel(partial(convert_file, out_dir=out_dir, lut=lut), files, nproc, f'Mapillary {split} labels')
        written[out_split] = len(files)
    return written


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Convert Mapillary Vistas labels to the Cityscapes classes')
    parser.add_argument('dataset_path', help='Mapillary Vistas root (config_<version>.json, training/, validation/)')
    parser.add_argument('save_path', help='output root (<save_path>/{train,val}/label/)')
    parser.add_argument('--train_id', action='store_true',
                        help='write train ids 0..18 (DDB); without it Cityscapes label ids')
    parser.add_argument('--version', default='v1.2', help='label version (default v1.2)')
    parser.add_argument('--nproc', default=8, type=int, help='number of processes')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    written = convert_mapillary(args.dataset_path, args.save_path, args.train_id, args.version, args.nproc)
    print(f'{written} label files written to {args.save_path}')


if __name__ == '__main__':
    main()
