"""The CDDA source bank (spec ebda-cdda-ddb §2.3): N crops of the source training pipeline and their counts.

Layout of a bank folder (written by ``tools/cdda_preprocess.py CONFIG``):

- ``{dataset}_{N}_distribution.pth``: float32 ``[N, 19, 256]`` pixels per (class, depth bin) of each crop
  (the reference's file);
- ``crops.json``: the compact bank, per crop the source image, its crop box (y1, y2, x1, x2) and flip,
  from which :meth:`CropBank.crop` re-makes the crop through the config's source pipeline;
- ``images/{i}.png``, ``labels/{i}.png``, ``depth/{i}.png`` (``--png``): the reference's saved crops (BGR image,
  train-id label, uint8 depth). When present, crops are read from them; the re-made crop equals them bit for bit;
- ``meta.json``: what the bank was made from (the fingerprint of the config), its size and crop size.

The default folder is ``data/cdda_banks/{dataset}_{H}x{W}_{hash}``, the hash of the config parts that decide
the crops (source data set and pipeline, rare class sampling, seed, N), so training finds the bank of its
config by itself and a bank made for another config is not picked up.
"""
import copy
import hashlib
import json
import os
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

from mmseg.registry import TRANSFORMS

BANK_ROOT = osp.join('data', 'cdda_banks')
META_FILE = 'meta.json'
CROPS_FILE = 'crops.json'
PNG_FOLDERS = ('images', 'labels', 'depth')
NUM_CLASSES, NUM_BINS = 19, 256


def distribution_file(dataset: str, num_crops: int) -> str:
    """The reference's name of the count tensor."""
    return f'{dataset}_{num_crops}_distribution.pth'


def preprocess_command(config: Optional[str]) -> str:
    return f'python tools/cdda_preprocess.py {config or "CONFIG"}'


# ---------------------------------------------------------------------------------------------------
# Where a config's bank lives
# ---------------------------------------------------------------------------------------------------
def _plain(value):
    """Config values as JSON-able plain data."""
    if hasattr(value, 'to_dict'):
        value = value.to_dict()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def train_crop_size(pipeline: Sequence[dict]) -> Tuple[int, int]:
    """(H, W) of the ``RandomCrop`` step of a pipeline config."""
    for step in pipeline:
        if step.get('type') == 'RandomCrop':
            size = step['crop_size']
            return (size, size) if isinstance(size, int) else tuple(size)
    raise ValueError('CDDA bank: the source pipeline has no RandomCrop step (the bank holds training crops)')


def bank_fingerprint(cfg) -> dict:
    """What a config's bank is made from: source data set with its pipeline, rare class sampling, seed, N,
    CDDA data set name, crop size and normalisation."""
    train = cfg['train_dataloader']['dataset']
    cdda = cfg['uda']['cdda'] if 'uda' in cfg else cfg['model']['cdda']
    if train.get('sync_crop_size') is not None:
        raise ValueError('CDDA bank: UDADataset sync_crop_size is not supported (the bank holds pipeline crops)')
    source = _plain(train['source'])
    model = cfg['model'].get('model', cfg['model'])
    preprocessor = _plain(model.get('data_preprocessor') or {})
    from mmseg.models.data_preprocessor import IMAGENET_MEAN, IMAGENET_STD
    return dict(dataset=cdda['dataset'], crop_size=list(train_crop_size(source['pipeline'])), source=source,
                rare_class_sampling=_plain(train.get('rare_class_sampling')),
                seed=_plain(cfg.get('randomness', {})).get('seed', 0), num_crops=cdda.get('num_crops'),
                mean=list(preprocessor.get('mean', IMAGENET_MEAN)), std=list(preprocessor.get('std', IMAGENET_STD)))


def default_bank_dir(fingerprint: dict) -> str:
    """``data/cdda_banks/{dataset}_{H}x{W}_{hash8}``."""
    described = {k: v for k, v in fingerprint.items() if k != 'config'}
    digest = hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:8]
    h, w = fingerprint['crop_size']
    return osp.join(BANK_ROOT, f"{fingerprint['dataset']}_{h}x{w}_{digest}")


def resolve_cdda(cfg, cdda: dict) -> dict:
    """``cdda`` with ``bank_dir`` (the config's default folder unless given) and ``bank_fingerprint``."""
    cdda = _plain(cdda)
    fingerprint = dict(bank_fingerprint(cfg), config=cfg.filename)
    cdda.setdefault('bank_fingerprint', fingerprint)
    if cdda.get('bank_dir') is None:
        cdda['bank_dir'] = default_bank_dir(fingerprint)
    return cdda


def _differences(made: dict, wanted: dict, prefix: str = '') -> List[str]:
    keys = sorted(set(made) | set(wanted))
    out = []
    for key in keys:
        a, b = made.get(key), wanted.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f'{prefix}{key}.')
        elif a != b:
            out.append(f'{prefix}{key}: bank {a!r}, config {b!r}')
    return out


def check_bank(bank_dir: Optional[str], dataset: str, fingerprint: Optional[dict] = None) -> dict:
    """The bank's ``meta.json`` after checking that it exists and was made for this config."""
    config = (fingerprint or {}).get('config')
    if bank_dir is None:
        raise ValueError('CDDA: no bank_dir (the training config sets it to the default folder of the config)')
    meta_path = osp.join(bank_dir, META_FILE)
    if not osp.isfile(meta_path):
        raise FileNotFoundError(f'CDDA source bank {bank_dir!r} is missing or incomplete (no {META_FILE}); make it '
                                f'with `{preprocess_command(config)}`')
    with open(meta_path) as f:
        meta = json.load(f)
    if meta['dataset'] != dataset:
        raise ValueError(f"CDDA bank {bank_dir!r} was made for dataset {meta['dataset']!r}, the config has "
                         f'{dataset!r}; run `{preprocess_command(config)}`')
    if fingerprint is not None:
        wanted = {k: v for k, v in fingerprint.items() if k != 'config'}
        made = {k: v for k, v in (meta.get('fingerprint') or {}).items() if k != 'config'}
        differences = _differences(made, wanted)
        if differences:
            raise ValueError(f'CDDA bank {bank_dir!r} was made for another config ({"; ".join(differences[:4])}); '
                             f'run `{preprocess_command(config)}`')
    return meta


# ---------------------------------------------------------------------------------------------------
# Writing and counting crops (the reference's tools/seg.py)
# ---------------------------------------------------------------------------------------------------
def bank_image(img: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """The reference's saved crop of a normalised image (3 x H x W, RGB): de-normalised with torchvision's
    ``Normalize(-mean/std, 1/std)`` math in float32, RGB → BGR, rounded and saturated to uint8 (as
    ``cv2.imwrite`` of float32)."""
    inv_mean = torch.tensor([-m / s for m, s in zip(mean, std)], dtype=torch.float32).view(3, 1, 1)
    inv_std = torch.tensor([1 / s for s in std], dtype=torch.float32).view(3, 1, 1)
    rgb = img.detach().float().cpu().clone().sub_(inv_mean).div_(inv_std)
    bgr = rgb.permute(1, 2, 0).numpy()[:, :, ::-1]
    return np.clip(np.rint(bgr), 0, 255).astype(np.uint8)


def write_bank_crops(out_dir: str, index: int, imgs: torch.Tensor, gts: torch.Tensor, depths: torch.Tensor,
                     mean: Sequence[float], std: Sequence[float]) -> int:
    """Write crops ``index, index + 1, ...`` of a batch (normalised B x 3 x H x W images, B x 1 x H x W labels,
    B x H x W float depth) as ``images/``, ``labels/``, ``depth/`` PNGs; returns the next index."""
    for folder in PNG_FOLDERS:
        os.makedirs(osp.join(out_dir, folder), exist_ok=True)
    for i in range(imgs.shape[0]):
        cv2.imwrite(osp.join(out_dir, 'images', f'{index}.png'), bank_image(imgs[i], mean, std))
        cv2.imwrite(osp.join(out_dir, 'labels', f'{index}.png'), gts[i][0].cpu().numpy().astype(np.uint8))
        cv2.imwrite(osp.join(out_dir, 'depth', f'{index}.png'), np.array(depths[i].cpu().numpy(), dtype=np.uint8))
        index += 1
    return index


def crop_counts(label: np.ndarray, depth: np.ndarray, num_classes: int = NUM_CLASSES,
                bins: int = NUM_BINS) -> torch.Tensor:
    """``[C, bins]`` counts of a saved crop (uint8 label and depth, the reference's ``create_matrix``)."""
    from mmseg.models.uda.depth_similarity import count_matrix
    return count_matrix(torch.from_numpy(label.astype(np.int64)), torch.from_numpy(depth.astype(np.int64)),
                        num_classes, bins)


def count_crop_files(bank_dir: str, num_crops: int, num_classes: int = NUM_CLASSES,
                     bins: int = NUM_BINS) -> torch.Tensor:
    """``[N, C, bins]`` counts of the saved ``labels/`` and ``depth/`` PNGs (the reference's ``cul_mix``)."""
    counts = torch.zeros(num_crops, num_classes, bins)
    for i in range(num_crops):
        label = cv2.imread(osp.join(bank_dir, 'labels', f'{i}.png'))[:, :, 0]
        depth = cv2.imread(osp.join(bank_dir, 'depth', f'{i}.png'), cv2.IMREAD_ANYDEPTH).astype(np.float32)
        counts[i] = crop_counts(label, depth.astype(int).astype(np.uint8), num_classes, bins)
    return counts


# ---------------------------------------------------------------------------------------------------
# Reading a bank
# ---------------------------------------------------------------------------------------------------
class CropRemaker:
    """Re-makes bank crops through a source pipeline config with a given crop box and flip instead of the
    random ones; the image is normalised, padded to the crop size and saved as :func:`bank_image`, so the
    result equals the reference's PNG."""

    def __init__(self, pipeline: Sequence[dict], crop_size: Sequence[int], mean: Sequence[float],
                 std: Sequence[float]) -> None:
        from .transforms import LoadDepthMap, PackSegInputs, RandomCrop, RandomFlip
        self.steps = [TRANSFORMS.build(copy.deepcopy(step)) for step in pipeline]
        self.steps = [s for s in self.steps if not isinstance(s, (LoadDepthMap, PackSegInputs))]
        allowed = ('LoadImageFromFile', 'LoadAnnotations', 'Resize', 'RandomCrop', 'RandomFlip')
        others = [type(s).__name__ for s in self.steps if type(s).__name__ not in allowed]
        if others:
            raise ValueError(f'CDDA compact bank: cannot re-make crops of a source pipeline with {others}; '
                             f'expected only {allowed} (or make the bank with --png)')
        self.crop_type, self.flip_type = RandomCrop, RandomFlip
        self.crop_size = tuple(crop_size)
        self.mean, self.std = list(mean), list(std)

    def __call__(self, img_path: str, seg_map_path: str, box: Sequence[int], flip: bool) -> Tuple[np.ndarray,
                                                                                                 np.ndarray]:
        """(H x W x 3 BGR uint8, H x W uint8 label) of the crop ``box`` (y1, y2, x1, x2) of an image."""
        results = dict(img_path=img_path, seg_map_path=seg_map_path, seg_fields=[])
        for step in self.steps:
            if isinstance(step, self.crop_type):
                results = step.crop_to(results, tuple(box))
            elif isinstance(step, self.flip_type):
                if flip:
                    results['flip'], results['flip_direction'] = True, step.direction
                    step._flip(results)
            else:
                results = step(results)
        image = np.ascontiguousarray(results['img'][:, :, ::-1]).astype(np.float32)  # RGB
        mean = np.asarray(self.mean, np.float32)
        std = np.asarray(self.std, np.float32)
        h, w = image.shape[:2]
        normalised = np.zeros((*self.crop_size, 3), np.float32)
        normalised[:h, :w] = (image - mean) / std
        label = np.full(self.crop_size, 255, np.uint8)
        label[:h, :w] = results['gt_seg_map']
        return bank_image(torch.from_numpy(normalised).permute(2, 0, 1), self.mean, self.std), label


class CropBank:
    """A bank folder: its counts and crops (PNG files if present, else re-made from ``crops.json``).

    Args:
        bank_dir: the folder.
        require_meta: False reads a folder of reference PNGs (``images/``, ``labels/``) without ``meta.json``.
    """

    def __init__(self, bank_dir: str, require_meta: bool = True) -> None:
        self.bank_dir = bank_dir
        self.meta = None
        if require_meta or osp.isfile(osp.join(bank_dir, META_FILE)):
            with open(osp.join(bank_dir, META_FILE)) as f:
                self.meta = json.load(f)
        self.has_png = osp.isdir(osp.join(bank_dir, 'images')) and (
            self.meta is None or self.meta.get('png', False))
        self._crops = None
        self._remaker = None

    def counts(self) -> torch.Tensor:
        """``[N, 19, 256]`` float32."""
        path = osp.join(self.bank_dir, distribution_file(self.meta['dataset'], self.meta['num_crops']))
        counts = torch.load(path, map_location='cpu', weights_only=True)
        if counts.shape[0] != self.meta['num_crops']:
            raise ValueError(f'CDDA bank {path!r} has {counts.shape[0]} crops, meta.json says {self.meta["num_crops"]}')
        return counts

    def crop(self, index: int) -> Tuple[np.ndarray, np.ndarray]:
        """(H x W x 3 BGR uint8, H x W uint8 label) of crop ``index``."""
        if self.has_png:
            image = cv2.imread(osp.join(self.bank_dir, 'images', f'{index}.png'), cv2.IMREAD_COLOR)
            label = cv2.imread(osp.join(self.bank_dir, 'labels', f'{index}.png'))
            if image is None or label is None:
                raise FileNotFoundError(f'CDDA bank {self.bank_dir!r}: crop {index} (images/{index}.png, '
                                        f'labels/{index}.png) is missing')
            return image, label[:, :, 0]
        if self._crops is None:
            with open(osp.join(self.bank_dir, CROPS_FILE)) as f:
                self._crops = json.load(f)
            fingerprint = self.meta['fingerprint']
            self._remaker = CropRemaker(fingerprint['source']['pipeline'], fingerprint['crop_size'],
                                        fingerprint['mean'], fingerprint['std'])
        entry = self._crops[index]
        return self._remaker(entry['img_path'], entry['seg_map_path'], entry['box'], entry['flip'])
