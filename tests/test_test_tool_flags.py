"""tools/test.py with the mmsegmentation 1.x flags: evaluation by default, --work-dir, --out, --show, --tta,
--launcher pytorch (two CPU processes)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from mmseg.apis import inference_model, init_model
from mmseg.registry import TRANSFORMS
from mmseg.structures import SegDataSample
from mmseg.utils import register_all_modules
from tests.test_test_tool import VAL, our_run_dir
from tools import test as test_tool

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope='module')
def run(tmp_path_factory) -> Path:
    return our_run_dir(tmp_path_factory.mktemp('flags'))


def val_image(run: Path, stem: str) -> Path:
    return run.parents[2] / 'cityscapes' / 'leftImg8bit' / 'val' / f'{stem}_leftImg8bit.png'


def test_evaluates_by_default_into_work_dir_and_out_holds_label_maps(run, tmp_path):
    config, checkpoint = run / f'{run.name}.py', run / 'iter_4.pth'
    results = test_tool.main([str(config), str(checkpoint), '--work-dir', str(tmp_path / 'wd'),
                              '--out', str(tmp_path / 'labels'), '--device', 'cpu'])
    record = json.loads((tmp_path / 'wd' / 'test_results.json').read_text())
    assert record['metrics']['mIoU'] == results['mIoU'] and record['tta'] is False
    model = init_model(config, checkpoint)
    for stem in VAL:
        expected = inference_model(model, str(val_image(run, stem))).pred_sem_seg.data[0].numpy()
        written = np.array(Image.open(tmp_path / 'labels' / f'{stem}_labelTrainIds.png'))
        np.testing.assert_array_equal(written, expected)
    assert not list(tmp_path.glob('labels/**/*leftImg8bit.png'))  # --out: label maps only, no overlays


def test_show_puts_each_overlay_in_a_window(run, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv('DISPLAY', raising=False)
    monkeypatch.delenv('WAYLAND_DISPLAY', raising=False)
    with pytest.raises(SystemExit):
        test_tool.main([str(run), '--show'])
    assert '--show needs a display' in capsys.readouterr().err
    monkeypatch.setenv('DISPLAY', ':0')
    shown = []
    monkeypatch.setattr(test_tool.cv2, 'imshow', lambda name, image: shown.append(image.shape))
    monkeypatch.setattr(test_tool.cv2, 'setWindowTitle', lambda name, title: shown.append(title))
    monkeypatch.setattr(test_tool.cv2, 'waitKey', lambda ms: shown.append(ms))
    test_tool.main([str(run), '--show', '--wait-time', '0.5', '--work-dir', str(tmp_path), '--device', 'cpu'])
    assert shown[:3] == [(32, 48, 3), f'{VAL[0]}_leftImg8bit.png', 500] and len(shown) == 3 * len(VAL)


def test_tta_averages_the_softmax_over_scales_and_flips(run, tmp_path):
    register_all_modules(init_default_scope=False)
    pipeline = test_tool.tta_pipeline([dict(type='LoadImageFromFile'), dict(type='Resize', scale=(96, 64)),
                                       dict(type='LoadAnnotations'), dict(type='PackSegInputs')])
    aug = pipeline[1]
    assert aug['img_scale'] == (96, 64) and aug['img_ratios'] == list(test_tool.TTA_RATIOS) and aug['flip']
    # the run's pipeline has no Resize: scales of the image's own size
    transform = TRANSFORMS.build(dict(aug, img_scale=None, transforms=[dict(type='PackSegInputs')]))
    copies = transform(dict(img=np.zeros((32, 48, 3), np.uint8), img_shape=(32, 48), ori_shape=(32, 48)))
    metas = [sample.metainfo for sample in copies['data_samples']]
    assert [m['img_shape'] for m in metas[::2]] == [(16, 24), (24, 36), (32, 48), (40, 60), (48, 72), (56, 84)]
    assert [bool(m['flip']) for m in metas] == [False, True] * 6

    cfg = Config.fromfile(str(run / f'{run.name}.py'))  # a test scale twice the image size, as (1024, 512) is
    cfg.test_dataloader.dataset.pipeline.insert(1, dict(type='Resize', scale=(96, 64), keep_ratio=True))
    cfg.dump(str(tmp_path / 'scaled.py'))
    results = test_tool.main([str(tmp_path / 'scaled.py'), str(run / 'iter_4.pth'), '--tta', '--work-dir',
                              str(tmp_path), '--out', str(tmp_path / 'labels'), '--device', 'cpu'])
    assert json.loads((tmp_path / 'test_results_tta.json').read_text())['metrics']['mIoU'] == results['mIoU']
    model = init_model(tmp_path / 'scaled.py', run / 'iter_4.pth')
    bgr = cv2.imread(str(val_image(run, VAL[0])))  # 48 x 32
    probs = 0
    for ratio in test_tool.TTA_RATIOS:  # the 12 copies by hand: resize, flip, predict (un-flips), softmax, mean
        resized = cv2.resize(bgr, (int(96 * ratio), int(64 * ratio)), interpolation=cv2.INTER_LINEAR)
        for flip in (False, True):
            image = np.ascontiguousarray(resized[:, ::-1] if flip else resized)
            sample = SegDataSample(metainfo=dict(ori_shape=bgr.shape[:2], img_shape=image.shape[:2], flip=flip,
                                                 flip_direction='horizontal'))
            data = model.data_preprocessor(dict(inputs=[torch.from_numpy(image).permute(2, 0, 1)],
                                                data_samples=[sample]), False)
            logits = model.predict(data['inputs'], data['data_samples'])[0].seg_logits.data
            probs = probs + torch.softmax(logits, dim=0)
    written = np.array(Image.open(tmp_path / 'labels' / f'{VAL[0]}_labelTrainIds.png'))
    np.testing.assert_array_equal(written, probs.argmax(0).numpy())


def test_launcher_pytorch_shares_the_images_and_gathers_the_metric(run, tmp_path):
    single = test_tool.main([str(run), '--work-dir', str(tmp_path / 'single'), '--device', 'cpu'])
    env = dict(os.environ, OMP_NUM_THREADS='1')
    result = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2',
                             'tools/test.py', str(run), '--launcher', 'pytorch', '--work-dir', str(tmp_path / 'dist'),
                             '--out', str(tmp_path / 'labels'), '--device', 'cpu'],
                            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    record = json.loads((tmp_path / 'dist' / 'test_results.json').read_text())
    assert record['metrics'] == json.loads((tmp_path / 'single' / 'test_results.json').read_text())['metrics']
    assert record['metrics']['mIoU'] == single['mIoU']
    assert sorted(p.name for p in (tmp_path / 'labels').rglob('*.png')) == sorted(
        f'{Path(stem).name}_labelTrainIds.png' for stem in VAL)
