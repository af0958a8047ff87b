"""Write the depth maps of CDDA with Depth Anything V2 (Hugging Face ``transformers``, ``pip install -e .[depth]``).

    python tools/make_depth_maps.py data/gta                 # -> data/gta/depth_any/<image name>.png
    python tools/make_depth_maps.py data/synthia             # -> data/synthia/depth_any/<image name>.png
    python tools/make_depth_maps.py data/cityscapes   # -> data/cityscapes/depth_any/{train,val}/<city>/*_depth.png
    python tools/make_depth_maps.py data/gta --model /path/to/Depth-Anything-V2-Large-hf --device cuda

The folder's layout is recognised (GTA ``images/``, SYNTHIA ``RGB/``, Cityscapes ``leftImg8bit/``) and the maps
are written in the CDDA layouts (spec ebda-cdda-ddb §2.2) as 8-bit grey PNGs the way Depth Anything's own
``run.py`` writes them: the relative inverse depth bilinearly resized to the image size, min-max normalised per
image to 0..255 and truncated (near = bright). Images of one size are batched; existing maps are kept, so an
interrupted run resumes. ``--model``: a Hugging Face model name or a local folder (default
``depth-anything/Depth-Anything-V2-Large-hf``). The CDDA authors distribute their maps too (see the README).
"""
import argparse
import os
import os.path as osp
import sys
from collections import defaultdict
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(REPO_ROOT))

from mmseg.datasets.transforms.depth_loading import depth_file_name  # noqa: E402

DEFAULT_MODEL = 'depth-anything/Depth-Anything-V2-Large-hf'
# data set layout: (image folder, image suffix, depth folder, depth file layout)
LAYOUTS = {
    'gta': ('images', '.png', 'depth_any', 'same_name'),
    'synthia': ('RGB', '.png', 'depth_any', 'same_name'),
    'cityscapes': ('leftImg8bit', '_leftImg8bit.png', 'depth_any', 'cityscapes'),
}
#: A depth estimator: a batch of same-size RGB uint8 images (H x W x 3) -> relative inverse depth (B x h x w).
Estimator = Callable[[List[np.ndarray]], torch.Tensor]


def detect_layout(data_dir: str) -> str:
    """The data set of ``data_dir`` from its image folder."""
    found = [name for name, (images, *_) in LAYOUTS.items() if osp.isdir(osp.join(data_dir, images))]
    if len(found) != 1:
        expected = ', '.join(f'{images}/ ({name})' for name, (images, *_) in LAYOUTS.items())
        raise FileNotFoundError(f'{data_dir!r}: expected exactly one image folder of {expected}, found {found}')
    return found[0]


def depth_jobs(data_dir: str, layout: str) -> List[Tuple[str, str]]:
    """(image path, depth path) of every image of ``data_dir`` whose depth map does not exist yet."""
    image_dir, suffix, depth_dir, naming = LAYOUTS[layout]
    jobs = []
    for root, _, files in os.walk(osp.join(data_dir, image_dir)):
        for name in sorted(files):
            if name.endswith(suffix):
                relative = osp.relpath(osp.join(root, name), osp.join(data_dir, image_dir))
                depth = osp.join(data_dir, depth_dir, depth_file_name(relative, naming))
                if not osp.isfile(depth):
                    jobs.append((osp.join(root, name), depth))
    return sorted(jobs)


def to_8bit(depth: torch.Tensor) -> np.ndarray:
    """Per-image min-max to 0..255, truncated to uint8 (Depth Anything's ``run.py``)."""
    depth = depth.float()
    span = depth.max() - depth.min()
    scaled = (depth - depth.min()) / span * 255.0 if span > 0 else torch.zeros_like(depth)
    return scaled.cpu().numpy().astype(np.uint8)


def write_depth_maps(jobs: Sequence[Tuple[str, str]], estimator: Estimator, batch_size: int = 4) -> int:
    """Estimate and write the depth map of each (image, depth path); returns how many were written."""
    by_size: Dict[Tuple[int, int], List[Tuple[str, str, np.ndarray]]] = defaultdict(list)
    written = 0
    with tqdm(total=len(jobs), desc='depth maps', unit='image') as bar:
        for index, (image_path, depth_path) in enumerate(jobs):
            image = cv2.imread(image_path, cv2.IMREAD_COLOR)
            if image is None:
                raise OSError(f'make_depth_maps: cannot read image {image_path!r}')
            group = by_size[image.shape[:2]]
            group.append((image_path, depth_path, image[:, :, ::-1]))
            last = index == len(jobs) - 1
            for size in [s for s, g in by_size.items() if g and (len(g) == batch_size or last)]:
                batch = by_size.pop(size)
                depth = estimator([rgb for _, _, rgb in batch])
                depth = F.interpolate(depth[:, None].float(), size, mode='bilinear', align_corners=True)[:, 0]
                for (_, path, _), single in zip(batch, depth):
                    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
                    tmp = path + '.tmp.png'
                    if not cv2.imwrite(tmp, to_8bit(single)):
                        raise OSError(f'make_depth_maps: cannot write {tmp!r}')
                    os.replace(tmp, path)
                written += len(batch)
                bar.update(len(batch))
    return written


class HFDepthEstimator:
    """A ``transformers`` depth model with its image processor (Depth Anything V2: relative inverse depth)."""

    def __init__(self, model, processor, device: str = 'cpu') -> None:
        self.model = model.to(device).eval()
        self.processor = processor
        self.device = device

    @classmethod
    def from_pretrained(cls, name: str, device: str = 'cpu') -> 'HFDepthEstimator':
        try:
            from transformers import AutoImageProcessor, AutoModelForDepthEstimation
        except ImportError as error:
            raise ImportError('make_depth_maps needs Hugging Face transformers: pip install -e .[depth]') from error
        return cls(AutoModelForDepthEstimation.from_pretrained(name), AutoImageProcessor.from_pretrained(name), device)

    @torch.no_grad()
    def __call__(self, images: List[np.ndarray]) -> torch.Tensor:
        inputs = self.processor(images=list(images), return_tensors='pt').to(self.device)
        return self.model(**inputs).predicted_depth


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description='Write CDDA depth maps with Depth Anything V2')
    parser.add_argument('data_dir', help='data set root: data/gta, data/synthia or data/cityscapes')
    parser.add_argument('--model', default=DEFAULT_MODEL, help=f'model name or local folder (default {DEFAULT_MODEL})')
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args(argv)
    layout = detect_layout(args.data_dir)
    jobs = depth_jobs(args.data_dir, layout)
    print(f'{args.data_dir} ({layout}): {len(jobs)} depth maps to write')
    if jobs:
        write_depth_maps(jobs, HFDepthEstimator.from_pretrained(args.model, args.device), args.batch_size)


if __name__ == '__main__':
    main()
