"""Training through mmengine's Runner and tools/train.py: DACS iterations, validation, checkpoint, resume."""
import copy
import subprocess
import sys
from pathlib import Path
from typing import Tuple

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

import mmseg.engine  # noqa: F401
from mmseg.apis.train_config import runner_config
from tests.test_dacs import DACS_CFG, TINY_MODEL
from tests.test_datasets import make_cityscapes
from tests.test_uda_dataset import PIPELINE, make_gta_with_rare_class

REPO_ROOT = Path(__file__).resolve().parents[1]
TEST_PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'), dict(type='PackSegInputs')]


def experiment_config(root: Path, max_iters: int) -> Config:
    make_gta_with_rare_class(root / 'gta')
    make_cityscapes(root / 'cityscapes', dict(train=['c_000000_000001', 'c_000000_000002'], val=['v_000000_000001']),
                    size=(32, 64))
    uda = {k: v for k, v in copy.deepcopy(DACS_CFG).items() if k not in ('model', 'max_iters')}
    target = dict(type='CityscapesDataset', data_root=str(root / 'cityscapes'),
                  data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'), pipeline=PIPELINE)
    return Config(dict(
        default_scope='mmseg',
        work_dir=str(root / 'run'),
        randomness=dict(seed=0),
        model=copy.deepcopy(TINY_MODEL),
        uda=uda,
        train_dataloader=dict(
            batch_size=2, num_workers=0, sampler=dict(type='InfiniteSampler', shuffle=True),
            dataset=dict(type='UDADataset',
                         source=dict(type='GTADataset', data_root=str(root / 'gta'),
                                     data_prefix=dict(img_path='images', seg_map_path='labels'), pipeline=PIPELINE),
                         target=target,
                         rare_class_sampling=dict(min_pixels=100, class_temp=0.01, min_crop_ratio=0.5))),
        val_dataloader=dict(
            batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
            dataset=dict(type='CityscapesDataset', data_root=str(root / 'cityscapes'),
                         data_prefix=dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
                         pipeline=TEST_PIPELINE)),
        val_evaluator=dict(type='IoUMetric'),
        optim_wrapper=dict(type='OptimWrapper', constructor='ReferenceOptimWrapperConstructor',
                           optimizer=dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01),
                           paramwise_cfg=dict(custom_keys=dict(head=dict(lr_mult=10.0), norm=dict(decay_mult=0.0)))),
        param_scheduler=[dict(type='PolyLRWithWarmup', power=1.0, min_lr=0.0, max_iters=max_iters, warmup='linear',
                              warmup_iters=2, warmup_ratio=1e-6, by_epoch=False, begin=0, end=max_iters)],
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters),
        val_cfg=dict(type='ValLoop'),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1),
                           checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2, max_keep_ckpts=3)),
        log_processor=dict(by_epoch=False),
    ))


def test_runner_trains_dacs_validates_and_writes_reference_checkpoints(tmp_path):
    cfg = experiment_config(tmp_path, max_iters=2)
    runner = Runner.from_cfg(runner_config(cfg))
    runner.train()
    assert runner.iter == 2
    metrics = runner.message_hub.get_scalar('val/mIoU').current()
    assert 0 <= metrics <= 100
    checkpoint = torch.load(tmp_path / 'run' / 'iter_2.pth', map_location='cpu', weights_only=True)
    prefixes = {key.split('.')[0] for key in checkpoint['state_dict']}
    assert prefixes == {'model', 'ema_model', 'imnet_model'}
    lr = runner.optim_wrapper.optimizer.param_groups[0]['lr']
    assert 0 < lr < 6e-5


def test_train_tool_resumes_from_the_latest_checkpoint(tmp_path):
    cfg = experiment_config(tmp_path, max_iters=2)
    config_path = tmp_path / 'exp.py'
    cfg.dump(str(config_path))
    command = [sys.executable, str(REPO_ROOT / 'tools' / 'train.py'), str(config_path)]
    first = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT)
    assert first.returncode == 0, first.stderr[-3000:]
    resumed = subprocess.run(command + ['--resume', '--cfg-options', 'train_cfg.max_iters=4',
                                        'train_cfg.val_interval=4', 'param_scheduler.0.max_iters=4',
                                        'param_scheduler.0.end=4'],
                             capture_output=True, text=True, cwd=REPO_ROOT)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    log = resumed.stdout + resumed.stderr
    assert 'resumed epoch: 0, iter: 2' in log
    assert 'Iter(train) [3/4]' in log and 'Iter(train) [1/4]' not in log
    assert (tmp_path / 'run' / 'iter_4.pth').is_file()


def _register_stop_hook():
    """A hook that stops the training loop after a given iteration (an interrupted run)."""
    from mmengine.hooks import Hook

    from mmseg.registry import HOOKS

    if HOOKS.get('StopTrainingAfterIter') is None:

        @HOOKS.register_module()
        class StopTrainingAfterIter(Hook):

            def __init__(self, stop_after: int):
                self.stop_after = stop_after

            def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
                if runner.iter + 1 >= self.stop_after:
                    runner.train_loop.stop_training = True


def _state(path: Path) -> dict:
    return torch.load(path, map_location='cpu', weights_only=True)['state_dict']


def train_straight_and_resumed(cfg: Config, tmp_path: Path) -> Tuple[dict, dict]:
    """The iteration-4 weights of ``cfg`` (4 iterations, checkpoints every 2) run straight in ``tmp_path/straight`` and
    stopped after iteration 2, then resumed, in ``tmp_path/interrupted``."""
    _register_stop_hook()

    def run(work_dir, resume=False, stop_after=None):
        run_cfg = copy.deepcopy(cfg)
        run_cfg.work_dir = str(work_dir)
        run_cfg.train_dataloader.num_workers = 1
        run_cfg.custom_hooks = [dict(type='TrainingStateHook')]
        if stop_after:
            run_cfg.custom_hooks.append(dict(type='StopTrainingAfterIter', stop_after=stop_after))
        run_cfg.resume = resume
        Runner.from_cfg(runner_config(run_cfg)).train()

    run(tmp_path / 'straight')
    run(tmp_path / 'interrupted', stop_after=2)
    assert (tmp_path / 'interrupted' / 'iter_2.pth').is_file()
    assert not (tmp_path / 'interrupted' / 'iter_4.pth').exists()
    run(tmp_path / 'interrupted', resume=True)
    return _state(tmp_path / 'straight' / 'iter_4.pth'), _state(tmp_path / 'interrupted' / 'iter_4.pth')


def test_resumed_run_ends_with_the_same_weights_as_an_uninterrupted_one(tmp_path):
    straight, resumed = train_straight_and_resumed(experiment_config(tmp_path / 'data', max_iters=4), tmp_path)
    assert list(straight) == list(resumed)
    differing = [k for k in straight if not torch.equal(straight[k], resumed[k])]
    assert not differing, f'{len(differing)} tensors differ after resume, e.g. {differing[:3]}'
    teacher = [k for k in straight if k.startswith('ema_model.') and straight[k].is_floating_point()]
    student = _state(tmp_path / 'straight' / 'iter_2.pth')
    assert any(not torch.equal(straight[k], student[k]) for k in teacher)  # the teacher did move


def test_nan_loss_stops_the_run_naming_iteration_and_loss_without_a_checkpoint(tmp_path):
    cfg = experiment_config(tmp_path, max_iters=4)
    cfg.custom_hooks = [dict(type='InvalidLossHook')]
    cfg.default_hooks.checkpoint.interval = 1
    runner = Runner.from_cfg(runner_config(cfg))
    original = runner.model.forward_train

    def poisoned(*args, **kwargs):  # the mixed loss becomes NaN from the second iteration on
        logs = original(*args, **kwargs)
        if runner.model.local_iter >= 2:
            logs['mix.decode.loss_seg'] = logs['mix.decode.loss_seg'] * float('nan')
        return logs

    runner.model.forward_train = poisoned
    with pytest.raises(RuntimeError, match=r'Non-finite loss in iteration 2: mix\.decode\.loss_seg=nan'):
        runner.train()
    assert (tmp_path / 'run' / 'iter_1.pth').is_file()
    assert not (tmp_path / 'run' / 'iter_2.pth').exists()


def test_train_tool_seed_deterministic_and_cfg_options(tmp_path):
    from tools import train as train_tool
    cfg = experiment_config(tmp_path, max_iters=2)
    cfg.dump(str(tmp_path / 'exp.py'))
    args = train_tool.parse_args([str(tmp_path / 'exp.py'), '--seed', '3', '--deterministic', '--work-dir',
                                  str(tmp_path / 'elsewhere'), '--cfg-options', 'train_cfg.max_iters=5'])
    built = train_tool.config_from_args(args)
    assert built.randomness == dict(seed=3, deterministic=True)
    assert built.work_dir == str(tmp_path / 'elsewhere') and built.train_cfg.max_iters == 5
    assert train_tool.config_from_args(train_tool.parse_args([str(tmp_path / 'exp.py')])).randomness == dict(seed=0)


def test_tensorboard_backend_only_when_installed(monkeypatch):
    from mmseg.apis import train_config
    real_find_spec = train_config.importlib.util.find_spec
    monkeypatch.setattr(train_config.importlib.util, 'find_spec',
                        lambda name: object() if name == 'tensorboard' else real_find_spec(name))
    assert [b['type'] for b in train_config.default_visualizer()['vis_backends']] == [
        'LocalVisBackend', 'GroupedTensorboardVisBackend']
    monkeypatch.setattr(train_config.importlib.util, 'find_spec',
                        lambda name: None if name == 'tensorboard' else real_find_spec(name))
    assert [b['type'] for b in train_config.default_visualizer()['vis_backends']] == ['LocalVisBackend']
