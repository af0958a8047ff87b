"""run_experiments.py: generated run configs, --debug / --startup-test overrides, --work-dir, --resume.

The ``--exp ID --startup-test`` tests generate every member but, to keep ``make test`` within its time budget,
train a representative subset of them (the members whose code paths the others share);
``UDA_SEG_SLOW_TESTS=1`` trains every member.
"""
import os
from pathlib import Path

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

import experiments
import run_experiments
from mmseg.apis.run_dir import latest_checkpoint
from tests.test_train_runner import experiment_config

REPO_ROOT = Path(__file__).resolve().parents[1]
GTA_FINAL = REPO_ROOT / 'configs' / 'daformer' / 'gta2cs_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0.py'
TRAIN_EVERY_MEMBER = os.environ.get('UDA_SEG_SLOW_TESTS') == '1'


@pytest.fixture
def runners(monkeypatch):
    """The Runners that tools/train.py builds, each with ``start_iter``, the iteration it began at."""
    built = []

    class RecordingRunner(Runner):

        def load_or_resume(self):
            super().load_or_resume()
            self.start_iter = self.iter
            built.append(self)

    monkeypatch.setattr(run_experiments.train, 'Runner', RecordingRunner)
    return built


def tiny_config(root: Path, max_iters: int = 1, validate: bool = True) -> Path:
    """A 2-image UDA experiment config on generated data, named like a final config (exp 7)."""
    cfg = experiment_config(root, max_iters=max_iters)
    cfg.name = 'tiny_exp'
    cfg.exp = 7
    cfg.pop('work_dir')
    if not validate:
        cfg.train_cfg.val_interval = 100
    path = root / 'tiny_exp.py'
    path.write_text(''.join(f'{key} = {value!r}\n' for key, value in cfg.to_dict().items()))  # no yapf: quick
    return path


def roots(tmp_path: Path) -> list:
    return ['--gen-config-root', str(tmp_path / 'generated'), '--work-dir-root', str(tmp_path / 'work_dirs')]


def test_run_experiments_writes_the_run_config_and_trains(tmp_path):
    run_experiments.main(['--config', str(tiny_config(tmp_path))] + roots(tmp_path))
    generated = list((tmp_path / 'generated' / 'local-7').glob('*_tiny_exp_*.py'))
    assert len(generated) == 1
    run_cfg = Config.fromfile(str(generated[0]))
    assert run_cfg.work_dir == str(tmp_path / 'work_dirs' / 'local-7' / generated[0].stem)
    assert len(run_cfg.git_rev) in (40, len('unknown'))
    assert (Path(run_cfg.work_dir) / 'iter_1.pth').is_file()
    assert (Path(run_cfg.work_dir) / f'{generated[0].stem}.py').is_file()  # the config the run dumped


def test_debug_writes_its_overrides_into_the_generated_config(tmp_path):
    generated = run_experiments.generate_run_config(str(GTA_FINAL), tmp_path / 'generated', tmp_path / 'work_dirs',
                                                    debug=True)
    assert generated.parent.name == 'local-basic'
    text = generated.read_text()
    assert 'default_hooks = dict(logger=dict(interval=10))' in text
    assert 'train_cfg = dict(val_interval=200)' in text and 'uda = dict(debug_img_interval=10)' in text
    cfg = Config.fromfile(str(generated))
    assert cfg.default_hooks.logger == dict(type='LoggerHook', interval=10, log_metric_by_epoch=False)
    assert (cfg.train_cfg.val_interval, cfg.train_cfg.max_iters) == (200, 40000)
    assert cfg.uda.debug_img_interval == 10 and cfg.uda.alpha == 0.999
    assert cfg.log_level == 'INFO' and cfg.param_scheduler[0].end == 40000


def test_startup_test_writes_its_overrides_and_trains_two_iterations(tmp_path, runners):
    config = tiny_config(tmp_path, max_iters=5)
    run_experiments.main(['--config', str(config), '--startup-test', '--debug'] + roots(tmp_path))
    generated, = (tmp_path / 'generated' / 'local-7-startup').glob('*_tiny_exp_*.py')
    text = generated.read_text()
    assert 'log_level = ' + repr('ERROR') in text
    assert 'checkpoint=dict(by_epoch=False, interval=100, save_last=False)' in text
    cfg = Config.fromfile(str(generated))
    assert (cfg.train_cfg.max_iters, cfg.train_cfg.val_interval) == (2, 100)  # --startup-test wins over --debug
    assert (cfg.default_hooks.checkpoint.interval, cfg.default_hooks.checkpoint.save_last) == (100, False)
    assert cfg.default_hooks.logger.interval == 10 and cfg.uda.debug_img_interval == 10
    assert (cfg.param_scheduler[0].max_iters, cfg.param_scheduler[0].end) == (2, 2)  # the poly schedule follows
    assert cfg.work_dir == str(tmp_path / 'work_dirs' / 'local-7-startup' / generated.stem)
    runner, = runners
    assert (runner.start_iter, runner.iter, runner.model.local_iter) == (0, 2, 2)
    assert not list(Path(cfg.work_dir).glob('*.pth'))  # no checkpoint before iteration 100, no final one


def test_work_dir_is_honoured_and_resume_continues_the_run(tmp_path, runners):
    run_dir = tmp_path / 'my_run'
    config = tiny_config(tmp_path, max_iters=1, validate=False)
    run_experiments.main(['--config', str(config), '--work-dir', str(run_dir)] + roots(tmp_path))
    generated, = (tmp_path / 'generated' / 'local-7').glob('*_tiny_exp_*.py')
    assert Config.fromfile(str(generated)).work_dir == str(run_dir)
    assert (run_dir / 'iter_1.pth').is_file() and not (tmp_path / 'work_dirs').exists()

    run_experiments.main(['--resume', str(run_dir), '--cfg-options', 'train_cfg.max_iters=2',
                          'param_scheduler.0.max_iters=2', 'param_scheduler.0.end=2'])
    first, resumed = runners
    assert (first.start_iter, first.iter) == (0, 1)
    assert (resumed.start_iter, resumed.iter) == (1, 2)
    assert resumed.work_dir == str(run_dir)
    assert sorted(p.name for p in run_dir.glob('*.pth')) == ['iter_1.pth', 'iter_2.pth']
    assert (run_dir / 'last_checkpoint').read_text().strip().endswith('iter_2.pth')
    assert Config.fromfile(str(run_dir / f'{generated.stem}.py')).train_cfg.max_iters == 2  # re-dumped
    assert len(list((tmp_path / 'generated' / 'local-7').glob('*.py'))) == 1  # no new run was generated

    args = run_experiments.parse_args(['--config', str(config), '--resume', str(run_dir)])
    assert args.resume_from == run_dir / 'iter_2.pth'
    args = run_experiments.parse_args(['--resume', str(run_dir / 'iter_1.pth')])
    assert (args.resume_from, args.run_config) == (run_dir / 'iter_1.pth', run_dir / f'{generated.stem}.py')
    assert run_experiments.parse_args(['--config', str(config), '--resume']).resume is run_experiments.RESUME_LATEST


@pytest.mark.parametrize('argv, message', [
    ([], 'give --config CFG or --exp ID to start runs, or --resume RUN_DIR to continue one'),
    (['--resume'], 'give --config CFG or --exp ID to start runs, or --resume RUN_DIR to continue one'),
    (['--config', 'configs/nope.py'], '--config configs/nope.py: no such config file'),
    (['--resume', 'nope/iter_1.pth'], '--resume nope/iter_1.pth: no such checkpoint or run directory'),
    (['--resume', '{run}', '--startup-test'], '--debug and --startup-test start a new run'),
])
def test_missing_config_or_run_errors_clearly(argv, message, tmp_path, capsys):
    argv = [arg.format(run=tmp_path) for arg in argv]
    with pytest.raises(SystemExit) as exit_info:
        run_experiments.parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_resume_of_a_directory_without_checkpoint_or_config_errors_clearly(tmp_path, capsys):
    with pytest.raises(SystemExit):
        run_experiments.parse_args(['--resume', str(tmp_path)])
    assert 'no checkpoint (latest.pth, last_checkpoint or iter_<n>.pth)' in capsys.readouterr().err
    (tmp_path / 'iter_3.pth').touch()
    (tmp_path / 'iter_12.pth').touch()
    (tmp_path / 'a.py').touch()
    (tmp_path / 'b.py').touch()
    with pytest.raises(SystemExit):
        run_experiments.parse_args(['--resume', str(tmp_path)])
    assert "cannot tell the run config" in capsys.readouterr().err
    assert latest_checkpoint(tmp_path) == tmp_path / 'iter_12.pth'


def test_exp_writes_every_seed_of_an_experiment_and_lists_left_out_members(tmp_path, capsys, monkeypatch):
    run_experiments.main(['--exp', '7', '--dry-run', '--gen-config-root', str(tmp_path / 'generated')])
    configs = sorted((tmp_path / 'generated' / 'local-exp7').glob('*.py'))
    assert [c.name.split('_poly10warm_')[1][:2] for c in configs] == ['s0', 's1', 's2']
    cfg = Config.fromfile(str(configs[1]))
    assert cfg.randomness.seed == 1 and cfg.exp == 7 and cfg.val_evaluator.with_miou16
    assert cfg.name == configs[1].stem and cfg.work_dir == f'work_dirs/local-exp7/{configs[1].stem}'
    assert cfg.train_dataloader.dataset.source.type == 'SynthiaDataset'

    # every member of ID 5 exists now; a member waiting for a component would be listed
    monkeypatch.setitem(experiments.UNSUPPORTED_MEMBERS, 5, [experiments.Unsupported('gta2cs_x_s2', ('FooNet', ))])
    run_experiments.main(['--exp', '5', '--dry-run', '--seeds', '2', '--gen-config-root', str(tmp_path / 'gen5')])
    configs = list((tmp_path / 'gen5' / 'local-exp5').glob('*.py'))
    assert len(configs) == 7 and all(c.name.split('_')[-2] == 's2' for c in configs)
    assert 'left out (needs FooNet)' in capsys.readouterr().out


def test_exp_errors_name_the_valid_ids_or_the_missing_components(tmp_path, monkeypatch):
    with pytest.raises(SystemExit, match=r'unknown experiment ID 999; valid IDs: 1, 2, 3, '):
        run_experiments.main(['--exp', '999', '--dry-run', '--gen-config-root', str(tmp_path)])
    # an ID waiting for a component names it
    monkeypatch.setitem(experiments.PENDING_EXPERIMENTS, 999, ('a study', ('FooNet', )))
    with pytest.raises(SystemExit, match=r'needs components that do not exist yet: FooNet'):
        run_experiments.main(['--exp', '999', '--dry-run', '--gen-config-root', str(tmp_path)])


@pytest.fixture(scope='module')
def synthetic_pair(tmp_path_factory) -> Path:
    """A tiny synthetic pair (20 source, 4 target-train, 2 val images of 128x128)."""
    from tools import make_synthetic_data
    data = tmp_path_factory.mktemp('data') / 'synthetic'
    make_synthetic_data.main(['--out-dir', str(data), '--num', '20', '--num-target-train', '4', '--num-val', '2'])
    return data


@pytest.fixture
def trained_members(monkeypatch):
    """Restrict ``run_experiments.run_experiment`` to the members (loaded configs) for which the predicate the test
    assigns to ``trained_members.keep`` holds (every member with ``UDA_SEG_SLOW_TESTS=1``); records what it
    trained."""
    original = run_experiments.run_experiment

    class Subset(list):
        keep = None

    trained = Subset()

    def run_subset(configs, *args, **kwargs):
        keep = [c for c in configs if TRAIN_EVERY_MEMBER or trained.keep(Config.fromfile(str(c)))]
        trained.extend(keep)
        return original(keep, *args, **kwargs)

    monkeypatch.setattr(run_experiments, 'run_experiment', run_subset)
    return trained


def startup_runs(tmp_path: Path, folder: str) -> tuple:
    """The generated configs and the run directories of a start-up test in ``folder``."""
    configs = sorted((tmp_path / 'generated' / folder).glob('*.py'))
    runs = sorted((tmp_path / 'work_dirs' / folder).iterdir())
    # main() returned, so every training process exited 0 (a failed run raises SystemExit naming it)
    assert all(Config.fromfile(str(c)).train_cfg.max_iters == 2 for c in configs)
    logs = [log.read_text() for run in runs for log in run.glob('*/vis_data/scalars.json')]
    assert not [log for log in logs if 'mIoU' in log]  # no evaluation, as the reference
    return configs, runs


def test_exp_startup_test_trains_every_synthetic_variant_two_iterations(tmp_path, synthetic_pair, trained_members):
    # trained in CI: entropy balancing on DACS + RCS, and MIC(HRDA) (their code paths cover the other five)
    trained_members.keep = lambda cfg: cfg.name_uda == 'dacs_eb_rcs0.01' or (
        cfg.name_uda.endswith('spta') and cfg.name_architecture.startswith('hrda'))
    run_experiments.main(['--exp', '200', '--startup-test', '--synth-data-dir', str(synthetic_pair), *roots(tmp_path),
                          '--cfg-options', 'train_dataloader.batch_size=2'])
    configs, runs = startup_runs(tmp_path, 'local-exp200-startup')
    assert len(configs) == 7  # seed 0 of each variant: SO, DACS, +RCS, +EB, HRDA, MIC, MIC(HRDA)
    assert len(runs) == len(trained_members) == (7 if TRAIN_EVERY_MEMBER else 2)
    cfg = Config.fromfile(str(configs[0]))
    assert cfg.train_dataloader.dataset.source.data_root == f'{synthetic_pair}/gta/'
    assert cfg.val_dataloader.dataset.data_root == f'{synthetic_pair}/cityscapes/'


def test_uda_startup_test_runs_every_variant_on_the_synthetic_pair(tmp_path, synthetic_pair, trained_members):
    """The acceptance command `run_experiments.py --exp 101 --startup-test --data synth`, on a tiny pair."""
    # trained in CI: the plain segmentor and the full strategy (FD on thing classes, RCS, crop, EB); MiT-B5 runs
    trained_members.keep = lambda cfg: cfg.name_uda in ('target-only', 'dacs_a999_fdthings_eb_rcs0.01_cpl')
    run_experiments.main(['--exp', '101', '--startup-test', '--data', 'synth', '--synth-data-dir', str(synthetic_pair),
                          *roots(tmp_path)])
    configs, runs = startup_runs(tmp_path, 'local-exp101-synth-startup')
    assert len(configs) == 9  # every UDA variant of ID 101, seed 0
    assert len(runs) == len(trained_members) == (9 if TRAIN_EVERY_MEMBER else 2)
    by_uda = {Config.fromfile(str(c)).name_uda: Config.fromfile(str(c)) for c in configs}
    assert set(by_uda) == {'target-only', 'dacs_srconly', 'dacs_srconly_aug', 'dacs_rcsinf', 'dacs_fd', 'dacs_fdthings',
                           'dacs_fdthings_rcs0.01', 'dacs_a999_fdthings_rcs0.01_cpl',
                           'dacs_a999_fdthings_eb_rcs0.01_cpl'}
    target_only = by_uda['target-only']
    assert target_only.train_dataloader.dataset.data_root == f'{synthetic_pair}/cityscapes/'
    assert target_only.train_dataloader.dataset.data_prefix.img_path == 'leftImg8bit/train'
    final = by_uda['dacs_a999_fdthings_eb_rcs0.01_cpl']
    assert final.model.pretrained is None and final.model.backbone.type == 'mit_b5'
    assert final.train_dataloader.dataset.rare_class_sampling.min_pixels == 30
    assert (final.uda.pseudo_weight_ignore_top, final.uda.pseudo_weight_ignore_bottom) == (4, 30)  # 15, 120 of 512
    assert final.train_dataloader.num_workers == 2
    assert final.name[len('yymmdd_HHMM_'):].startswith('synthetic_gta2cs_128x128_dacs_a999')


def test_data_synth_without_the_pair_says_how_to_make_it(tmp_path):
    with pytest.raises(SystemExit, match=r'no synthetic pair in .*nowhere.*make_synthetic_data.py --out-dir'):
        run_experiments.main(['--exp', '101', '--startup-test', '--data', 'synth', '--synth-data-dir',
                              str(tmp_path / 'nowhere'), *roots(tmp_path)])
    with pytest.raises(SystemExit):
        run_experiments.parse_args(['--config', str(GTA_FINAL), '--data', 'synth'])


def test_a_failed_run_is_reported_and_the_next_one_starts(tmp_path):
    broken = tmp_path / 'broken.py'
    broken.write_text("model = dict(type='NoSuchModel')\n")
    outcomes = run_experiments.run_experiment([broken, tmp_path / 'missing.py'], [])
    assert [config for config, _ in outcomes] == [broken, tmp_path / 'missing.py']
    assert all(code != 0 for _, code in outcomes)


def test_parallel_runs_keep_the_order_and_write_one_log_each(tmp_path, capsys):
    broken = tmp_path / 'broken.py'
    broken.write_text("model = dict(type='NoSuchModel')\n")
    outcomes = run_experiments.run_experiment([broken, tmp_path / 'missing.py'], [], jobs=2)
    assert [config for config, _ in outcomes] == [broken, tmp_path / 'missing.py']
    assert all(code != 0 for _, code in outcomes)
    assert 'NoSuchModel' in (tmp_path / 'broken.log').read_text()
    assert (tmp_path / 'missing.log').is_file()
    assert capsys.readouterr().out.count('FAILED') == 2
    with pytest.raises(SystemExit):
        run_experiments.parse_args(['--exp', '5', '--jobs', '0'])


def test_gpus_trains_under_torchrun_and_amp_reaches_train_py(tmp_path, monkeypatch):
    config = Path('c.py')
    single = run_experiments.train_command(config, ['--amp', 'auto'])
    assert single[1:] == [str(run_experiments.REPO_ROOT / 'tools' / 'train.py'), 'c.py', '--amp', 'auto']
    multi = run_experiments.train_command(config, ['--amp', 'auto'], gpus=2)
    assert multi[1:6] == ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2']
    assert multi[6:] == [str(run_experiments.REPO_ROOT / 'tools' / 'train.py'), 'c.py', '--launcher', 'pytorch',
                         '--amp', 'auto']
    calls = []
    monkeypatch.setattr(run_experiments.train, 'main', calls.append)
    run_experiments.main(['--config', str(GTA_FINAL), '--amp', '--cfg-options', 'train_cfg.max_iters=3',
                          *roots(tmp_path)])
    assert calls[0][1:] == []  # every override is in the generated config
    generated = Config.fromfile(calls[0][0])
    assert (generated.optim_wrapper.type, generated.optim_wrapper.dtype) == ('MixedPrecisionOptimWrapper', 'auto')
    assert generated.train_cfg.max_iters == generated.param_scheduler[0].end == 3
    for bad in (['--exp', '200', '--gpus', '2', '--jobs', '2'], ['--exp', '200', '--gpus', '0'],
                ['--config', str(GTA_FINAL), '--amp', 'fp8']):
        with pytest.raises(SystemExit):
            run_experiments.parse_args(bad)
