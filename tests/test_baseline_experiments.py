"""The experiments of the output-space baselines: AdvSeg / MinEnt as HRDA 41 and MIC 81 train them (SGD, colour-augmented
source, two optimisers), the CNN ladder on the synthetic pair (202) and a two-iteration start-up of its MinEnt member
on a tiny pair."""
from pathlib import Path

import torch
from mmengine.config import Config

import run_experiments
from experiments import generate_experiment_cfgs
from mmseg.apis.train_config import runner_config
from mmseg.registry import MODELS
from tests.test_experiments import configs_root, load, mmseg_scope  # noqa: F401  (fixtures)
from tests.test_run_experiments import synthetic_pair  # noqa: F401  (fixture)

LADDER_UDA = ['dacs_srconly', 'advseg_ndf16', 'minent', 'dacs_rcs0.01']


def test_adversarial_member_of_81_trains_with_sgd_on_colour_augmented_source_and_mic(configs_root):  # noqa: F811
    cfg = generate_experiment_cfgs(81)[0]
    assert cfg['name'] == 'gtaCAug2cs_advseg_m32-07-spta_dlv2red_r101v1c_poly10warm_sgd_00025_pmF_s0'
    loaded = load(cfg, configs_root)
    assert loaded.optim_wrapper.optimizer == dict(type='SGD', lr=0.0025, momentum=0.9, weight_decay=0.0005)
    assert loaded.optim_wrapper.paramwise_cfg.custom_keys == {}  # no head lr multiplier (pmF)
    dataset = loaded.train_dataloader.dataset
    assert 'PhotoMetricDistortion' in [t.type for t in dataset.source.pipeline]
    assert 'PhotoMetricDistortion' not in [t.type for t in dataset.target.pipeline]
    runner_cfg = runner_config(loaded)
    assert set(runner_cfg.optim_wrapper) >= {'segmentor', 'discriminator'}
    disc_schedule, = runner_cfg.param_scheduler['discriminator']
    assert (disc_schedule.power, disc_schedule.max_iters) == (0.9, 40000)
    assert runner_cfg.param_scheduler['segmentor'][0].warmup_iters == 1500  # poly10warm
    with torch.device('meta'):
        advseg = MODELS.build(runner_cfg.model)
    assert type(advseg).__name__ == 'AdvSeg' and advseg.mic.teacher is not None  # MIC with its own teacher
    assert advseg.mic.mask_gen.mask_block_size == 32


def test_cnn_ladder_has_four_methods_with_three_seeds_on_the_tiny_dlv2():
    cfgs = generate_experiment_cfgs(202)
    assert [cfg['name_uda'] for cfg in cfgs] == [uda for uda in LADDER_UDA for _ in range(3)]
    assert [cfg['randomness']['seed'] for cfg in cfgs] == [0, 1, 2] * 4
    assert cfgs[3]['name'] == 'synthetic_gta2cs_128x128_advseg_ndf16_dlv2red_r18v1c_tiny_synth_adamw_2k_00006_pmF_s0'
    assert '_base_/models/dlv2red_r18v1c_tiny.py' in cfgs[0]['_base_']
    assert cfgs[3]['uda'] == dict(discriminator=dict(type='FCDiscriminator', ndf=16))
    assert all(cfg['train_cfg']['max_iters'] == 2000 and cfg['train_dataloader']['batch_size'] == 8 for cfg in cfgs)


def test_entropy_member_trains_two_iterations_on_a_tiny_pair(tmp_path: Path, synthetic_pair):  # noqa: F811
    """The generated MinEnt run through tools/train.py (AdvSeg through the Runner: test_advseg's resume test)."""
    configs = run_experiments.generate_experiment_configs(202, tmp_path / 'generated', tmp_path / 'work_dirs',
                                                          startup_test=True, synth_data_dir=synthetic_pair)
    members = {Config.fromfile(str(path)).name_uda: path for path in configs}
    assert sorted(members) == sorted(LADDER_UDA)
    options = ['--cfg-options', 'train_dataloader.batch_size=2', 'default_hooks.logger.interval=1']
    run_experiments.train_run(members['minent'], options, gpus=1)
    run_dir, = (tmp_path / 'work_dirs' / 'local-exp202-startup').glob('*_minent_*')
    assert 'ent.loss.main' in next(run_dir.glob('*/vis_data/scalars.json')).read_text()
