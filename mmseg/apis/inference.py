"""Build a trained segmentor from a config and checkpoint, and run it on images.

Configs may be ours (``.py``; a run directory's dumped config holds the UDA wrapper, whose inner
``model`` is the segmentor) or the JSON configs released with the original DAFormer/HRDA/MIC
(translated by :mod:`mmseg.apis.legacy_config`). Checkpoints may be ours or the reference's: the
student weights are loaded (spec §1.5); the teacher and the ImageNet model are ignored.
"""
import copy
from pathlib import Path
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope
from torch import nn

from mmseg.datasets import CITYSCAPES_CLASSES, CITYSCAPES_PALETTE
from mmseg.registry import DATASETS, MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import register_all_modules
from .checkpoint import load_checkpoint
from .legacy_config import is_legacy_config, load_legacy_config
from .run_dir import find_run_files

ImageInput = Union[str, Path, np.ndarray]
# Keys of the UDA wrapper that the reference key revision leaves over (``ema_model.x`` → ``ema_x``; AdvSeg's
# ``model_D.main.x`` → ``D.main.x``, the unanchored pattern ``model.`` matching ``model_``).
WRAPPER_LEFTOVER_PREFIXES = ('ema_', 'imnet_', 'mic.', 'D.')


def load_test_config(config: Union[str, Path, Config]) -> Config:
    """The config with ``model`` = the plain segmentor (a UDA wrapper config is unwrapped)."""
    if isinstance(config, Config):
        cfg = copy.deepcopy(config)
    else:
        path = Path(config)
        if not path.is_file():
            raise FileNotFoundError(f'Config not found: {path}')
        cfg = load_legacy_config(path) if is_legacy_config(path) else Config.fromfile(str(path))
    if 'model' not in cfg:
        raise KeyError(f'{cfg.filename}: the config has no "model"')
    while isinstance(cfg.model.get('model'), dict):
        cfg.model = cfg.model.model
    cfg.model.pretrained = None
    cfg.setdefault('default_scope', 'mmseg')
    return cfg


def dataset_meta(cfg: Config, checkpoint: Optional[dict] = None) -> dict:
    """Classes and palette: from the checkpoint meta (ours or the reference's), else the test data set
    class, else Cityscapes (as the reference's fall-back)."""
    meta = (checkpoint or {}).get('meta') or {}
    if meta.get('dataset_meta', {}).get('classes'):
        return dict(classes=tuple(meta['dataset_meta']['classes']),
                    palette=[list(c) for c in meta['dataset_meta']['palette']])
    if meta.get('CLASSES') and meta.get('PALETTE'):
        return dict(classes=tuple(meta['CLASSES']), palette=[list(c) for c in meta['PALETTE']])
    dataset_type = cfg.get('test_dataloader', {}).get('dataset', {}).get('type')
    dataset_cls = DATASETS.get(dataset_type) if isinstance(dataset_type, str) else None
    metainfo = getattr(dataset_cls, 'METAINFO', {}) if dataset_cls is not None else {}
    if metainfo.get('classes'):
        return dict(classes=tuple(metainfo['classes']), palette=[list(c) for c in metainfo['palette']])
    return dict(classes=CITYSCAPES_CLASSES, palette=CITYSCAPES_PALETTE)


def init_model(config: Union[str, Path, Config], checkpoint: Optional[Union[str, Path]] = None,
               device: Optional[str] = None, cfg_options: Optional[dict] = None) -> nn.Module:
    """The segmentor of ``config`` with the student weights of ``checkpoint``, in eval mode on ``device``.

    ``config`` may be a run directory: its config and, unless ``checkpoint`` is given, its latest checkpoint
    (:func:`mmseg.apis.find_run_files`). ``cfg_options`` (``{'model.test_cfg.mode': 'slide'}``) are merged into
    the test config, whose ``model`` is the plain segmentor. ``device`` defaults to ``cuda:0`` when CUDA is
    available, else ``cpu``. The model carries ``cfg`` (the test config) and ``dataset_meta`` (classes,
    palette). A checkpoint that fits neither our layout nor the reference's raises a ``ValueError`` listing
    its missing and unexpected keys.
    """
    if not isinstance(config, Config) and Path(config).is_dir():
        files = find_run_files(config)
        config, checkpoint = files.config, checkpoint if checkpoint is not None else files.checkpoint
    device = device or ('cuda:0' if torch.cuda.is_available() else 'cpu')
    cfg = load_test_config(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(copy.deepcopy(cfg.model))
    loaded = None
    if checkpoint is not None:
        loaded, report = load_checkpoint(model, checkpoint, ignore_prefixes=WRAPPER_LEFTOVER_PREFIXES)
        if report.missing or report.unexpected:
            raise ValueError(
                f'{checkpoint}: does not fit {cfg.filename}: neither our checkpoint layout nor the reference\'s '
                f'(student keys "model.backbone...", "model.decode_head...", or plain "backbone...").\n'
                f'  missing ({len(report.missing)}): {report.missing[:8]}\n'
                f'  unexpected ({len(report.unexpected)}): {report.unexpected[:8]}')
    model.cfg = cfg
    model.dataset_meta = dataset_meta(cfg, loaded)
    return model.to(device).eval()


def build_test_pipeline(cfg: Config, from_array: bool) -> Compose:
    """The config's test pipeline without label loading (and without file loading for arrays)."""
    steps = [dict(step) for step in cfg.test_dataloader.dataset.pipeline if step['type'] != 'LoadAnnotations']
    if from_array:
        steps = [step for step in steps if step['type'] != 'LoadImageFromFile']
    with DefaultScope.overwrite_default_scope('mmseg'):
        return Compose(steps)


def _load_input(image: ImageInput) -> dict:
    if isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f'expected a (H, W, 3) uint8 BGR image array, got {image.shape} {image.dtype}')
        return dict(img=image, img_path=None, img_shape=image.shape[:2], ori_shape=image.shape[:2])
    path = Path(image)
    if not path.is_file():
        raise FileNotFoundError(f'Image not found: {path}')
    return dict(img_path=str(path))


@torch.no_grad()
def inference_model(model: nn.Module, images: Union[ImageInput, Sequence[ImageInput]]
                    ) -> Union[SegDataSample, List[SegDataSample]]:
    """Predict images (file paths or BGR uint8 arrays) with the config's test pipeline and test mode.

    Returns one :class:`SegDataSample` per image (``pred_sem_seg``, ``seg_logits`` at the original
    size), or a single sample when given a single image.
    """
    single = not isinstance(images, (list, tuple))
    results = []
    for image in [images] if single else images:
        data = build_test_pipeline(model.cfg, isinstance(image, np.ndarray))(_load_input(image))
        batch = model.data_preprocessor(dict(inputs=[data['inputs']], data_samples=[data['data_samples']]), False)
        results.extend(model.predict(batch['inputs'], batch['data_samples']))
    return results[0] if single else results
