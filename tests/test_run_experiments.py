"""The final DAFormer config and run_experiments.py --config."""
import sys
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import run_experiments
from mmseg.apis.train_config import runner_config
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
from tests.test_train_runner import experiment_config

REPO_ROOT = Path(__file__).resolve().parents[1]
FINAL = REPO_ROOT / 'configs' / 'daformer' / 'gta2cs_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0.py'


def test_final_daformer_config_carries_the_reference_hyper_parameters():
    cfg = runner_config(Config.fromfile(str(FINAL)))
    uda = cfg.model
    assert (uda.type, uda.alpha, uda.max_iters) == ('DACS', 0.999, 40000)
    assert (uda.pseudo_weight_ignore_top, uda.pseudo_weight_ignore_bottom) == (15, 120)
    assert uda.imnet_feature_dist_lambda == 0.005 and uda.imnet_feature_dist_scale_min_ratio == 0.75
    assert uda.model.backbone.type == 'mit_b5' and uda.model.pretrained == 'pretrained/mit_b5.pth'
    data = cfg.train_dataloader
    assert data.batch_size == 2
    assert data.dataset.rare_class_sampling == dict(min_pixels=3000, class_temp=0.01, min_crop_ratio=0.5)
    assert data.dataset.source.pipeline[2] == dict(type='Resize', scale=(1280, 720), keep_ratio=True)
    assert cfg.optim_wrapper.optimizer.lr == 6e-5
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys.head.lr_mult == 10.0
    assert cfg.param_scheduler[0].warmup_iters == 1500 and cfg.train_cfg.val_interval == 4000
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmseg'), torch.device('meta'):
        dacs = MODELS.build(cfg.model)
    assert sum(p.numel() for p in dacs.model.parameters()) == sum(p.numel() for p in dacs.ema_model.parameters())


def test_run_experiments_writes_the_run_config_and_trains(tmp_path, monkeypatch):
    config = tmp_path / 'tiny_exp.py'
    cfg = experiment_config(tmp_path, max_iters=1)
    cfg.name = 'tiny_exp'
    cfg.exp = 7
    cfg.pop('work_dir')
    cfg.dump(str(config))
    run_experiments.main(['--config', str(config), '--gen-config-root', str(tmp_path / 'generated'),
                          '--work-dir-root', str(tmp_path / 'work_dirs')])
    generated = list((tmp_path / 'generated' / 'local-exp7').glob('*_tiny_exp_*.py'))
    assert len(generated) == 1
    run_cfg = Config.fromfile(str(generated[0]))
    assert run_cfg.work_dir == str(tmp_path / 'work_dirs' / 'local-exp7' / generated[0].stem)
    assert len(run_cfg.git_rev) in (40, len('unknown'))
    assert (Path(run_cfg.work_dir) / 'iter_1.pth').is_file()
