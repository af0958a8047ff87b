"""Turn an experiment config into what mmengine's Runner builds (the reference's ``build_train_model``).

An experiment config has a segmentor ``model`` and, for UDA, a ``uda`` wrapper config; the Runner
gets ``model = dict(**uda, model=<segmentor>, max_iters=train_cfg.max_iters, work_dir=<run dir>)``
(``work_dir`` unless ``uda`` sets it; the wrapper writes its debug images there). Without ``uda`` the
segmentor is trained as it is (source-only or target-only). Without a ``visualizer`` config, scalars
go to the run directory's JSON file and, when ``tensorboard`` is installed, to TensorBoard.
A CDDA wrapper (``uda.cdda``) gets the folder of its config's source bank (``bank_dir``, unless set) and the
bank's fingerprint, checked against the bank's ``meta.json``.

With a launcher (``torchrun``), a UDA model is wrapped in ``UDADistributedDataParallel`` (its
several backward passes per iteration, gradients averaged before the step) and, unless the config
says otherwise, every process gets its own seed (``randomness.diff_rank_seed``), so rare class
sampling, ClassMix and the augmentation draw differently on each process. The batch of the config
is per process: N processes train on N times the batch at the same learning rate, unless
``auto_scale_lr.enable=True`` scales the learning rate linearly (``base_batch_size`` of the config).
"""
import copy
import importlib.util
import os

from mmengine.config import Config

from mmseg.datasets.cdda_bank import resolve_cdda
from mmseg.engine.compat import ddp_wrapper_cfg
from mmseg.registry import MODELS


def runner_config(cfg: Config, launcher: str = 'none') -> Config:
    """A copy of ``cfg`` with the UDA wrapper folded into ``model`` and the launcher settings."""
    cfg = copy.deepcopy(cfg)
    if cfg.get('work_dir') is None:
        cfg.work_dir = os.path.join('work_dirs', os.path.splitext(os.path.basename(cfg.filename or 'run'))[0])
    is_uda = cfg.get('uda') is not None
    if is_uda:
        if 'train_cfg' not in cfg or 'max_iters' not in cfg.train_cfg:
            raise ValueError('a UDA config needs train_cfg.max_iters (the wrapper is given it as max_iters)')
        if cfg.uda.get('cdda') is not None:  # CDDA: the source bank of this config (tools/cdda_preprocess.py)
            cfg.uda.cdda = resolve_cdda(cfg, cfg.uda.cdda)
        uda = cfg.pop('uda').to_dict() if hasattr(cfg.uda, 'to_dict') else dict(cfg.pop('uda'))
        uda.setdefault('work_dir', cfg.work_dir)
        cfg.model = dict(uda, model=cfg.model.to_dict(), max_iters=cfg.train_cfg.max_iters)
        split_optimizers = getattr(MODELS.get(uda['type']), 'split_optimizers', None)
        if split_optimizers is not None:  # a wrapper with several optimisers (AdvSeg: segmentor, discriminators)
            split_optimizers(cfg)
    cfg.pop('use_ddp_wrapper', None)
    cfg.launcher = launcher
    if launcher != 'none':
        if cfg.get('model_wrapper_cfg') is None:
            cfg.model_wrapper_cfg = ddp_wrapper_cfg(
                find_unused_parameters=cfg.get('find_unused_parameters', False),
                wrapper_type='mmseg.UDADistributedDataParallel' if is_uda else 'MMDistributedDataParallel')
        cfg.randomness = dict(cfg.get('randomness') or {})
        cfg.randomness.setdefault('diff_rank_seed', True)
    if cfg.get('visualizer') is None:
        cfg.visualizer = default_visualizer()
    return cfg


def default_visualizer() -> dict:
    """Scalars to ``<run>/<timestamp>/vis_data/scalars.json``, and to TensorBoard when it is installed (tags
    grouped as ``train/`` and ``val/``; the DACS debug panels go there as images too)."""
    backends = [dict(type='LocalVisBackend')]
    if importlib.util.find_spec('tensorboard') is not None:
        backends.append(dict(type='GroupedTensorboardVisBackend'))  # tags train/..., val/...
    return dict(type='Visualizer', vis_backends=backends)
