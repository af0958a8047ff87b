"""Data-parallel DACS on CPU (gloo): gradients equal one process with the whole batch, identical ranks, resume."""
import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp
from mmengine.optim import OptimWrapper

import mmseg.engine  # noqa: F401  (registers the wrapper)
from mmseg.models.uda import dacs as dacs_module
from tests.test_compat import _free_port
from tests.test_dacs import DACS_CFG, TINY_MODEL, _batch, _seed
from tests.test_run_experiments import synthetic_pair  # noqa: F401  (fixture)

REPO_ROOT = Path(__file__).resolve().parents[1]
ITERATIONS = 2

# BatchNorm-free and without random draws inside the step: GroupNorm, no dropout / drop-path, no colour
# jitter (applied when a uniform draw exceeds probability 1: never), no blur; ClassMix masks fixed below.
# The pseudo-label threshold is near the median confidence of the untrained teacher, so each image has its own
# share q (about 0.5) and only the share over both processes gives the weights of one process.
GN = dict(type='GN', num_groups=4, requires_grad=True)
BN_FREE_MODEL = copy.deepcopy(TINY_MODEL)
BN_FREE_MODEL['backbone']['drop_path_rate'] = 0.0
BN_FREE_MODEL['decode_head'].update(dropout_ratio=0.0, norm_cfg=GN)
BN_FREE_MODEL['decode_head']['decoder_params']['fusion_cfg']['norm_cfg'] = GN
BN_FREE_DACS = dict(DACS_CFG, model=BN_FREE_MODEL, imnet_feature_dist_lambda=0.0, imnet_feature_dist_classes=None,
                    imnet_feature_dist_scale_min_ratio=None, color_jitter_probability=1.0, blur=False,
                    pseudo_threshold=0.0552, pseudo_weight_ignore_top=0, pseudo_weight_ignore_bottom=0)


def _left_half_masks(labels, rng=None):
    """ClassMix masks without randomness: the left half of each image comes from the source."""
    masks = []
    for label in labels:
        mask = torch.zeros_like(label)
        mask[..., :label.shape[-1] // 2] = 1
        masks.append(mask.unsqueeze(0))
    return masks


class RecordingOptimWrapper(OptimWrapper):
    """Keeps a copy of the gradients the optimiser steps with."""

    def __init__(self, params, **kwargs):
        super().__init__(optimizer=torch.optim.AdamW(params, lr=1e-3), **kwargs)
        self.params = list(params)
        self.recorded = []

    def step(self, **kwargs):
        self.recorded.append([p.grad.clone() for p in self.params])
        super().step(**kwargs)


def _part(batch: dict, index: slice) -> dict:
    return {key: values[index] for key, values in batch.items()}


def _train(rank: int, world_size: int):
    """ITERATIONS DACS steps on this process's share of the batches of 2: (gradients per step, parameters)."""
    from mmseg.registry import MODELS
    dacs_module.get_class_masks = _left_half_masks
    torch.set_num_threads(1)
    _seed(rank)  # different initialisations: DDP must broadcast rank 0's
    model = MODELS.build(copy.deepcopy(BN_FREE_DACS)).train()
    if world_size > 1:
        from mmseg.engine import ddp_wrapper_cfg
        from mmseg.registry import MODEL_WRAPPERS
        model = MODEL_WRAPPERS.build(ddp_wrapper_cfg(wrapper_type='UDADistributedDataParallel'),
                                     default_args=dict(module=model))
    module = model.module if world_size > 1 else model
    optim = RecordingOptimWrapper([p for p in module.parameters() if p.requires_grad])
    share = slice(rank, rank + 1) if world_size > 1 else slice(0, 2)
    for step in range(ITERATIONS):
        model.train_step(_part(_batch(step), share), optim)
    params = {name: p.detach().clone() for name, p in module.named_parameters()}
    return optim.recorded, params


def _ddp_worker(rank: int, world_size: int, port: int, results):
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size), MASTER_ADDR='127.0.0.1',
                      MASTER_PORT=str(port))
    from mmseg.engine import init_distributed
    init_distributed()
    results[rank] = _train(rank, world_size)
    torch.distributed.destroy_process_group()


def test_two_processes_give_the_gradients_of_one_process_with_the_whole_batch(monkeypatch):
    monkeypatch.setattr(dacs_module, 'get_class_masks', _left_half_masks)
    single_grads, single_params = _train(0, 1)
    results = mp.Manager().dict()
    mp.spawn(_ddp_worker, args=(2, _free_port(), results), nprocs=2, join=True)
    (grads0, params0), (grads1, params1) = results[0], results[1]
    assert len(grads0) == len(single_grads) == ITERATIONS
    for step in range(ITERATIONS):
        for g0, g1, g in zip(grads0[step], grads1[step], single_grads[step]):
            assert torch.equal(g0, g1)
            torch.testing.assert_close(g0, g, rtol=1e-4, atol=1e-6)
    assert params0.keys() == single_params.keys()
    assert any(name.startswith('ema_model.') for name in params0)
    for name in params0:  # students and teachers: the same on both ranks and as one process
        assert torch.equal(params0[name], params1[name]), name
        torch.testing.assert_close(params0[name], single_params[name], rtol=1e-4, atol=1e-6)


def _torchrun(out_dir: Path, config: Path, work_dir: Path, data: Path, *extra: str) -> subprocess.CompletedProcess:
    options = [f'train_dataloader.dataset.source.data_root={data}/gta/',
               f'train_dataloader.dataset.target.data_root={data}/cityscapes/',
               f'val_dataloader.dataset.data_root={data}/cityscapes/',
               'train_dataloader.batch_size=2', 'train_dataloader.num_workers=1', 'val_dataloader.num_workers=1',
               'train_cfg.max_iters=4', 'train_cfg.val_interval=4', 'uda.max_iters=4',
               'default_hooks.checkpoint.interval=2', 'default_hooks.checkpoint.max_keep_ckpts=2',
               'default_hooks.logger.interval=1', 'param_scheduler.0.max_iters=4', 'param_scheduler.0.end=4',
               'param_scheduler.0.warmup_iters=2']
    command = [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2', '--master_port',
               str(_free_port()), str(REPO_ROOT / 'tests' / 'ddp_train_worker.py'), str(out_dir), str(config),
               '--launcher', 'pytorch', '--work-dir', str(work_dir), *extra, '--cfg-options', *options]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=600)


def test_torchrun_trains_the_synthetic_config_on_two_cpu_processes_and_resumes(tmp_path, synthetic_pair):  # noqa: F811
    config = REPO_ROOT / 'configs' / 'synth' / 'synth_gta2cs_dacs_rcs.py'
    full = _torchrun(tmp_path / 'full', config, tmp_path / 'run', synthetic_pair)
    assert full.returncode == 0, full.stdout[-3000:] + full.stderr[-3000:]
    rank0 = torch.load(tmp_path / 'full' / 'rank0.pth', weights_only=True)
    rank1 = torch.load(tmp_path / 'full' / 'rank1.pth', weights_only=True)
    assert any(k.startswith('ema_model.') for k in rank0) and any(k.startswith('model.') for k in rank0)
    for name in rank0:
        assert torch.equal(rank0[name], rank1[name]), name
    log = next((tmp_path / 'run').glob('*/*.log')).read_text()
    assert 'Iter(train) [4/4]' in log and 'mIoU:' in log  # distributed validation ran
    assert {p.name for p in (tmp_path / 'run').glob('iter_*.pth')} == {'iter_2.pth', 'iter_4.pth'}

    resumed = _torchrun(tmp_path / 'resumed', config, tmp_path / 'run2', synthetic_pair,
                        '--resume', str(tmp_path / 'run' / 'iter_2.pth'))
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert 'Iter(train) [3/4]' in next((tmp_path / 'run2').glob('*/*.log')).read_text()
    for rank in (0, 1):
        after_resume = torch.load(tmp_path / 'resumed' / f'rank{rank}.pth', weights_only=True)
        for name in rank0:  # iterations 3-4 replayed exactly: data, RNG of each rank, teacher, optimiser
            torch.testing.assert_close(after_resume[name], rank0[name], rtol=0, atol=0, msg=name)


@pytest.mark.parametrize('wrapper', ['MMDistributedDataParallel', 'mmseg.UDADistributedDataParallel'])
def test_runner_config_picks_the_wrapper_and_per_rank_seeds(wrapper):
    from mmengine.config import Config

    from mmseg.apis.train_config import runner_config
    cfg = Config(dict(model=copy.deepcopy(TINY_MODEL), train_cfg=dict(max_iters=4), randomness=dict(seed=3)))
    if wrapper == 'mmseg.UDADistributedDataParallel':
        cfg.uda = dict(type='DACS')
    out = runner_config(cfg, 'pytorch')
    assert out.model_wrapper_cfg.type == wrapper
    assert out.randomness == dict(seed=3, diff_rank_seed=True)
    assert runner_config(cfg).get('model_wrapper_cfg') is None
