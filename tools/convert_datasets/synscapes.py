"""Convert Synscapes labels to Cityscapes train ids and write the class statistics (DDB's converter).

    python tools/convert_datasets/synscapes.py data/synscapes [--gt-dir img/class] [-o OUT] [--nproc 8]

Reads ``data/synscapes/img/class/<id>.png`` (Cityscapes label ids), writes ``<id>_gt_labelTrainIds.png`` (train
ids 0..18, 255 elsewhere) and ``<id>_gt_color.png`` (the train ids in the Cityscapes colours) next to each, and
``sample_class_stats.json``, ``sample_class_stats_dict.json`` and ``samples_with_class.json`` into
``data/synscapes`` (or ``-o``; DDB's configs do not sample rare classes, DAFormer's RCS reads them). The mapping is
Cityscapes' (7→0 road, 8→1 sidewalk, 11→2 building, ..., 33→18 bicycle); other ids become 255 and ids outside the
Cityscapes table are counted in a warning.
"""
import argparse
import os
import sys
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np
from PIL import Image

REPO_ROOT = str(Path(__file__).resolve().parents[2])
if REPO_ROOT not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, REPO_ROOT)

from mmseg.datasets.cityscapes import CITYSCAPES_PALETTE  # noqa: E402
from mmseg.datasets.conversion import (  # noqa: E402
    CITYSCAPES_ID_TO_TRAIN_ID, CITYSCAPES_LABEL_IDS, DIGIT_PNG_SUFFIXES, ClassStats, IdCounts, class_stats,
    read_palette_label, require_dir, save_class_stats, scan_files, to_train_ids, track_parallel, unknown_ids,
    warn_unknown_ids, write_png)

TRAIN_ID_SUFFIX = '_gt_labelTrainIds.png'
COLOR_SUFFIX = '_gt_color.png'
# train id -> RGB, black for 255
COLORS = np.zeros((256, 3), np.uint8)
COLORS[:len(CITYSCAPES_PALETTE)] = np.asarray(CITYSCAPES_PALETTE, np.uint8)


def write_color_png(path: str, rgb: np.ndarray) -> None:
    """Write an RGB PNG to a hidden temporary file renamed into place."""
    directory, name = os.path.split(path)
    tmp = os.path.join(directory, f'.{name}.{os.getpid()}.tmp')
    try:
        Image.fromarray(rgb, 'RGB').save(tmp, 'PNG')
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def convert_file(path: str) -> Tuple[ClassStats, IdCounts]:
    """Write the train-id and colour labels of one ``<id>.png``; its class stats and unknown-id counts."""
    label = read_palette_label(path)
    train_ids = to_train_ids(label, CITYSCAPES_ID_TO_TRAIN_ID)
    stem = path[:-len('.png')]
    write_png(stem + TRAIN_ID_SUFFIX, train_ids)
    write_color_png(stem + COLOR_SUFFIX, COLORS[train_ids])
    return {**class_stats(train_ids), 'file': stem + TRAIN_ID_SUFFIX}, unknown_ids(label, CITYSCAPES_LABEL_IDS)


def convert_synscapes(data_root: str, gt_dir: str = 'img/class', out_dir: Optional[str] = None,
                      nproc: int = 1) -> List[ClassStats]:
    """Convert every ``<digits>.png`` below ``data_root/gt_dir`` and save the class statistics."""
    label_dir = os.path.join(data_root, gt_dir)
    require_dir(label_dir, 'Synscapes label folder')
    files = scan_files(label_dir, DIGIT_PNG_SUFFIXES)
    if not files:
        raise FileNotFoundError(f'no Synscapes label PNGs (<id>.png) in {label_dir!r}; expected '
                                'data/synscapes/img/class/<id>.png with Cityscapes label ids')
    results = track_parallel(convert_file, files, nproc, 'Synscapes labels')
    warn_unknown_ids('Synscapes', [(path, unknown) for path, (_, unknown) in zip(files, results)])
    stats = [file_stats for file_stats, _ in results]
    out_dir = out_dir or data_root
    os.makedirs(out_dir, exist_ok=True)
    save_class_stats(out_dir, stats)
    return stats


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Convert Synscapes annotations to TrainIds')
    parser.add_argument('synscapes_path', help='synscapes data path')
    parser.add_argument('--gt-dir', default='img/class', type=str, help='label folder below synscapes_path')
    parser.add_argument('-o', '--out-dir', help='output folder of the JSON files (default: synscapes_path)')
    parser.add_argument('--nproc', default=8, type=int, help='number of processes')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    convert_synscapes(args.synscapes_path, args.gt_dir, args.out_dir, args.nproc)


if __name__ == '__main__':
    main()
