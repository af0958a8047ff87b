"""Convert Cityscapes annotations to train ids; write the class statistics and the split lists.

    python tools/convert_datasets/cityscapes.py data/cityscapes --nproc 8

Renders every ``gtFine/<split>/<city>/<stem>_gtFine_polygons.json`` with cityscapesscripts
(``json2labelImg(..., 'trainIds')``), or maps ``<stem>_gtFine_labelIds.png`` where no polygon
file exists, to ``<stem>_gtFine_labelTrainIds.png``. Writes ``sample_class_stats.json``,
``sample_class_stats_dict.json`` and ``samples_with_class.json`` for the train split and
``train.txt``, ``val.txt``, ``test.txt`` (``<city>/<stem>`` per line) into ``data/cityscapes`` (or ``-o``).
Label ids above 33 become 255 and are counted in a warning.
"""
import argparse
import sys
from pathlib import Path
from typing import List, Optional

REPO_ROOT = str(Path(__file__).resolve().parents[2])
if REPO_ROOT not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, REPO_ROOT)

from mmseg.datasets.conversion import convert_cityscapes  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Convert Cityscapes annotations to TrainIds')
    parser.add_argument('cityscapes_path', help='cityscapes data path')
    parser.add_argument('--gt-dir', default='gtFine', type=str, help='annotation folder below cityscapes_path')
    parser.add_argument('-o', '--out-dir', help='output folder of the JSON and split files (default: cityscapes_path)')
    parser.add_argument('--nproc', default=1, type=int, help='number of processes')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    convert_cityscapes(args.cityscapes_path, args.gt_dir, args.out_dir, args.nproc)


if __name__ == '__main__':
    main()
