"""tools/test.py and test.sh on our run directories and on legacy (original DAFormer) ones; mmseg.apis."""
import copy
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from mmseg.apis import find_run_files, inference_model, init_model, load_legacy_config
from mmseg.apis.train_config import runner_config
from mmseg.datasets import CITYSCAPES_PALETTE
from mmseg.evaluation.iou_metric import mean_iou
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
from tests.golden_utils import assert_matches, load_case
from tests.test_dacs import DACS_CFG, TINY_MODEL
from tests.test_datasets import make_cityscapes
from tools import test as test_tool

REPO_ROOT = Path(__file__).resolve().parents[1]
VAL = ['frankfurt/frankfurt_000000_000001', 'frankfurt/frankfurt_000000_000002', 'lindau/lindau_000000_000003']
TEST_PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'), dict(type='PackSegInputs')]


def cityscapes_val(root: Path) -> dict:
    return make_cityscapes(root, dict(val=VAL, test=['berlin/berlin_000000_000001']), size=(32, 48),
                           with_labels=('val', ))


def our_run_dir(tmp_path: Path) -> Path:
    """A run directory as our training leaves it: the dumped (folded) config and a checkpoint."""
    cityscapes_val(tmp_path / 'cityscapes')
    run = tmp_path / 'work_dirs' / 'local-basic' / '211121_1200_tiny_abcde'
    run.mkdir(parents=True)
    uda = {k: v for k, v in copy.deepcopy(DACS_CFG).items() if k not in ('model', 'max_iters')}
    cfg = Config(dict(
        default_scope='mmseg', work_dir=str(run), model=copy.deepcopy(TINY_MODEL), uda=uda,
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=4),
        test_dataloader=dict(batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                             dataset=dict(type='CityscapesDataset', data_root=str(tmp_path / 'cityscapes'),
                                          data_prefix=dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
                                          pipeline=TEST_PIPELINE)),
        test_evaluator=dict(type='IoUMetric')))
    folded = runner_config(cfg)
    folded.dump(str(run / f'{run.name}.py'))
    register_all_modules(init_default_scope=False)
    torch.manual_seed(0)
    dacs = MODELS.build(folded.model)
    for module in dacs.model.modules():  # non-trivial statistics so a wrong prefix would show
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
    torch.save(dict(meta=dict(iter=4), state_dict=dacs.state_dict()), run / 'iter_4.pth')
    torch.save(dict(meta=dict(iter=2), state_dict=dacs.state_dict()), run / 'iter_2.pth')
    (run / 'last_checkpoint').write_text(str(run / 'iter_4.pth'))
    return run


def run_test_sh(run_dir: Path, *extra: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHON=sys.executable)
    result = subprocess.run(['sh', str(REPO_ROOT / 'test.sh'), str(run_dir), *extra], capture_output=True,
                            text=True, env=env, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_find_run_files_prefers_latest_then_mmengine_pointer_then_highest_iteration(tmp_path):
    run = tmp_path / '211108_1622_gta2cs_daformer_s0_7f24c'
    run.mkdir()
    for name in ('iter_2.pth', 'iter_10.pth', '211108_1622_gta2cs_daformer_s0_7f24c.json'):
        (run / name).write_text('x')
    assert find_run_files(run) == (run / '211108_1622_gta2cs_daformer_s0_7f24c.json', run / 'iter_10.pth')
    (run / 'last_checkpoint').write_text('/elsewhere/iter_2.pth')
    assert find_run_files(run).checkpoint == run / 'iter_2.pth'
    (run / 'latest.pth').write_text('x')
    assert find_run_files(str(run) + '/').checkpoint == run / 'latest.pth'
    (run / 'other.json').write_text('{}')
    (run / 'a.py').write_text('')
    assert find_run_files(run).config.name.endswith('7f24c.json')
    benchmark_run = tmp_path / 'dacs_s0'  # a synth benchmark run: the config is not named after the folder
    benchmark_run.mkdir()
    for name in ('261121_1310_synth_gta2cs_dacs_rcs_008e4.py', 'test_results.json', 'iter_4.pth'):
        (benchmark_run / name).write_text('x')
    assert find_run_files(benchmark_run).config.name == '261121_1310_synth_gta2cs_dacs_rcs_008e4.py'
    (tmp_path / 'empty').mkdir()
    (tmp_path / 'empty' / 'empty.py').write_text('')
    with pytest.raises(FileNotFoundError, match='no checkpoint'):
        find_run_files(tmp_path / 'empty')
    with pytest.raises(FileNotFoundError, match='Run directory not found'):
        find_run_files(tmp_path / 'missing')


def test_test_sh_evaluates_our_run_dir_and_writes_predictions_and_results(tmp_path):
    run = our_run_dir(tmp_path)
    result = run_test_sh(run)
    assert f'Checkpoint File: {run / "iter_4.pth"}' in result.stdout
    assert 'per class results' in result.stdout + result.stderr
    model = init_model(run / f'{run.name}.py', run / 'iter_4.pth')
    images = [tmp_path / 'cityscapes' / 'leftImg8bit' / 'val' / f'{stem}_leftImg8bit.png' for stem in VAL]
    predictions = [sample.pred_sem_seg.data[0].numpy() for sample in inference_model(model, [str(p) for p in images])]
    labels = []
    for stem, expected in zip(VAL, predictions):
        written = np.array(Image.open(run / 'preds' / f'{stem}_labelTrainIds.png'))
        np.testing.assert_array_equal(written, expected)
        colour = cv2.imread(str(run / 'preds' / f'{stem}_leftImg8bit.png'))  # opacity 1: palette colours, BGR
        np.testing.assert_array_equal(colour[..., ::-1], np.asarray(CITYSCAPES_PALETTE, np.uint8)[expected])
        labels.append(np.array(Image.open(tmp_path / 'cityscapes' / 'gtFine' / 'val' /
                                          f'{stem}_gtFine_labelTrainIds.png')))
    record = json.loads((run / 'test_results.json').read_text())
    assert record['images'] == 3 and record['checkpoint'] == str(run / 'iter_4.pth')
    reference = mean_iou(predictions, labels, 19, 255)
    expected_miou = round(float(np.nanmean(reference['IoU'])) * 100, 2)
    assert record['metrics']['mIoU'] == expected_miou
    road = reference['IoU'][0]
    assert record['metrics']['IoU.road'] == (None if np.isnan(road) else round(float(road) * 100, 2))


def test_format_only_on_the_test_set_writes_server_files(tmp_path):
    run = our_run_dir(tmp_path)
    run_test_sh(run, '--test-set', '--format-only')
    server = run / 'format_results' / 'berlin_000000_000001_leftImg8bit.png'
    written = Image.open(server)
    assert written.mode == 'P'
    label_ids = np.array(written)
    assert set(np.unique(label_ids)) <= {7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33}
    assert zipfile.ZipFile(run / 'format_results.zip').namelist() == ['berlin_000000_000001_leftImg8bit.png']
    assert not (run / 'test_results.json').exists()
    train_ids = np.array(Image.open(run / 'preds' / 'berlin' / 'berlin_000000_000001_labelTrainIds.png'))
    np.testing.assert_array_equal(label_ids, test_tool.TRAIN_ID_TO_LABEL_ID[train_ids])


def legacy_run_dir(tmp_path: Path, with_meta: bool) -> Path:
    """A run directory as released with the original DAFormer: JSON config (mmcv 1.x), latest.pth."""
    case = load_case('dacs_checkpoint_mitb0')
    cityscapes_val(tmp_path / 'cityscapes')
    run = tmp_path / '211108_1622_gta2cs_daformer_s0_7f24c'
    run.mkdir()
    model = copy.deepcopy(case['config']['model'])
    model['decode_head']['type'] = 'UniHead'  # renamed by update_legacy_cfg, as for early releases
    model['decode_head']['decoder_params']['fusion_cfg']['fusion'] = True
    model['backbone']['ema_drop_path_rate'] = 0.0
    model['pretrained'] = 'pretrained/mit_b0.pth'
    norm = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
    test_pipeline = [dict(type='LoadImageFromFile'),
                     dict(type='MultiScaleFlipAug', img_scale=(48, 32), flip=False,
                          transforms=[dict(type='Resize', keep_ratio=True), dict(type='RandomFlip'),
                                      dict(type='Normalize', **norm), dict(type='ImageToTensor', keys=['img']),
                                      dict(type='Collect', keys=['img'])])]
    data_test = dict(type='CityscapesDataset', data_root=str(tmp_path / 'cityscapes'), img_dir='leftImg8bit/val',
                     ann_dir='gtFine/val', pipeline=test_pipeline)
    legacy = dict(model=model, uda=dict(case['config'], model=None), img_norm_cfg=norm, crop_size=[32, 32],
                  data=dict(samples_per_gpu=2, workers_per_gpu=0,
                            train=dict(type='UDADataset', source=dict(type='GTADataset'), target={}),
                            val=data_test, test=data_test),
                  runner=dict(type='IterBasedRunner', max_iters=40000), name=run.name, exp='basic', seed=0)
    (run / f'{run.name}.json').write_text(json.dumps(legacy))
    checkpoint = dict(state_dict=case['state_dict'], optimizer={})
    if with_meta:
        checkpoint['meta'] = dict(CLASSES=[f'class{i}' for i in range(19)], PALETTE=CITYSCAPES_PALETTE,
                                  mmseg_version='0.16.0+e6f6e04', iter=40000)
    torch.save(checkpoint, run / 'latest.pth')
    return run


@pytest.mark.parametrize('with_meta', [True, False])
def test_legacy_run_dir_gives_the_reference_logits_and_evaluates_with_test_sh(tmp_path, with_meta):
    case = load_case('dacs_checkpoint_mitb0')
    run = legacy_run_dir(tmp_path, with_meta)
    config, checkpoint = find_run_files(run)
    model = init_model(config, checkpoint)
    assert model.decode_head.__class__.__name__ == 'DAFormerHead'
    expected_classes = [f'class{i}' for i in range(19)] if with_meta else None
    assert (list(model.dataset_meta['classes']) == expected_classes) if with_meta else \
        model.dataset_meta['classes'][0] == 'road'
    with torch.no_grad():
        logits = model.encode_decode(case['inputs']['img'], case['inputs']['img_metas'])
    assert_matches(logits, case['outputs']['encode_decode'], case['atol'], case['rtol'], 'legacy encode_decode')

    run_test_sh(run)
    record = json.loads((run / 'test_results.json').read_text())
    assert record['images'] == 3 and 0 <= record['metrics']['mIoU'] <= 100
    image = tmp_path / 'cityscapes' / 'leftImg8bit' / 'val' / f'{VAL[0]}_leftImg8bit.png'
    expected = inference_model(model, str(image)).pred_sem_seg.data[0].numpy()
    np.testing.assert_array_equal(np.array(Image.open(run / 'preds' / f'{VAL[0]}_labelTrainIds.png')), expected)


def test_legacy_config_translation_reads_model_norm_and_test_data(tmp_path):
    run = legacy_run_dir(tmp_path, with_meta=False)
    cfg = load_legacy_config(run / f'{run.name}.json')
    assert cfg.model.decode_head.type == 'DAFormerHead' and 'fusion' not in cfg.model.decode_head.decoder_params.fusion_cfg
    assert 'ema_drop_path_rate' not in cfg.model.backbone and cfg.model.pretrained is None
    assert cfg.model.data_preprocessor.bgr_to_rgb is True
    dataset = cfg.test_dataloader.dataset
    assert dataset.data_prefix == dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val')
    assert dataset.pipeline[1] == dict(type='Resize', scale=(48, 32), keep_ratio=True)
    assert cfg.crop_size == (32, 32) and cfg.test_evaluator.with_miou16 is False
    bad = json.loads((run / f'{run.name}.json').read_text())
    del bad['data']['test']
    (tmp_path / 'bad.json').write_text(json.dumps(bad))
    with pytest.raises(KeyError, match='data.test'):
        load_legacy_config(tmp_path / 'bad.json')


def test_slide_inference_mode_and_cfg_options(tmp_path):
    run = our_run_dir(tmp_path)
    whole = test_tool.main([str(run), '--eval', 'mIoU'])
    slide = test_tool.main([str(run), '--eval', 'mIoU', '--inference-mode', 'slide',
                            '--cfg-options', 'crop_size=(32,32)'])
    assert set(whole) == set(slide) and 'IoU.road' in whole
    with pytest.raises(KeyError, match='crop_size'):
        test_tool.main([str(run), '--eval', 'mIoU', '--inference-mode', 'slide'])


def test_checkpoint_of_another_model_lists_missing_and_unexpected_keys(tmp_path):
    run = our_run_dir(tmp_path)
    torch.save(dict(state_dict={'encoder.layer1.weight': torch.zeros(1), 'model.backbone.block1.0.norm1.weight':
                                torch.ones(8)}), tmp_path / 'foreign.pth')
    with pytest.raises(ValueError, match=r"(?s)neither our checkpoint layout nor the reference's.*missing \(\d+\): "
                                         r"\['backbone.*unexpected \(1\): \['encoder.layer1.weight'\]"):
        init_model(run / f'{run.name}.py', tmp_path / 'foreign.pth')


def test_argument_errors(tmp_path, capsys):
    with pytest.raises(SystemExit):
        test_tool.main(['cfg.py', 'ckpt.pth', '--out', 'results.json'])
    assert '--out is the folder of the predicted label maps' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        test_tool.main(['cfg.py', 'ckpt.pth', '--test-set', '--eval', 'mIoU'])
    assert 'no labels' in capsys.readouterr().err


def test_acdc_and_dark_zurich_submissions_hold_train_ids(tmp_path):
    label = np.array([[0, 13, 18], [255, 2, 10]], np.uint8)
    test_tool.format_result(label, '/data/acdc/rgb_anon/test/GOPR0122_frame_000161_rgb_anon.png', tmp_path,
                            to_label_id=False, palette=CITYSCAPES_PALETTE)
    written = Image.open(tmp_path / 'GOPR0122_frame_000161_rgb_anon.png')
    assert written.mode == 'P' and np.array(written).tolist() == label.tolist()
    assert written.getpalette()[13 * 3:14 * 3] == [0, 0, 142]  # car
    test_tool.format_result(label, 'x_leftImg8bit.png', tmp_path, to_label_id=True, palette=CITYSCAPES_PALETTE)
    assert np.array(Image.open(tmp_path / 'x_leftImg8bit.png')).tolist() == [[7, 26, 33], [0, 11, 23]]
    assert test_tool.server_uses_label_ids('CityscapesDataset')
    assert not test_tool.server_uses_label_ids('ACDCDataset') and not test_tool.server_uses_label_ids('DarkZurichDataset')
