"""The UDA / schedule / runtime base configs and the final experiment configs build as mmengine's
Runner builds them, with the reference hyper-parameters."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope

import mmseg.engine  # noqa: F401
import mmseg.models  # noqa: F401
from mmseg.apis.train_config import runner_config
from mmseg.engine.schedulers import poly_lr
from mmseg.registry import MODELS, PARAM_SCHEDULERS
from tests.test_dacs import TINY_MODEL

CONFIGS = Path(__file__).resolve().parents[1] / 'configs'
BASE = CONFIGS / '_base_'
FINAL_SUFFIX = '_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0.py'
THINGS = [6, 7, 11, 12, 13, 14, 15, 16, 17, 18]
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
    assert dacs.entropy_balance == dict(target=0.4, weight=0.1, second_forward=True)
    assert dacs.alpha == 0.999 and dacs.fdist_lambda == 0.005


def test_dacs_fd_and_fdthings_configs_keep_the_dacs_momentum():
    def build(name):
        uda = Config.fromfile(str(BASE / 'uda' / name)).uda.to_dict()
        dacs = MODELS.build(dict(uda, model=TINY_MODEL, max_iters=40000))
        assert dacs.imnet_model is not None
        return dacs.alpha, dacs.fdist_lambda, dacs.fdist_classes, dacs.fdist_scale_min_ratio

    assert build('dacs_fd.py') == (0.99, 0.005, None, None)  # all classes
    assert build('dacs_fdthings.py') == (0.99, 0.005, THINGS, 0.75)


# What distinguishes each final config: source/target data set, their resize scales, batch, iterations,
# evaluation interval and the reference data-set name.
FINAL = {
    'daformer/gta2cs': dict(source=('GTADataset', (1280, 720)), target=('CityscapesDataset', (1024, 512)),
                            val=('CityscapesDataset', (1024, 512)), batch=2, iters=40000, val_interval=4000,
                            name_dataset='gta2cityscapes'),
    'daformer/syn2cs': dict(source=('SynthiaDataset', (1280, 760)), target=('CityscapesDataset', (1024, 512)),
                            val=('CityscapesDataset', (1024, 512)), batch=2, iters=40000, val_interval=4000,
                            name_dataset='synthia2cityscapes'),
    'daformer/cs2acdc': dict(source=('CityscapesDataset', (1024, 512)), target=('ACDCDataset', (960, 540)),
                             val=('ACDCDataset', (960, 540)), batch=2, iters=40000, val_interval=4000,
                             name_dataset='cityscapes2acdc'),
    'daformer/cs2dzur': dict(source=('CityscapesDataset', (1024, 512)), target=('DarkZurichDataset', (960, 540)),
                             val=('DarkZurichDataset', (960, 540)), batch=2, iters=40000, val_interval=4000,
                             name_dataset='cityscapes2darkzurich'),
    'ebda/cs2acdc': dict(source=('CityscapesDataset', (1024, 512)), target=('ACDCDataset', (960, 540)),
                         val=('ACDCDataset', (960, 540)), batch=1, iters=50000, val_interval=2000,
                         name_dataset='cityscapes2acdc'),
}


def final_config(key: str) -> Config:
    folder, prefix = key.split('/')
    return Config.fromfile(str(CONFIGS / folder / f'{prefix}{FINAL_SUFFIX}'))


def resize_scale(pipeline) -> tuple:
    scale, = [step.scale for step in pipeline if step.type == 'Resize']
    return scale


@pytest.mark.parametrize('key', FINAL)
def test_final_config_builds_dacs_with_the_reference_hyper_parameters(key):
    expected = FINAL[key]
    raw = final_config(key)
    cfg = runner_config(raw)
    uda = cfg.model
    # The shared DAFormer recipe: DACS a999 + FD on things + plcrop + RCS, MiT-B5, AdamW, poly10warm.
    assert (uda.type, uda.alpha, uda.pseudo_threshold, uda.max_iters) == ('DACS', 0.999, 0.968, expected['iters'])
    assert (uda.pseudo_weight_ignore_top, uda.pseudo_weight_ignore_bottom) == (15, 120)
    assert (uda.imnet_feature_dist_lambda, uda.imnet_feature_dist_classes) == (0.005, THINGS)
    assert uda.imnet_feature_dist_scale_min_ratio == 0.75
    assert uda.model.backbone.type == 'mit_b5' and uda.model.pretrained == 'pretrained/mit_b5.pth'
    assert uda.model.decode_head.type == 'DAFormerHead' and uda.model.test_cfg == dict(mode='whole')
    data = cfg.train_dataloader
    assert data.dataset.rare_class_sampling == dict(min_pixels=3000, class_temp=0.01, min_crop_ratio=0.5)
    assert cfg.optim_wrapper.optimizer == dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01)
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys == DAFORMER_KEYS
    scheduler, = cfg.param_scheduler
    assert (scheduler.warmup_iters, scheduler.max_iters, scheduler.end) == (1500, expected['iters'], expected['iters'])
    assert cfg.randomness.seed == 0
    # What distinguishes this config.
    for domain in ('source', 'target'):
        dataset = data.dataset[domain]
        assert (dataset.type, resize_scale(dataset.pipeline)) == expected[domain]
        assert next(s for s in dataset.pipeline if s.type == 'RandomCrop').crop_size == (512, 512)
    assert (data.batch_size, cfg.train_cfg.max_iters) == (expected['batch'], expected['iters'])
    assert cfg.train_cfg.val_interval == expected['val_interval']
    assert (cfg.val_dataloader.dataset.type, resize_scale(cfg.val_dataloader.dataset.pipeline)) == expected['val']
    assert cfg.default_hooks.checkpoint.interval == expected['iters']
    # Reference naming metadata.
    assert raw.name == f'{key.split("/")[1]}{FINAL_SUFFIX[:-3]}' and raw.exp == 'basic'
    assert raw.name_dataset == expected['name_dataset']
    assert (raw.name_architecture, raw.name_encoder, raw.name_decoder) == ('daformer_sepaspp_mitb5', 'mitb5',
                                                                           'daformer_sepaspp')
    assert raw.name_uda == 'dacs_a999_fdthings_rcs0.01_cpl'
    assert raw.name_opt == 'adamw_6e-05_pmTrue_poly10warm_1x2_40k'  # stale 1x2_40k in EBDA, as the reference
    with torch.device('meta'):
        dacs = MODELS.build(cfg.model)
    assert dacs.max_iters == expected['iters'] and dacs.imnet_model is not None
    assert sum(p.numel() for p in dacs.model.parameters()) == sum(p.numel() for p in dacs.ema_model.parameters())


def test_synthia_config_reports_the_16_class_miou():
    cfg = final_config('daformer/syn2cs')
    assert cfg.val_evaluator == dict(type='IoUMetric', with_miou16=True) and cfg.test_evaluator == cfg.val_evaluator
    assert cfg.train_dataloader.dataset.source.data_prefix == dict(img_path='RGB', seg_map_path='GT/LABELS')
    assert final_config('daformer/gta2cs').val_evaluator == dict(type='IoUMetric')


def test_acdc_and_dark_zurich_targets_are_unlabelled_train_images():
    acdc = final_config('daformer/cs2acdc').train_dataloader.dataset.target
    assert acdc.data_prefix == dict(img_path='rgb_anon/train')
    assert 'LoadAnnotations' not in [step.type for step in acdc.pipeline]
    dzur = final_config('daformer/cs2dzur')
    assert dzur.train_dataloader.dataset.target.data_prefix == dict(img_path='rgb_anon/train/night/')
    assert dzur.val_dataloader.dataset.data_root == 'data/dark_zurich/'


def test_ebda_config_adds_entropy_balance_and_keeps_the_best_checkpoint():
    cfg = runner_config(final_config('ebda/cs2acdc'))
    assert cfg.model.entropy_balance == dict(target=0.4, weight=0.1, second_forward=True)
    assert cfg.default_hooks.checkpoint.save_best == 'mIoU' and cfg.default_hooks.checkpoint.rule == 'greater'
    assert cfg.train_dataloader.num_workers == 8 and cfg.val_dataloader.num_workers == 8
    assert cfg.test_dataloader.num_workers == 8 and cfg.test_dataloader.dataset.type == 'ACDCDataset'
    with torch.device('meta'):
        dacs = MODELS.build(cfg.model)
    assert dacs.entropy_balance == dict(target=0.4, weight=0.1, second_forward=True)
