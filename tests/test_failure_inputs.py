"""Bad inputs fail early, naming the file, key or value: config keys and types, labels, RCS files, run
directories, checkpoint files."""
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
import torch
from mmengine.config import Config

import mmseg.datasets  # noqa: F401  (registers data sets and transforms)
import mmseg.engine  # noqa: F401
from mmseg.engine.config_check import ConfigError, check_train_config
from mmseg.registry import DATASETS
from mmseg.utils.safe_checkpoint_load import CorruptCheckpointError
from tests.test_checkpoint_safety import tiny_run_config
from tests.test_datasets import make_cityscapes
from tests.test_uda_dataset import PIPELINE, make_gta_with_rare_class

REPO_ROOT = Path(__file__).resolve().parents[1]
SYNTH_CONFIG = REPO_ROOT / 'configs' / 'synth' / 'synth_gta2cs_dacs_rcs.py'


def test_an_unknown_top_level_key_stops_train_py_before_anything_is_written(tmp_path):
    from tools import train
    config = tmp_path / 'typo.py'
    config.write_text(f"_base_ = ['{SYNTH_CONFIG}']\noptim_wraper = dict(type='OptimWrapper')\n")
    with pytest.raises(SystemExit, match=r"typo\.py: top-level config: unknown key\(s\) 'optim_wraper' "
                                         r"\(did you mean 'optim_wrapper'\?\)"):
        train.main([str(config), '--work-dir', str(tmp_path / 'run')])
    assert not (tmp_path / 'run').exists()


@pytest.mark.parametrize('key, value, message', [
    ('default_hooks.checkpoint.max_keep_ckpt', 1,
     r"default_hooks\.checkpoint \(CheckpointHook\): unknown key\(s\) 'max_keep_ckpt' \(did you mean 'max_keep_ckpts'"),
    ('default_hooks.logger.intervall', 10,
     r"default_hooks\.logger \(LoggerHook\): unknown key\(s\) 'intervall' \(did you mean 'interval'"),
    ('env_cfg.cudnn_benchmrk', False, r"env_cfg: unknown key\(s\) 'cudnn_benchmrk' \(did you mean 'cudnn_benchmark'"),
    ('randomness.sed', 1, r"randomness: unknown key\(s\) 'sed' \(did you mean 'seed'"),
    ('log_processor.window', 10, r"log_processor \(LogProcessor\): unknown key\(s\) 'window' \(did you mean "
                                 r"'window_size'"),
    ('train_cfg.max_iter', 10, r"train_cfg \(IterBasedTrainLoop\): unknown key\(s\) 'max_iter' \(did you mean "
                               r"'max_iters'"),
])
def test_unknown_hook_logger_and_runtime_options_are_named_with_the_nearest_key(key, value, message):
    cfg = Config.fromfile(str(SYNTH_CONFIG))
    cfg.merge_from_dict({key: value})
    with pytest.raises(ConfigError, match=message):
        check_train_config(cfg)


def test_the_checkpoint_hook_refuses_options_that_would_fail_at_the_first_save():
    from mmseg.engine import CheckpointHook
    with pytest.raises(ValueError,
                       match=r"CheckpointHook: unknown key\(s\) 'max_keep' \(did you mean 'max_keep_ckpts'"):
        CheckpointHook(interval=10, max_keep=1)


@pytest.mark.parametrize('key, value, message', [
    ('optim_wrapper.optimizer.lr', '6e-05', r"optim_wrapper\.optimizer\.lr = '6e-05' \(str\): expected a number "
                                            r"\(AdamW argument lr\)"),
    ('uda.pseudo_threshold', '0.968', r"uda\.pseudo_threshold = '0\.968' \(str\): expected a number"),
    ('train_cfg.max_iters', 2000.5, r'train_cfg\.max_iters = 2000\.5 \(float\): expected an integer'),
    ('train_dataloader.batch_size', '8', r"train_dataloader\.batch_size = '8' \(str\): expected a number"),
    ('param_scheduler.0.power', 'one', r"param_scheduler\[0\]\.power = 'one' \(str\): expected a number"),
])
def test_a_numeric_hyper_parameter_of_the_wrong_type_is_named_with_its_value(key, value, message):
    cfg = Config.fromfile(str(SYNTH_CONFIG))
    if key.startswith('param_scheduler'):
        cfg.param_scheduler[0]['power'] = value
    else:
        cfg.merge_from_dict({key: value})
    with pytest.raises(ConfigError, match=message):
        check_train_config(cfg)


def test_every_shipped_config_passes_the_start_up_checks():
    for path in sorted((REPO_ROOT / 'configs').rglob('*.py')):
        if '_base_' not in path.parts and 'generated' not in path.parts:
            check_train_config(Config.fromfile(str(path)))


@pytest.mark.parametrize('split', ['train', 'val'])
def test_a_label_id_outside_the_classes_is_named_with_its_file(tmp_path, split):
    make_cityscapes(tmp_path, dict(train=['c_000000_000001'], val=['v_000000_000001']))
    label = next((tmp_path / 'gtFine' / split).rglob('*_labelTrainIds.png'))
    ids = cv2.imread(str(label), cv2.IMREAD_UNCHANGED)
    ids[:2, :3] = 25
    cv2.imwrite(str(label), ids)
    dataset = DATASETS.build(dict(type='CityscapesDataset', data_root=str(tmp_path), test_mode=split == 'val',
                                  data_prefix=dict(img_path=f'leftImg8bit/{split}', seg_map_path=f'gtFine/{split}'),
                                  pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                                            dict(type='PackSegInputs')]))
    with pytest.raises(ValueError, match=rf"CityscapesDataset: label '{label}' holds id\(s\) 25 \(6 pixels\) "
                                         r'outside the classes 0\.\.18'):
        dataset[0]


def test_rcs_json_of_the_wrong_structure_names_the_file_and_the_expected_structure(tmp_path):
    make_gta_with_rare_class(tmp_path / 'gta')
    make_cityscapes(tmp_path / 'cityscapes', dict(train=['c_000000_000001']))
    cfg = dict(type='UDADataset', rare_class_sampling=dict(min_pixels=100, class_temp=0.01, min_crop_ratio=0.5),
               source=dict(type='GTADataset', data_root=str(tmp_path / 'gta'),
                           data_prefix=dict(img_path='images', seg_map_path='labels'), pipeline=PIPELINE),
               target=dict(type='CityscapesDataset', data_root=str(tmp_path / 'cityscapes'),
                           data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
                           pipeline=PIPELINE))
    stats_file = tmp_path / 'gta' / 'sample_class_stats.json'
    stats = json.loads(stats_file.read_text())
    stats_file.write_text(json.dumps({'0': stats}))
    with pytest.raises(ValueError, match=rf'{stats_file}: the top level is a dict; expected a list with one object '
                                         r'per image: \{"file"'):
        DATASETS.build(cfg)
    stats_file.write_text(json.dumps(stats))
    samples_file = tmp_path / 'gta' / 'samples_with_class.json'
    samples = json.loads(samples_file.read_text())
    samples_file.write_text(json.dumps({k: [entry[0] for entry in v] for k, v in samples.items()}))
    with pytest.raises(ValueError, match=rf"{samples_file}: class '\d+' lists '.*', not a \[file, pixel count\] "
                                         r'pair; expected an object mapping each class id'):
        DATASETS.build(cfg)


def test_test_sh_on_a_missing_directory_says_no_such_run_directory(tmp_path):
    missing = tmp_path / 'no_run'
    result = subprocess.run(['sh', str(REPO_ROOT / 'test.sh'), str(missing)], capture_output=True, text=True,
                            env=dict(os.environ, PYTHON=sys.executable))
    assert result.returncode == 2
    assert f'no such run directory: {missing}' in result.stderr


@pytest.mark.parametrize('kind', ['empty', 'truncated'])
def test_an_empty_or_truncated_checkpoint_is_named_by_the_test_demo_and_resume_paths(tmp_path, kind, capsys):
    from mmseg.apis import init_model
    from tools import check_pretrained, train
    config = tiny_run_config(tmp_path, max_iters=2, interval=2)
    checkpoint = tmp_path / 'iter_2.pth'
    torch.save(dict(state_dict=dict(w=torch.ones(64))), checkpoint)
    checkpoint.write_bytes(b'' if kind == 'empty' else checkpoint.read_bytes()[:200])
    problem = r'empty file \(0 bytes\)' if kind == 'empty' else 'truncated or corrupt checkpoint'
    expected = rf'{checkpoint}: {problem}'
    with pytest.raises(CorruptCheckpointError, match=expected):
        init_model(str(config), str(checkpoint))
    with pytest.raises(SystemExit, match=expected):  # before the runner is built
        train.main([str(config), '--resume', str(checkpoint), '--work-dir', str(tmp_path / 'run')])
    assert not (tmp_path / 'run').exists()
    assert check_pretrained.main([str(checkpoint)]) == 1
    assert f'[FAIL] {checkpoint}: ' in capsys.readouterr().out


def test_the_label_check_reads_each_file_once(tmp_path, monkeypatch):
    from mmseg.datasets.transforms import loading
    make_cityscapes(tmp_path, dict(train=['c_000000_000001']))
    dataset = DATASETS.build(dict(type='CityscapesDataset', data_root=str(tmp_path),
                                  data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
                                  pipeline=[dict(type='LoadAnnotations')]))
    calls = []
    real = loading.check_label_ids
    monkeypatch.setattr(loading, 'check_label_ids', lambda *args: calls.append(args[1]) or real(*args))
    for _ in range(3):
        dataset[0]
    assert len(calls) == 1


def test_helper_variables_of_a_configs_own_base_files_are_known_keys(tmp_path):
    (tmp_path / 'my_base.py').write_text("my_crop = (64, 64)\n")
    config = tmp_path / 'leaf.py'
    config.write_text(f"_base_ = ['{SYNTH_CONFIG}', './my_base.py']\n")
    check_train_config(Config.fromfile(str(config)))
    config.write_text(f"_base_ = ['{SYNTH_CONFIG}', './my_base.py']\nmy_cropp = (32, 32)\n")
    with pytest.raises(ConfigError, match=r"unknown key\(s\) 'my_cropp' \(did you mean 'my_crop'\?\)"):
        check_train_config(Config.fromfile(str(config)))
