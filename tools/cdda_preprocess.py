"""Make the CDDA source bank of a config (the reference's ``run_seg.py``, spec ebda-cdda-ddb §2.3).

    python tools/cdda_preprocess.py configs/cdda/gta2cs_cdda_daformer.py              # compact bank
    python tools/cdda_preprocess.py configs/cdda/gta2cs_cdda_daformer.py --png        # + the reference's PNGs

Draws N crops (default: one per source image, as the reference's 24966 for GTA) of the config's training
source: rare class sampling and the source pipeline (resize, random crop, flip) with its depth maps, and
counts each crop's pixels per (class, depth bin) into ``{dataset}_{N}_distribution.pth`` ``[N, 19, 256]``.
The crops are kept as (source image, box, flip) in ``crops.json``, from which training re-makes a crop when
it replaces a ClassMix source; ``--png`` also writes the reference's ``images/``, ``labels/``, ``depth/`` PNGs
(tens of GB for GTA). Crop i is drawn from its own seed (config seed, i), so the bank does not depend on
``--workers`` and an interrupted run resumes where it stopped (finished chunks of crops are kept). The bank
goes to the config's default folder (``data/cdda_banks/...``, printed), where training finds it.
"""
import argparse
import copy
import json
import math
import os
import os.path as osp
import shutil
import sys
import time
from pathlib import Path
from typing import List, Optional, Union

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(REPO_ROOT))

from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402

from mmseg.datasets.cdda_bank import (CROPS_FILE, META_FILE, NUM_BINS, NUM_CLASSES, bank_fingerprint,  # noqa: E402
                                      crop_counts, default_bank_dir, distribution_file, write_bank_crops)
from mmseg.datasets.transforms.depth_loading import batch_depth_maps  # noqa: E402
from mmseg.datasets.transforms.formatting import DEFAULT_META_KEYS  # noqa: E402
from mmseg.models.data_preprocessor import SegDataPreProcessor  # noqa: E402
from mmseg.registry import DATASETS  # noqa: E402
from mmseg.utils import register_all_modules  # noqa: E402

CHUNK = 256


class SourceCrops(Dataset):
    """Crop i of the bank: the UDA data set's source sample drawn with numpy seeded from (seed, i)."""

    def __init__(self, uda_dataset, seed: int, indices: List[int]) -> None:
        self.uda_dataset, self.seed, self.indices = uda_dataset, seed, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, item: int) -> dict:
        index = self.indices[item]
        np.random.seed(np.random.SeedSequence([self.seed, index]).generate_state(1)[0])
        sample = self.uda_dataset.source_sample(index)
        sample['index'] = index
        return sample


def with_crop_box_meta(source: dict) -> dict:
    """The source data set config whose ``PackSegInputs`` also packs ``crop_bbox`` and ``flip``."""
    pipeline = []
    for step in source['pipeline']:
        if step['type'] == 'PackSegInputs':
            step = dict(step, meta_keys=tuple(step.get('meta_keys', DEFAULT_META_KEYS)) + ('crop_bbox', 'flip'))
        pipeline.append(step)
    if 'depth_path' not in source.get('data_prefix', {}):
        raise ValueError('cdda_preprocess: the source data set has no data_prefix depth_path (the bank counts pixels '
                         "per depth bin); give it the depth folder, e.g. depth_path='depth_any' (see configs/cdda/)")
    return dict(source, pipeline=pipeline)


def bank_size(bank_dir: str) -> int:
    """Bytes of the files below ``bank_dir``."""
    return sum(osp.getsize(osp.join(root, f)) for root, _, files in os.walk(bank_dir) for f in files)


def make_bank(config: Union[str, Config], bank_dir: Optional[str] = None, num_crops: Optional[int] = None,
              png: bool = False, workers: int = 0, batch_size: int = 8, cfg_options: Optional[dict] = None) -> str:
    """Write (or complete) the bank of ``config`` (with ``cfg_options`` merged, as the training's
    ``--cfg-options``); returns its folder."""
    register_all_modules()
    cfg = Config.fromfile(config) if isinstance(config, str) else copy.deepcopy(config)
    config = config if isinstance(config, str) else cfg.filename
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if 'uda' not in cfg or cfg.uda.get('cdda') is None:
        raise ValueError(f'{config}: no uda.cdda in the config; cdda_preprocess makes the bank of a CDDA config')
    if num_crops is not None:
        cfg.uda.cdda.num_crops = num_crops
    fingerprint = bank_fingerprint(cfg)
    bank_dir = bank_dir or cfg.uda.cdda.get('bank_dir') or default_bank_dir(fingerprint)
    meta_path = osp.join(bank_dir, META_FILE)
    if osp.isfile(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
        if meta['fingerprint'] == fingerprint and (meta['png'] or not png):
            print(f'{bank_dir} is complete for this config; nothing to do')
            return bank_dir
        raise FileExistsError(f'{bank_dir} holds a bank made with other settings; remove it or pass --bank-dir')
    train = cfg.train_dataloader.dataset
    uda_dataset = DATASETS.build(dict(train.to_dict(), source=with_crop_box_meta(train.source.to_dict())))
    total = fingerprint['num_crops'] or len(uda_dataset.source)
    preprocessor = SegDataPreProcessor(mean=fingerprint['mean'], std=fingerprint['std'], bgr_to_rgb=True,
                                       size=fingerprint['crop_size'])
    chunk_dir = osp.join(bank_dir, 'chunks')
    os.makedirs(chunk_dir, exist_ok=True)
    chunks = range(math.ceil(total / CHUNK))
    todo = [c for c in chunks if not osp.isfile(osp.join(chunk_dir, f'{c:05d}.pt'))]
    start = time.time()
    with tqdm(total=total, initial=(len(chunks) - len(todo)) * CHUNK, desc='CDDA bank crops', unit='crop') as bar:
        for c in todo:
            indices = list(range(c * CHUNK, min((c + 1) * CHUNK, total)))
            loader = DataLoader(SourceCrops(uda_dataset, fingerprint['seed'], indices), batch_size=batch_size,
                                num_workers=workers, collate_fn=pseudo_collate)
            counts, crops = [], []
            for batch in loader:
                data = preprocessor(dict(inputs=batch['inputs'], data_samples=batch['data_samples']), True)
                samples = data['data_samples']
                labels = torch.stack([s.gt_sem_seg.data for s in samples])
                depths = batch_depth_maps(samples, tuple(fingerprint['crop_size']))
                if png:
                    write_bank_crops(bank_dir, batch['index'][0], data['inputs'], labels, depths, fingerprint['mean'],
                                     fingerprint['std'])
                for i, sample in enumerate(samples):
                    counts.append(crop_counts(labels[i][0].numpy().astype(np.uint8),
                                              np.array(depths[i].numpy(), dtype=np.uint8)).to(torch.int32))
                    crops.append(dict(img_path=sample.img_path, seg_map_path=sample.seg_map_path,
                                      box=list(sample.crop_bbox), flip=bool(sample.flip)))
                bar.update(len(samples))
            path = osp.join(chunk_dir, f'{c:05d}.pt')
            torch.save(dict(counts=torch.stack(counts), crops=crops), path + '.tmp')
            os.replace(path + '.tmp', path)
    parts = [torch.load(osp.join(chunk_dir, f'{c:05d}.pt'), weights_only=True) for c in chunks]
    counts = torch.cat([p['counts'] for p in parts]).float()
    assert counts.shape == (total, NUM_CLASSES, NUM_BINS)
    torch.save(counts, osp.join(bank_dir, distribution_file(fingerprint['dataset'], total)))
    with open(osp.join(bank_dir, CROPS_FILE), 'w') as f:
        json.dump([crop for p in parts for crop in p['crops']], f)
    shutil.rmtree(chunk_dir)
    meta = dict(dataset=fingerprint['dataset'], num_crops=total, crop_size=fingerprint['crop_size'], png=png,
                fingerprint=fingerprint, config=config, seconds=round(time.time() - start, 1))
    with open(meta_path + '.tmp', 'w') as f:
        json.dump(meta, f, indent=1)
    os.replace(meta_path + '.tmp', meta_path)
    print(f'CDDA bank of {config}: {total} crops of {fingerprint["crop_size"]} in {bank_dir}, '
          f'{bank_size(bank_dir) / 2**20:.1f} MiB, {time.time() - start:.1f} s')
    return bank_dir


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description='Make the CDDA source bank of a config')
    parser.add_argument('config')
    parser.add_argument('--bank-dir', help="output folder (default: the config's, data/cdda_banks/...)")
    parser.add_argument('--num-crops', type=int, help='bank size N (default: uda.cdda.num_crops, else one crop per '
                                                      'source image)')
    parser.add_argument('--png', action='store_true', help="also write the reference's images/labels/depth PNGs")
    parser.add_argument('--workers', type=int, default=0, help='data loader processes (the bank does not depend on it)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, k=v (the same as for training, e.g. the seed or data roots)')
    args = parser.parse_args(argv)
    make_bank(args.config, args.bank_dir, args.num_crops, args.png, args.workers, cfg_options=args.cfg_options)


if __name__ == '__main__':
    main()
