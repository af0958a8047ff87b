"""Convert SYNTHIA-RAND-CITYSCAPES labels to Cityscapes train ids and write the class statistics.

    python tools/convert_datasets/synthia.py data/synthia --nproc 8

Reads ``data/synthia/GT/LABELS/<digits>.png`` (16-bit, class id in the first RGB channel), writes
``<digits>_labelTrainIds.png`` next to each and ``sample_class_stats.json``,
``sample_class_stats_dict.json`` and ``samples_with_class.json`` into ``data/synthia`` (or ``-o``).
Terrain, truck and train have no SYNTHIA pixels, so 16 classes occur. Ids above 22 (not SYNTHIA
label ids) become 255 and are counted in a warning.
"""
import argparse
import sys
from pathlib import Path
from typing import List, Optional

REPO_ROOT = str(Path(__file__).resolve().parents[2])
if REPO_ROOT not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, REPO_ROOT)

from mmseg.datasets.conversion import (SYNTHIA_ID_TO_TRAIN_ID, SYNTHIA_LABEL_IDS,  # noqa: E402
                                       convert_id_label_dataset, read_synthia_label)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Convert SYNTHIA annotations to TrainIds')
    parser.add_argument('synthia_path', help='synthia data path')
    parser.add_argument('--gt-dir', default='GT/LABELS', type=str, help='label folder below synthia_path')
    parser.add_argument('-o', '--out-dir', help='output folder of the JSON files (default: synthia_path)')
    parser.add_argument('--nproc', default=4, type=int, help='number of processes')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    convert_id_label_dataset(args.synthia_path, args.gt_dir, args.out_dir, args.nproc,
                             read_synthia_label, SYNTHIA_ID_TO_TRAIN_ID, 'SYNTHIA', SYNTHIA_LABEL_IDS)


if __name__ == '__main__':
    main()
