"""DACS debug images (spec §5.6): files, schedule, panel layout, the HRDA grid, and no effect on the iteration."""
import copy
import random
from pathlib import Path

import numpy as np
import torch
from mmengine.config import Config
from mmengine.visualization import Visualizer
from PIL import Image

from mmseg.apis.train_config import runner_config
from mmseg.models.uda import dacs as dacs_module
from mmseg.datasets import CITYSCAPES_CLASSES
from mmseg.engine import GroupedTensorboardVisBackend
from mmseg.models.uda import debug_visualization
from mmseg.models.uda.debug_visualization import DEBUG_PALETTE
from mmseg.models.utils.resize import resize
from tests.test_dacs import DACS_CFG, TINY_MODEL, _batch, _build, _optim
from tests.test_hrda_dacs import SIZE, _hrda_batch, _hrda_dacs, _source

PANEL_SIZE = (1680, 640)  # 5 x 2 panels of 3 inches, a legend of 1.8 inches and a title of 0.4 at 100 dpi
PANEL_SIZE_WITHOUT_FD = (1380, 640)  # 4 x 2 panels


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
        assert png.size == PANEL_SIZE_WITHOUT_FD  # no feature distance: no blank FD column (the reference has one)


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
        assert png.size == (8 * 300 + 180, 3 * 300 + 40)  # 8 x 3 panels, legend, title


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


def test_panel_has_title_class_legend_and_colour_bar(tmp_path, monkeypatch):
    drawn = {}
    original = debug_visualization._save_panel

    def keep_figure(fig, path):
        drawn[Path(path).name] = fig
        return original(fig, path)

    monkeypatch.setattr(debug_visualization, '_save_panel', keep_figure)
    dacs = _build(work_dir=str(tmp_path), debug_img_interval=1)
    batch = _batch()
    dacs.train_step(batch, _optim(dacs))
    fig = drawn['000001_0.png']
    assert fig._suptitle.get_text().startswith('DACS iteration 1, batch image 0')
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert {'Source image', 'Source label (GT)', 'Target pseudo-label (teacher)', 'Pseudo-label weight',
            'Domain mask (white: source)', 'Mixed label', 'FD mask (thing classes)'} <= set(titles)
    colour_bars = [ax for ax in fig.axes if ax.get_label() == '<colorbar>']
    assert len(colour_bars) == 1 and colour_bars[0].get_ylim() == (0.0, 1.0)  # the pseudo-label weight
    legend_names = [text.get_text() for text in fig.legends[0].get_texts()]
    gt_ids = np.unique(batch['data_samples'][0].gt_sem_seg.data.numpy())
    assert {CITYSCAPES_CLASSES[i] for i in gt_ids if i < 19} <= set(legend_names)
    assert legend_names == sorted(legend_names, key=CITYSCAPES_CLASSES.index)


def test_panels_go_to_tensorboard_as_images_when_it_is_on(tmp_path):
    images = []

    class RecordingTensorboard(debug_visualization.TensorboardVisBackend):
        def add_image(self, name, image, step=0, **kwargs):
            images.append((name, image.shape, step))

    visualizer = Visualizer.get_instance('debug-tensorboard-test', vis_backends=[], save_dir=str(tmp_path))
    visualizer._vis_backends['RecordingTensorboard'] = RecordingTensorboard(save_dir=str(tmp_path))
    dacs = _build(work_dir=str(tmp_path), debug_img_interval=1)
    dacs.train_step(_batch(), _optim(dacs))
    assert images == [('debug/class_mix_0', (640, 1680, 3), 1), ('debug/class_mix_1', (640, 1680, 3), 1)]


def test_tensorboard_tags_are_grouped_as_train_and_val(tmp_path):
    written = []

    class Writer:
        def add_scalar(self, name, value, step):
            written.append((name, value, step))

    backend = GroupedTensorboardVisBackend(save_dir=str(tmp_path))
    backend._tensorboard, backend._env_initialized = Writer(), True
    backend.add_scalars({'decode.loss_seg': 0.5, 'lr': 1e-4, 'time': 0.3}, step=10)
    backend.add_scalars({'aAcc': 90.0, 'mIoU': 50.0, 'IoU.road': 80.0, 'data_time': 0.1}, step=20)
    assert written == [('train/decode.loss_seg', 0.5, 10), ('train/lr', 1e-4, 10), ('train/time', 0.3, 10),
                       ('val/aAcc', 90.0, 20), ('val/mIoU', 50.0, 20), ('val/IoU.road', 80.0, 20),
                       ('val/data_time', 0.1, 20)]
