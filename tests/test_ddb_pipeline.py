"""The one-command DDB pipeline on the embedded pair at tiny sizes: both rounds end to end with the hand-over in the
manifest, a rerun skips every finished stage, a stage killed mid-run resumes to the weights of an uninterrupted run,
other options on the folder are refused; ST runs at once on disjoint GPUs when there are enough."""
import json
from pathlib import Path

import pytest
import torch

import run_experiments
from mmseg.engine.training_state_hook import TrainingStateHook
from tests.ddb_helpers import tiny_synthetic_pair
from tools import compute_prototypes, ddb_pipeline, train

REPO_ROOT = Path(__file__).resolve().parents[1]
PIPELINE = REPO_ROOT / 'configs' / 'ddb' / 'synth_gta2cs_ddb.py'
# 2 iterations per stage (a checkpoint after each), batch 1, a model of half the width of the synthetic configs',
# no debug panels
OPTIONS = ['--iters', '2', '--cfg-options', 'train_dataloader.batch_size=1', 'model.backbone.stem_channels=8',
           'model.backbone.base_channels=8', 'model.decode_head.in_channels=64', 'model.decode_head.channels=16',
           'uda.debug_img_interval=0']
TRAIN_STAGES = ['r1_st_cu', 'r1_st_ca', 'r1_ckd', 'r2_st_cu', 'r2_st_ca', 'r2_ckd']


class Killed(Exception):
    """Stands in for a killed process."""


def _weights(path: Path) -> dict:
    return torch.load(path, map_location='cpu', weights_only=False)['state_dict']


def _run(folder: Path, *extra: str) -> dict:
    run_experiments.main(['--config', str(PIPELINE), '--work-dir', str(folder), *OPTIONS, *extra])
    return json.loads((folder / 'manifest.json').read_text())


def test_the_pipeline_hands_over_resumes_a_killed_stage_exactly_and_skips_finished_stages(tmp_path_factory,
                                                                                         monkeypatch, capsys):
    data = tiny_synthetic_pair(tmp_path_factory)
    monkeypatch.chdir(data.parent.parent)  # the configs read data/synthetic/
    folder = Path('ddb_run').resolve()
    after_train_iter = TrainingStateHook.after_train_iter

    def killed_in_r2_st_ca(hook, runner, batch_idx, data_batch=None, outputs=None):
        after_train_iter(hook, runner, batch_idx, data_batch, outputs)
        if runner.work_dir.endswith('r2_st_ca') and runner.iter == 1:  # iteration 2, before its checkpoint
            raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(TrainingStateHook, 'after_train_iter', killed_in_r2_st_ca)
        with pytest.raises(Killed):
            _run(folder)
    before = json.loads((folder / 'manifest.json').read_text())['stages']
    assert [name for name, entry in before.items() if entry['status'] == 'done'] == [
        'r1_st_cu', 'r1_st_ca', 'r1_proto_cu', 'r1_proto_ca', 'r1_ckd', 'r2_st_cu']
    assert before['r2_st_ca']['status'] == 'running'
    assert [p.name for p in (folder / 'r2_st_ca').glob('iter_*.pth')] == ['iter_1.pth']
    finished = {name: Path(entry['output']['path']) for name, entry in before.items() if 'output' in entry}
    mtimes = {name: path.stat().st_mtime_ns for name, path in finished.items()}
    capsys.readouterr()

    manifest = _run(folder)  # the same command again: the finished stages are skipped, ST-ca resumes
    printed = capsys.readouterr().out
    assert '[ddb] r1_ckd: finished, skipped' in printed and '[ddb] r2_st_ca: resuming' in printed
    stages = manifest['stages']
    assert {name: stages[name] for name in finished} == {name: before[name] for name in finished}
    assert {name: path.stat().st_mtime_ns for name, path in finished.items()} == mtimes
    assert list(stages) == ['r1_st_cu', 'r1_st_ca', 'r1_proto_cu', 'r1_proto_ca', 'r1_ckd', 'r2_st_cu', 'r2_st_ca',
                            'r2_proto_cu', 'r2_proto_ca', 'r2_ckd']
    assert all(entry['status'] == 'done' for entry in stages.values())
    output = {name: entry['output']['path'] for name, entry in stages.items()}
    assert stages['r1_ckd']['consumed'] == {
        'uda.cu_model_load_from': stages['r1_st_cu']['output'], 'uda.cu_proto_path': stages['r1_proto_cu']['output'],
        'uda.ca_model_load_from': stages['r1_st_ca']['output'], 'uda.ca_proto_path': stages['r1_proto_ca']['output']}
    assert stages['r2_st_ca']['consumed'] == {'uda.distilled_model_path': stages['r1_ckd']['output']}
    assert stages['r2_proto_ca']['consumed'] == {'checkpoint': stages['r2_st_ca']['output']}
    assert manifest['final_checkpoint'] == output['r2_ckd'] == str(folder / 'r2_ckd' / 'iter_2.pth')
    generated = (folder / 'configs' / 'r2_ckd.py').read_text()
    assert f"cu_model_load_from='{output['r2_st_cu']}'" in generated and f"ca_proto_path='{output['r2_proto_ca']}'" \
        in generated
    for name in TRAIN_STAGES:  # ordinary run directories that test.sh reads
        assert (folder / name / f'{name}.py').is_file() and (folder / name / 'iter_2.pth').is_file()
    assert torch.load(output['r1_proto_cu'], weights_only=True).shape == (19, 16)
    assert {'stu_model.decode_head.conv_seg.weight', 'cu_model.backbone.stem.0.weight'} <= set(
        _weights(output['r2_ckd']))
    assert _run(folder)['stages'] == stages  # and once more: nothing is redone

    # the killed and resumed ST-ca gave the weights of an uninterrupted run of its config
    ddb_pipeline.stop_loader_workers(train.main([str(folder / 'configs' / 'r2_st_ca.py'), '--work-dir',
                                                 str(tmp_path_factory.mktemp('uninterrupted'))]))
    uninterrupted = _weights(next(Path(tmp_path_factory.getbasetemp()).glob('uninterrupted*/iter_2.pth')))
    resumed = _weights(output['r2_st_ca'])
    assert resumed.keys() == uninterrupted.keys()
    assert [key for key in resumed if not torch.equal(resumed[key], uninterrupted[key])] == []


def test_a_folder_started_with_other_options_or_a_bad_pipeline_config_is_refused(tmp_path):
    folder = tmp_path / 'run'
    folder.mkdir()
    (folder / 'manifest.json').write_text(json.dumps(dict(stages={}, options=dict(
        iters=3, cfg_options=[], gpus=1, amp=None))))
    with pytest.raises(SystemExit, match=r'started with other options .*iters.: 3.*use another --work-dir'):
        ddb_pipeline.main([str(PIPELINE), '--work-dir', str(folder), '--iters', '4'])
    bad = tmp_path / 'bad_ddb.py'
    bad.write_text("ddb_pipeline = dict(rounds=[dict(st_cu='nowhere.py', st_ca='x.py')])\n")
    with pytest.raises(SystemExit, match=r'rounds must be a non-empty list of dict\(st_cu=..., st_ca=..., ckd=...\)'):
        ddb_pipeline.main([str(bad), '--work-dir', str(folder)])
    bad.write_text("ddb_pipeline = dict(rounds=[dict(st_cu='nowhere.py', st_ca='x.py', ckd='y.py')])\n")
    with pytest.raises(SystemExit, match=r"round 1: no such stage config: st_cu='nowhere.py'"):
        ddb_pipeline.main([str(bad), '--work-dir', str(folder)])
    with pytest.raises(SystemExit):  # run_experiments' own flags do not go with a pipeline
        run_experiments.main(['--config', str(PIPELINE), '--debug'])
    with pytest.raises(SystemExit, match=r'is a DDB pipeline config .*run_experiments.py --config'):
        train.main([str(PIPELINE), '--work-dir', str(folder)])


def test_the_two_st_runs_of_a_round_train_at_once_on_disjoint_gpus(tmp_path, monkeypatch):
    assert ddb_pipeline.parallel_st_runs(gpus=2, device_count=4) and not ddb_pipeline.parallel_st_runs(2, 3)
    launched = []

    class Process:
        def __init__(self, command, cwd, env, stdout, stderr):
            launched.append((command, env['CUDA_VISIBLE_DEVICES']))
            self.returncode = 0

        def wait(self):
            return 0

    monkeypatch.setattr(ddb_pipeline.subprocess, 'Popen', Process)
    pipeline = ddb_pipeline.Pipeline(str(PIPELINE), str(tmp_path), gpus=2)
    pipeline._train_parallel({'r1_st_cu': tmp_path / 'cu.py', 'r1_st_ca': tmp_path / 'ca.py'})
    assert [devices for _, devices in launched] == ['0,1', '2,3']
    assert all('torch.distributed.run' in command and '--nproc_per_node' in command for command, _ in launched)


def test_prototype_files_follow_the_reference_names():
    name = 'configs/ddb/gta2city/r2_st_ca_dlv2_r101v1c_1x4_512x512_40k_gta2city.py'
    assert compute_prototypes.default_output(name) == Path('prototypes/gta2city_round2/gta2city_st-ca_dlv2.pth')
    with pytest.raises(ValueError, match='give --out'):
        compute_prototypes.default_output('configs/ddb/synth_gta2cs_ddb.py')
