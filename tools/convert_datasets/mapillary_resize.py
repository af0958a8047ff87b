"""Halve Mapillary Vistas validation images and labels for faster evaluation (DDB's ``mapillary_resize.py``).

    python tools/convert_datasets/mapillary_resize.py data/mapillary/validation/images \\
        data/mapillary/cityscapes_trainIdLabel/val/label data/mapillary/half/val_img data/mapillary/half/val_label

Each ``<key>.jpg`` becomes ``(W // 2) x (H // 2)`` with bicubic interpolation (JPEG, quality 95), each label
``<key>.png`` the same size with nearest-neighbour interpolation (uint8 PNG). Every image needs its label.
"""
import argparse
import os
import sys
from functools import partial
from pathlib import Path
from typing import List, Optional, Tuple

import cv2
from PIL import Image

REPO_ROOT = str(Path(__file__).resolve().parents[2])
if REPO_ROOT not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, REPO_ROOT)

from mmseg.datasets.conversion import read_palette_label, require_dir, track_parallel, write_png  # noqa: E402

JPEG_QUALITY = 95


def resize_pair(key: str, image_dir: str, label_dir: str, out_image_dir: str, out_label_dir: str) -> Tuple[int, int]:
    """Halve one image and its label; returns the new (H, W)."""
    image = cv2.imread(os.path.join(image_dir, f'{key}.jpg'), cv2.IMREAD_COLOR)
    if image is None:
        raise OSError(f'could not read image {os.path.join(image_dir, key + ".jpg")!r}')
    size = (image.shape[1] // 2, image.shape[0] // 2)
    half = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)
    Image.fromarray(half[:, :, ::-1]).save(os.path.join(out_image_dir, f'{key}.jpg'), quality=JPEG_QUALITY)
    label = read_palette_label(os.path.join(label_dir, f'{key}.png'))
    write_png(os.path.join(out_label_dir, f'{key}.png'), cv2.resize(label, size, interpolation=cv2.INTER_NEAREST))
    return size[1], size[0]


def resize_split(image_dir: str, label_dir: str, out_image_dir: str, out_label_dir: str, nproc: int = 1) -> int:
    """Halve every image of ``image_dir`` and its label; returns the number of pairs."""
    require_dir(image_dir, 'Mapillary image folder')
    require_dir(label_dir, 'Mapillary label folder')
    keys = sorted(name[:-len('.jpg')] for name in os.listdir(image_dir) if name.endswith('.jpg'))
    if not keys:
        raise FileNotFoundError(f'no .jpg images in {image_dir!r}')
    missing = [key for key in keys if not os.path.isfile(os.path.join(label_dir, f'{key}.png'))]
    if missing:
        raise FileNotFoundError(f'{len(missing)} of {len(keys)} images of {image_dir!r} have no label <key>.png in '
                                f'{label_dir!r}, e.g. {missing[:3]}; convert the labels first '
                                '(tools/convert_datasets/mapillary2cityscape.py ... --train_id)')
    os.makedirs(out_image_dir, exist_ok=True)
    os.makedirs(out_label_dir, exist_ok=True)
    track_parallel(partial(resize_pair, image_dir=image_dir, label_dir=label_dir, out_image_dir=out_image_dir,
                           out_label_dir=out_label_dir), keys, nproc, 'Mapillary half resolution')
    return len(keys)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Halve Mapillary validation images and labels')
    parser.add_argument('image_dir', help='validation images (<key>.jpg)')
    parser.add_argument('label_dir', help='their converted labels (<key>.png)')
    parser.add_argument('out_image_dir', help='output folder of the halved images')
    parser.add_argument('out_label_dir', help='output folder of the halved labels')
    parser.add_argument('--nproc', default=8, type=int, help='number of processes')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    count = resize_split(args.image_dir, args.label_dir, args.out_image_dir, args.out_label_dir, args.nproc)
    print(f'{count} images and labels halved into {args.out_image_dir} and {args.out_label_dir}')


if __name__ == '__main__':
    main()
