"""The user's path on tiny generated GTA / Cityscapes-layout data: run_experiments.py --config, then test.sh."""
import json
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from tests.test_train_runner import experiment_config

REPO_ROOT = Path(__file__).resolve().parents[1]
LOSS_NAMES = ('decode.loss_seg', 'decode.acc_seg', 'src.loss_imnet_feat_dist', 'mix.decode.loss_seg',
              'mix.decode.acc_seg')


def test_run_experiments_then_test_sh(tmp_path):
    cfg = experiment_config(tmp_path, max_iters=4)
    cfg.pop('work_dir')
    cfg.name, cfg.exp = 'tiny_gta2cs_dacs', 'basic'
    cfg.uda.debug_img_interval = 2
    cfg.train_cfg.val_interval = 2
    cfg.default_hooks.checkpoint.interval = 2
    cfg.test_dataloader, cfg.test_evaluator = cfg.val_dataloader, cfg.val_evaluator
    cfg.test_cfg = dict(type='TestLoop')
    cfg.dump(str(tmp_path / 'tiny_gta2cs_dacs.py'))
    env = dict(os.environ, PYTHON=sys.executable)
    train = subprocess.run(
        [sys.executable, 'run_experiments.py', '--config', str(tmp_path / 'tiny_gta2cs_dacs.py'),
         '--gen-config-root', str(tmp_path / 'generated'), '--work-dir-root', str(tmp_path / 'work_dirs')],
        capture_output=True, text=True, cwd=REPO_ROOT, env=env)
    assert train.returncode == 0, train.stdout[-3000:] + train.stderr[-3000:]
    runs = list((tmp_path / 'work_dirs' / 'local-basic').iterdir())
    assert len(runs) == 1
    run = runs[0]
    assert (tmp_path / 'generated' / 'local-basic' / f'{run.name}.py').is_file()
    assert (run / f'{run.name}.py').is_file()  # the config as trained
    assert {p.name for p in run.glob('iter_*.pth')} == {'iter_2.pth', 'iter_4.pth'}
    assert sorted(p.name for p in (run / 'class_mix_debug').iterdir()) == [
        '000001_0.png', '000001_1.png', '000003_0.png', '000003_1.png']

    text_logs = list(run.glob('*/*.log'))
    assert len(text_logs) == 1
    text = text_logs[0].read_text()
    assert 'Iter(train) [4/4]' in text and 'eta:' in text and 'lr:' in text
    assert all(f'{name}:' in text for name in LOSS_NAMES)
    assert 'Iter(val) [1/1]' in text and 'mIoU:' in text and 'IoU.road:' in text
    scalars = [json.loads(line) for line in next(run.glob('*/vis_data/scalars.json')).read_text().splitlines()]
    train_records = [r for r in scalars if 'decode.loss_seg' in r]
    assert [r['iter'] for r in train_records] == [1, 2, 3, 4]
    assert all(set(LOSS_NAMES) <= set(r) and 'lr' in r for r in train_records)
    assert sum('mIoU' in r for r in scalars) == 2

    test = subprocess.run(['sh', 'test.sh', str(run)], capture_output=True, text=True, cwd=REPO_ROOT, env=env)
    assert test.returncode == 0, test.stdout[-3000:] + test.stderr[-3000:]
    assert f'Checkpoint File: {run / "iter_4.pth"}' in test.stdout
    record = json.loads((run / 'test_results.json').read_text())
    assert record['images'] == 1 and 0 <= record['metrics']['mIoU'] <= 100
    prediction = Image.open(run / 'preds' / 'v_000000_000001_labelTrainIds.png')
    assert prediction.size == (64, 32)
