"""DACS debug images (spec §5.6): files, schedule, panel layout, the HRDA grid, and no effect on the iteration."""
import copy
import random

import numpy as np
import torch
from mmengine.config import Config
from PIL import Image

from mmseg.apis.train_config import runner_config
from mmseg.models.uda import dacs as dacs_module
from mmseg.models.uda.debug_visualization import DEBUG_PALETTE
from mmseg.models.utils.resize import resize
from tests.test_dacs import DACS_CFG, TINY_MODEL, _batch, _build, _optim
from tests.test_hrda_dacs import SIZE, _hrda_batch, _hrda_dacs, _source

PANEL_SIZE = (1500, 600)  # 5 x 2 panels of 3 inches at 100 dpi


def _files(work_dir):
    folder = work_dir / 'class_mix_debug'
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_one_iteration_writes_one_panel_per_image(tmp_path):
    dacs = _build(work_dir=str(tmp_path), debug_img_interval=1)
    dacs.train_step(_batch(), _optim(dacs))
    assert _files(tmp_path) == ['000001_0.png', '000001_1.png']
    for name in _files(tmp_path):
        with Image.open(tmp_path / 'class_mix_debug' / name) as png:
            png.load()
            assert png.format == 'PNG' and png.size == PANEL_SIZE


def test_images_follow_the_interval_from_iteration_zero(tmp_path):
    dacs = _build(work_dir=str(tmp_path), debug_img_interval=2, imnet_feature_dist_lambda=0)
    optim = _optim(dacs)
    dacs.train_step(_batch(0), optim)
    assert _files(tmp_path) == ['000001_0.png', '000001_1.png']
    dacs.train_step(_batch(1), optim)
    assert _files(tmp_path) == ['000001_0.png', '000001_1.png']
    dacs.train_step(_batch(2), optim)
    assert _files(tmp_path) == ['000001_0.png', '000001_1.png', '000003_0.png', '000003_1.png']
    with Image.open(tmp_path / 'class_mix_debug' / '000003_0.png') as png:
        fd_column = np.asarray(png.convert('RGB'))[:, 4 * PANEL_SIZE[0] // 5:]
    assert (fd_column == 255).all()  # no feature distance: the FD panels stay blank, as the reference


def test_no_work_dir_or_source_only_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    dacs = _build(debug_img_interval=1, imnet_feature_dist_lambda=0)
    dacs.train_step(_batch(), _optim(dacs))
    source_only = _build(work_dir=str(tmp_path / 'run'), debug_img_interval=1, source_only=True,
                         imnet_feature_dist_lambda=0)
    source_only.train_step(_batch(), _optim(source_only))
    assert list(tmp_path.iterdir()) == []


def test_debug_images_change_nothing_in_the_iteration(tmp_path):
    """Same seed with and without images: bit-identical logs, weights and RNG states afterwards."""

    def run(**overrides):
        dacs = _build(**overrides)
        optim = _optim(dacs)
        logs = [dacs.train_step(_batch(i), optim) for i in range(2)]
        rng = (random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state())
        return logs, dacs.state_dict(), rng

    logs, state, rng = run(work_dir=str(tmp_path), debug_img_interval=1)
    plain_logs, plain_state, plain_rng = run(debug_img_interval=1)
    assert len(_files(tmp_path)) == 4
    for step, plain_step in zip(logs, plain_logs):
        assert step.keys() == plain_step.keys()
        assert all(torch.equal(step[k], plain_step[k]) for k in step)
    assert state.keys() == plain_state.keys()
    assert all(torch.equal(state[k], plain_state[k]) for k in state)
    assert rng[0] == plain_rng[0] and np.array_equal(rng[1], plain_rng[1]) and torch.equal(rng[2], plain_rng[2])


def test_palette_is_cityscapes_then_voc_with_black_ignore():
    assert DEBUG_PALETTE.shape == (256, 3)
    assert DEBUG_PALETTE[0].tolist() == [128, 64, 128] and DEBUG_PALETTE[18].tolist() == [119, 11, 32]
    assert DEBUG_PALETTE[19].tolist() == [128, 192, 0]  # VOC colour 19
    assert DEBUG_PALETTE[255].tolist() == [0, 0, 0]


def test_runner_config_gives_the_wrapper_the_run_directory():
    uda = {k: v for k, v in copy.deepcopy(DACS_CFG).items() if k not in ('model', 'max_iters')}
    cfg = Config(dict(model=copy.deepcopy(TINY_MODEL), uda=uda, train_cfg=dict(max_iters=4), work_dir='runs/a'))
    assert runner_config(cfg).model.work_dir == 'runs/a'
    default = runner_config(Config(dict(model=copy.deepcopy(TINY_MODEL), uda=uda, train_cfg=dict(max_iters=4))))
    assert default.model.work_dir == default.work_dir == 'work_dirs/run'
    own = runner_config(Config(dict(model=copy.deepcopy(TINY_MODEL), uda=dict(uda, work_dir=None),
                                    train_cfg=dict(max_iters=4), work_dir='runs/a')))
    assert own.model.work_dir is None


def test_hrda_student_adds_the_grid_of_branch_inputs_and_predictions(tmp_path, monkeypatch):
    grids = []
    write_grid = dacs_module.write_hrda_debug_grid
    monkeypatch.setattr(dacs_module, 'write_hrda_debug_grid', lambda *args: grids.append(args[2]) or write_grid(*args))
    dacs = _hrda_dacs(work_dir=str(tmp_path), debug_img_interval=1)
    data = _hrda_batch()
    dacs.train_step(data, _optim(dacs))
    assert _files(tmp_path) == ['000001_0.png', '000001_0_s.png', '000001_1.png', '000001_1_s.png']
    outputs = grids[0]
    branches = ['Img 0 Scale 0.5', 'Img 1 Scale 1', 'High Res', 'High Res Inserted', 'Low Res', 'Fused', 'Attention']
    assert list(outputs) == ['Source', 'Target', 'Mix']
    assert list(outputs['Source']) == list(outputs['Mix']) == branches + ['Cropped GT']  # hr_loss_weight > 0
    assert list(outputs['Target']) == branches  # the teacher's inference: no crop, no loss
    source = outputs['Source']
    img, gt = _source(dacs, data)
    torch.testing.assert_close(source['Img 0 Scale 0.5'], resize(img, scale_factor=0.5, mode='bilinear',
                                                                 align_corners=False))
    assert source['Img 1 Scale 1'].shape == (2, 3, SIZE // 2, SIZE // 2)  # the detail crop
    assert outputs['Target']['Img 1 Scale 1'].shape == (2, 3, SIZE, SIZE)  # slid over the whole image
    assert source['Fused'].shape == source['High Res Inserted'].shape == (2, SIZE // 4, SIZE // 4)
    assert source['High Res'].shape == (2, SIZE // 8, SIZE // 8)
    assert source['Cropped GT'].shape == (2, SIZE // 2, SIZE // 2)
    assert 0 <= float(source['Attention'].min()) <= float(source['Attention'].max()) <= 1
    assert not dacs.get_model().debug and not dacs.get_ema_model().debug  # recording ends with the iteration
    with Image.open(tmp_path / 'class_mix_debug' / '000001_0_s.png') as png:
        assert png.size == (8 * 300, 3 * 300)


def test_hrda_grid_changes_nothing_in_the_iteration(tmp_path):
    def run(**overrides):
        dacs = _hrda_dacs(debug_img_interval=1, **overrides)
        optim = _optim(dacs)
        return [dacs.train_step(_hrda_batch(i), optim) for i in range(2)], dacs.state_dict()

    logs, state = run(work_dir=str(tmp_path))
    plain_logs, plain_state = run()
    assert len(_files(tmp_path)) == 8
    assert all(torch.equal(step[k], plain_step[k]) for step, plain_step in zip(logs, plain_logs) for k in step)
    assert all(torch.equal(state[k], plain_state[k]) for k in state)
