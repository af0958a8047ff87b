"""The UDA / schedule / runtime base configs build as mmengine's Runner builds them."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope

import mmseg.engine  # noqa: F401
import mmseg.models  # noqa: F401
from mmseg.engine.schedulers import poly_lr
from mmseg.registry import MODELS, PARAM_SCHEDULERS
from tests.test_dacs import TINY_MODEL

BASE = Path(__file__).resolve().parents[1] / 'configs' / '_base_'
DAFORMER_KEYS = dict(head=dict(lr_mult=10.0), pos_block=dict(decay_mult=0.0), norm=dict(decay_mult=0.0))


@pytest.fixture(autouse=True)
def mmseg_scope():
    with DefaultScope.overwrite_default_scope('mmseg'):
        yield


def test_dacs_fdthings_config_builds_the_wrapper():
    uda = Config.fromfile(str(BASE / 'uda' / 'dacs_a999_fdthings.py')).uda.to_dict()
    dacs = MODELS.build(dict(uda, model=TINY_MODEL, max_iters=40000))
    assert dacs.alpha == 0.999 and dacs.fdist_lambda == 0.005 and dacs.imnet_model is not None
    assert dacs.fdist_classes == [6, 7, 11, 12, 13, 14, 15, 16, 17, 18]


def test_adamw_and_poly10warm_give_the_reference_learning_rates():
    uda = Config.fromfile(str(BASE / 'uda' / 'dacs.py')).uda.to_dict()
    dacs = MODELS.build(dict(uda, model=TINY_MODEL, max_iters=40000))
    optim_cfg = Config.fromfile(str(BASE / 'schedules' / 'adamw.py')).optim_wrapper.to_dict()
    optim_cfg['paramwise_cfg']['custom_keys'] = DAFORMER_KEYS
    optim_wrapper = build_optim_wrapper(dacs, optim_cfg)
    groups = optim_wrapper.optimizer.param_groups
    student = {id(p) for p in dacs.model.parameters()}
    assert {id(p) for g in groups for p in g['params']} == student  # teacher excluded
    head_norm = dacs.model.decode_head.fuse_layer.bottleneck.bn.weight
    backbone_norm = dacs.model.backbone.block1[0].norm1.weight
    group_of = {id(p): g for g in groups for p in g['params']}
    assert (group_of[id(head_norm)]['lr'], group_of[id(head_norm)]['weight_decay']) == (pytest.approx(6e-4), 0.01)
    assert (group_of[id(backbone_norm)]['lr'], group_of[id(backbone_norm)]['weight_decay']) == (6e-5, 0.0)

    sched_cfg = Config.fromfile(str(BASE / 'schedules' / 'poly10warm.py')).param_scheduler[0].to_dict()
    scheduler = PARAM_SCHEDULERS.build(dict(sched_cfg, optimizer=optim_wrapper))
    for t in range(3):
        expected = poly_lr(6e-4, t, 40000, warmup='linear', warmup_iters=1500, warmup_ratio=1e-6)
        assert group_of[id(head_norm)]['lr'] == pytest.approx(expected, rel=1e-9)
        optim_wrapper.step()
        scheduler.step()


def test_default_runtime_uses_the_mmseg_scope_and_reference_log_interval():
    runtime = Config.fromfile(str(BASE / 'default_runtime.py'))
    assert runtime.default_scope == 'mmseg'
    assert runtime.default_hooks.logger.interval == 50
    assert runtime.default_hooks.checkpoint.interval == 40000


def test_entropy_balance_config_builds_with_the_ebda_constants():
    uda = Config.fromfile(str(BASE / 'uda' / 'dacs_a999_fdthings_eb.py')).uda.to_dict()
    dacs = MODELS.build(dict(uda, model=TINY_MODEL, max_iters=50000))
    assert dacs.entropy_balance == dict(target=0.4, weight=0.1, second_forward=False)
    assert dacs.alpha == 0.999 and dacs.fdist_lambda == 0.005
