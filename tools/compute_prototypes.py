"""Class prototypes of a DDB ST run (the reference's ``tools/cal_prototypes/cal_prototype.py``, spec ebda-cdda-ddb
§3.5), the input of CKD's prototype rectification.

    python tools/compute_prototypes.py CONFIG CHECKPOINT [--epochs 4] [--out PROTOTYPES.pth] [--device cuda]

CONFIG is the ST stage's config (ours, e.g. ``configs/ddb/gta2city/r1_st_cu_dlv2_r101v1c_1x4_512x512_40k_gta2city.py``,
or the one its run directory holds), CHECKPOINT its checkpoint. As the reference:

- the model is the ST **student** (the checkpoint's ``model.*`` keys; ``ema_model.*`` is left out), in eval mode;
- the data are the target training set of the config with its training pipeline (random crops and flips), in
  order, batches of the training batch size, for ``--epochs`` epochs (4: four random crops of each image);
- per image and class the mean decode-head feature over the pixels predicted as that class (at least 10 pixels),
  accumulated as a running mean capped at 3000 vectors (:class:`~mmseg.models.utils.class_prototypes.ClassPrototypes`).

Writes a ``[num_classes, feature channels]`` tensor (``torch.save``), by default to the reference's path derived from
the config name: ``r1_st_cu_..._gta2city.py`` -> ``prototypes/gta2city_round1/gta2city_st-cu_dlv2.pth``. The crops
are drawn from ``--seed`` (default: the config's seed), so a rerun writes the same prototypes.
"""
import argparse
import functools
import random
import re
import sys
from pathlib import Path
from typing import Callable, Iterable, List, Optional, Tuple

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.dataset import pseudo_collate, worker_init_fn  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from torch import Tensor, nn  # noqa: E402
from torch.utils.data import DataLoader, Dataset  # noqa: E402
from tqdm import tqdm  # noqa: E402

from mmseg.apis.inference import load_test_config  # noqa: E402
from mmseg.models.uda.ddb_checkpoint import prototype_tool_state, read_state_dict, state_dict_problems  # noqa: E402
from mmseg.models.utils.class_prototypes import ClassPrototypes  # noqa: E402
from mmseg.registry import DATASETS, MODELS  # noqa: E402
from mmseg.utils import register_all_modules  # noqa: E402

DEFAULT_EPOCHS = 4
# r{round}_st_{cu|ca}_..._{dataset}.py, the reference's ST config names
REFERENCE_NAME = re.compile(r'r(?P<round>\d+)_st_(?P<path>cu|ca)_.*_(?P<dataset>[^_]+)$')
EPOCH_SEED_STRIDE = 1000  # epoch e of seed s draws from seed s + e * 1000 (+ the worker's index)


def default_output(config: str) -> Path:
    """The reference's prototype file of an ST config name:
    ``prototypes/{dataset}_round{R}/{dataset}_st-{path}_dlv2.pth``."""
    match = REFERENCE_NAME.match(Path(config).stem)
    if match is None:
        raise ValueError(f'{config}: the config name does not follow the reference scheme r<round>_st_<cu|ca>_..._'
                         '<dataset>.py from which the output path is derived; give --out')
    dataset = match['dataset']
    return Path('prototypes') / f'{dataset}_round{match["round"]}' / f'{dataset}_st-{match["path"]}_dlv2.pth'


def build_student(cfg: Config, checkpoint: str, device: str) -> nn.Module:
    """The ST student of ``checkpoint`` (``model.*``; the ``ema_model.*`` keys are left out) in eval mode."""
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(load_test_config(cfg).model)
    state = prototype_tool_state(read_state_dict(checkpoint, 'CHECKPOINT'))
    student = {key: value for key, value in state.items() if key in model.state_dict()}
    problems = state_dict_problems(model, student)
    if problems:
        raise ValueError(f'{checkpoint}: not an ST checkpoint of the model of {cfg.filename} (its model.* keys are '
                         'the student): ' + '; '.join(problems))
    model.load_state_dict(student, strict=True)
    if not getattr(model, 'decode_head', None) or not getattr(model.decode_head, 'returns_feature', False):
        raise ValueError(f'{cfg.filename}: prototypes need a decode head with a feature output (DLV2AdapterHead)')
    return model.to(device).eval()


def target_dataset(cfg: Config) -> Dataset:
    """The target training set of a DDB config (``train_dataloader.dataset.target``) with its training pipeline."""
    dataset = cfg.train_dataloader.dataset
    if 'target' not in dataset:
        raise ValueError(f'{cfg.filename}: train_dataloader.dataset has no target; prototypes are computed on the '
                         'target training set of a DDB (DomainBridgingDataset) config')
    with DefaultScope.overwrite_default_scope('mmseg'):
        return DATASETS.build(dataset.target.to_dict() if hasattr(dataset.target, 'to_dict') else dataset.target)


def epoch_batches(dataset: Dataset, batch_size: int, num_workers: int, seed: int) -> Callable[[int], Iterable]:
    """``epoch -> batches`` of ``dataset`` in order, the random pipeline steps drawing from ``seed`` and the epoch."""

    def batches(epoch: int) -> Iterable:
        epoch_seed = seed + epoch * EPOCH_SEED_STRIDE
        random.seed(epoch_seed)
        np.random.seed(epoch_seed)
        torch.manual_seed(epoch_seed)
        init = functools.partial(worker_init_fn, num_workers=num_workers, rank=0, seed=epoch_seed)
        return DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers,
                          collate_fn=pseudo_collate, worker_init_fn=init if num_workers else None)

    return batches


def calculate_prototypes(encode: Callable[[object], Tuple[Tensor, Tensor]], batches: Callable[[int], Iterable],
                         epochs: int, prototypes: ClassPrototypes,
                         on_batch: Optional[Callable[[List[int], List[Tensor]], None]] = None,
                         total: Optional[int] = None) -> ClassPrototypes:
    """Accumulate the class-mean features of ``encode(batch)`` (logits, features at the crop size) over ``epochs``
    epochs of ``batches(epoch)``; ``on_batch(ids, vectors)`` sees each batch's vectors. Shows a progress bar of
    ``total`` batches per epoch."""
    with tqdm(total=None if total is None else total * epochs, desc='prototypes', unit='batch') as progress:
        for epoch in range(epochs):
            for batch in batches(epoch):
                with torch.no_grad():
                    logits, features = encode(batch)
                ids, vectors = prototypes.update(logits, features)
                if on_batch is not None:
                    on_batch(ids, vectors)
                progress.update(1)
    return prototypes


def model_encoder(model: nn.Module) -> Callable[[dict], Tuple[Tensor, Tensor]]:
    """``batch -> (logits, features)`` of a segmentor, both at the input size."""

    def encode(batch: dict) -> Tuple[Tensor, Tensor]:
        data = model.data_preprocessor(batch, False)
        return model.encode_decode(data['inputs'], [s.metainfo for s in data['data_samples']], return_feature=True)

    return encode


def save_prototypes(prototypes: Tensor, out: Path) -> None:
    """``torch.save`` to a temporary file renamed into place (a killed run leaves no partial file)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f'.{out.name}.tmp')
    torch.save(prototypes, tmp)
    tmp.replace(out)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='the ST stage config')
    parser.add_argument('checkpoint', help='the ST checkpoint (its student, model.*, is used)')
    parser.add_argument('--epochs', type=int, default=DEFAULT_EPOCHS, help='passes over the target set (default 4)')
    parser.add_argument('--out', type=Path, help='output file (default: the reference path from the config name)')
    parser.add_argument('--seed', type=int, help="seed of the random crops (default: the config's seed)")
    parser.add_argument('--workers', type=int, help='data loader processes (default: the config\'s)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error(f'--epochs {args.epochs}: expected at least 1')
    return args


def main(argv: Optional[List[str]] = None) -> Path:
    """Compute and save the prototypes; returns the output path."""
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    out = args.out or default_output(args.config)
    model = build_student(cfg, args.checkpoint, args.device)
    dataset = target_dataset(cfg)
    loader_cfg = cfg.train_dataloader
    seed = args.seed if args.seed is not None else (cfg.get('randomness') or {}).get('seed', 0)
    workers = args.workers if args.workers is not None else loader_cfg.get('num_workers', 0)
    batch_size = loader_cfg.get('batch_size', 1)
    prototypes = ClassPrototypes(model.num_classes, model.decode_head.channels, device=torch.device(args.device))
    calculate_prototypes(model_encoder(model), epoch_batches(dataset, batch_size, workers, seed), args.epochs,
                         prototypes, total=-(-len(dataset) // batch_size))
    save_prototypes(prototypes.prototypes.cpu(), out)
    seen = int((prototypes.counts > 0).sum())
    print(f'prototypes of {seen}/{model.num_classes} classes ({args.epochs} epochs over {len(dataset)} target images) '
          f'written to {out}')
    return out


if __name__ == '__main__':
    main()
