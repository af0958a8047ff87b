"""The experiments of the output-space baselines: the CNN ladder on the synthetic pair (202), its configs and a
two-iteration start-up of its AdvSeg and MinEnt members on a tiny pair."""
from pathlib import Path

from mmengine.config import Config

import run_experiments
from experiments import generate_experiment_cfgs
from tests.test_run_experiments import synthetic_pair  # noqa: F401  (fixture)

LADDER_UDA = ['dacs_srconly', 'advseg_ndf16', 'minent', 'dacs_rcs0.01']


def test_cnn_ladder_has_four_methods_with_three_seeds_on_the_tiny_dlv2():
    cfgs = generate_experiment_cfgs(202)
    assert [cfg['name_uda'] for cfg in cfgs] == [uda for uda in LADDER_UDA for _ in range(3)]
    assert [cfg['randomness']['seed'] for cfg in cfgs] == [0, 1, 2] * 4
    assert cfgs[3]['name'] == 'synthetic_gta2cs_128x128_advseg_ndf16_dlv2red_r18v1c_tiny_synth_adamw_2k_00006_pmF_s0'
    assert '_base_/models/dlv2red_r18v1c_tiny.py' in cfgs[0]['_base_']
    assert cfgs[3]['uda'] == dict(discriminator=dict(type='FCDiscriminator', ndf=16))
    assert all(cfg['train_cfg']['max_iters'] == 2000 and cfg['train_dataloader']['batch_size'] == 8 for cfg in cfgs)


def test_adversarial_and_entropy_members_train_two_iterations_on_a_tiny_pair(tmp_path: Path,
                                                                             synthetic_pair):  # noqa: F811
    configs = run_experiments.generate_experiment_configs(202, tmp_path / 'generated', tmp_path / 'work_dirs',
                                                          startup_test=True, synth_data_dir=synthetic_pair)
    members = {Config.fromfile(str(path)).name_uda: path for path in configs}
    assert sorted(members) == sorted(LADDER_UDA)
    for uda in ('advseg_ndf16', 'minent'):
        options = ['--cfg-options', 'train_dataloader.batch_size=2', 'default_hooks.logger.interval=1']
        run_experiments.train_run(members[uda], options, gpus=1)
        run_dir, = (tmp_path / 'work_dirs' / 'local-exp202-startup').glob(f'*_{uda}_*')
        scalars = next(run_dir.glob('*/vis_data/scalars.json')).read_text()
        assert ('D_trg.loss.main' in scalars) == (uda == 'advseg_ndf16') and ('ent.loss.main' in scalars) == (
            uda == 'minent')
