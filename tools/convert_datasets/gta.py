"""Convert GTA5 labels to Cityscapes train ids and write the class statistics (DAFormer layout).

    python tools/convert_datasets/gta.py data/gta --nproc 8

Reads ``data/gta/labels/<digits>.png`` (Cityscapes label ids, palette mode), writes
``<digits>_labelTrainIds.png`` next to each and ``sample_class_stats.json``,
``sample_class_stats_dict.json`` and ``samples_with_class.json`` into ``data/gta`` (or ``-o``).
Ids above 33 (not Cityscapes label ids) become 255 and are counted in a warning.
"""
import argparse
import sys
from pathlib import Path
from typing import List, Optional

REPO_ROOT = str(Path(__file__).resolve().parents[2])
if REPO_ROOT not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, REPO_ROOT)

from mmseg.datasets.conversion import (CITYSCAPES_ID_TO_TRAIN_ID, CITYSCAPES_LABEL_IDS,  # noqa: E402
                                       convert_id_label_dataset, read_palette_label)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Convert GTA annotations to TrainIds')
    parser.add_argument('gta_path', help='gta data path')
    parser.add_argument('--gt-dir', default='labels', type=str, help='label folder below gta_path')
    parser.add_argument('-o', '--out-dir', help='output folder of the JSON files (default: gta_path)')
    parser.add_argument('--nproc', default=4, type=int, help='number of processes')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    convert_id_label_dataset(args.gta_path, args.gt_dir, args.out_dir, args.nproc,
                             read_palette_label, CITYSCAPES_ID_TO_TRAIN_ID, 'GTA', CITYSCAPES_LABEL_IDS)


if __name__ == '__main__':
    main()
