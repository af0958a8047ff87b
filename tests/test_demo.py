"""demo/image_demo.py on an image, a folder (with sub-folders) and a video, with a tiny trained model; errors."""
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from demo import image_demo
from mmseg.apis import find_run_files, inference_model, init_model, show_result_pyplot
from mmseg.datasets import CITYSCAPES_PALETTE
from mmseg.utils.label_images import overlay
from mmseg.utils.result_plots import class_legend_handles
from tests.test_test_tool import our_run_dir

REPO_ROOT = Path(__file__).resolve().parents[1]
PALETTE = np.asarray(CITYSCAPES_PALETTE, np.uint8)


@pytest.fixture(scope='module')
def run_dir(tmp_path_factory) -> Path:
    return our_run_dir(tmp_path_factory.mktemp('run'))


@pytest.fixture(scope='module')
def model_files(run_dir):
    return find_run_files(run_dir)


@pytest.fixture(scope='module')
def model(model_files):
    return init_model(model_files.config, model_files.checkpoint, device='cpu')


def random_image(seed: int, size=(32, 48)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)


def write_png(path: Path, image: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)
    return path


def prediction(model, image) -> np.ndarray:
    return inference_model(model, image).pred_sem_seg.data[0].numpy()


def read_label(path: Path) -> np.ndarray:
    label = Image.open(path)
    assert label.mode == 'L'
    return np.array(label)


def demo(*args: str) -> list:
    return image_demo.main([str(a) for a in args] + ['--device', 'cpu', '--no-progress'])


def test_image_writes_overlay_and_label_map_beside_its_folder(tmp_path, model, model_files):
    image = random_image(0, size=(37, 53))  # odd size: outputs must keep it
    path = write_png(tmp_path / 'data' / 'scene.png', image)
    written = demo(path, model_files.config, model_files.checkpoint, '--opacity', '1')
    out = tmp_path / 'data_pred'  # never into the data folder
    assert written == [out / 'scene_pred.png', out / 'scene_labelTrainIds.png']
    assert sorted(p.name for p in (tmp_path / 'data').iterdir()) == ['scene.png']
    expected = prediction(model, str(path))
    label = read_label(out / 'scene_labelTrainIds.png')
    np.testing.assert_array_equal(label, expected)
    colour = cv2.imread(str(out / 'scene_pred.png'))
    assert colour.shape == image.shape
    np.testing.assert_array_equal(colour[..., ::-1], PALETTE[expected])  # opacity 1: the palette colours (BGR)


def test_image_into_out_dir_blends_at_the_given_opacity(tmp_path, model, model_files):
    image = random_image(1)
    path = write_png(tmp_path / 'in' / 'frame.PNG', image)
    out = tmp_path / 'out'
    written = demo(path, model_files.config, model_files.checkpoint, '--out-dir', out, '--palette', 'cityscapes')
    assert written == [out / 'frame_pred.PNG', out / 'frame_labelTrainIds.png']
    assert sorted(p.name for p in (tmp_path / 'in').iterdir()) == ['frame.PNG']
    label = read_label(out / 'frame_labelTrainIds.png')
    np.testing.assert_array_equal(label, prediction(model, str(path)))
    np.testing.assert_array_equal(cv2.imread(str(out / 'frame_pred.PNG')), overlay(image, label, PALETTE, 0.5))


def test_folder_from_run_dir_keeps_structure_in_default_out_dir(tmp_path, model, run_dir):
    folder = tmp_path / 'photos'
    inputs = {'a.png': random_image(2), 'sub/b.bmp': random_image(3, (40, 56)),
              'sub/deeper/C.PNG': random_image(4), 'sub/d.jpg': random_image(5)}
    for name, image in inputs.items():
        write_png(folder / name, image)
    (folder / 'notes.txt').write_text('not an image')
    (folder / '.hidden.png').write_bytes(b'')  # hidden files are skipped
    written = demo(folder, run_dir, '--opacity', '1')  # run directory: config and latest checkpoint found
    out = tmp_path / 'photos_pred'
    expected_files = []
    for name in sorted(inputs, key=Path):
        stem, parent, suffix = Path(name).stem, Path(name).parent, Path(name).suffix
        expected_files += [out / parent / f'{stem}_pred{suffix}', out / parent / f'{stem}_labelTrainIds.png']
    assert written == expected_files
    assert sorted(p for p in out.rglob('*') if p.is_file()) == sorted(expected_files)
    for name in inputs:
        stem, parent = Path(name).stem, Path(name).parent
        source = cv2.imread(str(folder / name))  # the decoded image (jpg is lossy)
        expected = prediction(model, source)
        np.testing.assert_array_equal(read_label(out / parent / f'{stem}_labelTrainIds.png'), expected)
        colour = cv2.imread(str(out / parent / f'{stem}_pred{Path(name).suffix}'))
        assert colour.shape == source.shape
        if not name.endswith('.jpg'):
            np.testing.assert_array_equal(colour[..., ::-1], PALETTE[expected])


def test_folder_out_dir_inside_the_input_folder_is_not_read_back(tmp_path, model):
    folder = tmp_path / 'imgs'
    write_png(folder / 'x.png', random_image(6))
    out = folder / 'preds'
    first = image_demo.predict_folder(model, folder, out, progress=False)
    second = image_demo.predict_folder(model, folder, out, progress=False)
    assert first == second == ([(out / 'x_pred.png', out / 'x_labelTrainIds.png')], [])


def test_folder_skips_the_outputs_it_wrote_beside_the_images(tmp_path, model):
    folder = tmp_path / 'imgs'
    write_png(folder / 'x.png', random_image(6))
    image_demo.predict_image(model, folder / 'x.png', folder)  # an earlier run into the folder itself
    assert sorted(p.name for p in folder.iterdir()) == ['x.png', 'x_labelTrainIds.png', 'x_pred.png']
    write_png(folder / 'y_pred.png', random_image(7))  # an image that only looks like an output: kept
    assert image_demo.list_images(folder) == [folder / 'x.png', folder / 'y_pred.png']


def truncated_copy(image_path: Path, out: Path) -> Path:
    data = image_path.read_bytes()
    out.write_bytes(data[:len(data) // 2])
    return out


def test_truncated_image_is_an_error_naming_the_file(tmp_path, model_files):
    good = write_png(tmp_path / 'good.png', random_image(30, (64, 64)))
    (tmp_path / 'good.jpg').write_bytes(cv2.imencode('.jpg', random_image(31, (64, 64)))[1].tobytes())
    for name, source in (('cut.png', good), ('cut.jpg', tmp_path / 'good.jpg')):
        cut = truncated_copy(source, tmp_path / name)
        assert cv2.imread(str(cut)) is not None or name.endswith('.png')  # OpenCV alone may decode it silently
        with pytest.raises(SystemExit, match=f'Cannot read image .*{name}'):
            demo(cut, model_files.config, model_files.checkpoint)
    assert not (tmp_path.parent / f'{tmp_path.name}_pred').exists()


def test_folder_reports_skips_and_counts_bad_files_and_exits_non_zero(tmp_path, model_files, capsys):
    folder = tmp_path / 'mixed'
    write_png(folder / 'a.png', random_image(32))
    truncated_copy(write_png(tmp_path / 'b.png', random_image(33, (64, 64))), folder / 'b.png')
    (folder / 'c.jpg').write_bytes(b'')
    with pytest.raises(SystemExit) as exc:
        demo(folder, model_files.config, model_files.checkpoint)
    assert exc.value.code != 0 and 'b.png' in str(exc.value.code) and 'c.jpg' in str(exc.value.code)
    captured = capsys.readouterr()
    assert '1 image(s) predicted' in captured.out and '2 skipped' in captured.out
    assert 'skipped: Cannot read image' in captured.err
    out = tmp_path / 'mixed_pred'
    assert sorted(p.name for p in out.iterdir()) == ['a_labelTrainIds.png', 'a_pred.png']


def write_video(path: Path, frames, fps: float = 5.0) -> None:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), fps, (width, height))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()


def read_video(path: Path):
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened()
    fps = capture.get(cv2.CAP_PROP_FPS)
    frames = []
    ok, frame = capture.read()
    while ok:
        frames.append(frame)
        ok, frame = capture.read()
    capture.release()
    return frames, fps


def test_video_writes_overlay_video_and_label_frames(tmp_path, model, model_files):
    video = tmp_path / 'drive.mp4'
    write_video(video, [random_image(10 + i) for i in range(4)])
    decoded, _ = read_video(video)
    assert len(decoded) == 4
    out = tmp_path / 'out'
    written = demo(video, model_files.config, model_files.checkpoint, '--out-dir', out, '--save-label-frames',
                   '--video-codec', 'mp4v')
    labels = [out / 'drive_labelTrainIds' / f'drive_{i:06d}_labelTrainIds.png' for i in range(4)]
    assert written == [out / 'drive_pred.mp4'] + labels
    frames, fps = read_video(out / 'drive_pred.mp4')
    assert len(frames) == 4 and fps == pytest.approx(5.0)
    assert all(frame.shape == (32, 48, 3) for frame in frames)
    for frame, label_path in zip(decoded, labels):
        np.testing.assert_array_equal(read_label(label_path), prediction(model, frame))
    assert sorted(p.name for p in out.iterdir()) == ['drive_labelTrainIds', 'drive_pred.mp4']  # no temp file left


def test_video_in_a_browser_codec_beside_its_folder_without_label_frames(tmp_path, model):
    video = tmp_path / 'videos' / 'clip.AVI'
    video.parent.mkdir()
    write_video(video, [random_image(20 + i) for i in range(3)])
    path, count = image_demo.predict_video(model, video, progress=False)
    playable = [fourcc for fourcc in image_demo.VIDEO_CODECS if fourcc != 'mp4v'
                and cv2.VideoWriter(str(tmp_path / f'probe{image_demo.VIDEO_CODECS[fourcc]}'),
                                    cv2.VideoWriter_fourcc(*fourcc), 5, (48, 32)).isOpened()]
    suffix = image_demo.VIDEO_CODECS[playable[0]] if playable else '.mp4'
    assert (path, count) == (tmp_path / 'videos_pred' / f'clip_pred{suffix}', 3)
    assert sorted(p.name for p in (tmp_path / 'videos_pred').iterdir()) == [path.name]
    assert sorted(p.name for p in video.parent.iterdir()) == ['clip.AVI']
    assert len(read_video(path)[0]) == 3


def test_errors_name_the_input(tmp_path, model_files):
    config, checkpoint = str(model_files.config), str(model_files.checkpoint)
    with pytest.raises(SystemExit, match='Input not found: .*missing.png'):
        demo(tmp_path / 'missing.png', config, checkpoint)
    (tmp_path / 'empty').mkdir()
    (tmp_path / 'empty' / 'readme.txt').write_text('x')
    with pytest.raises(SystemExit, match='No images .* in folder .*empty'):
        demo(tmp_path / 'empty', config, checkpoint)
    with pytest.raises(SystemExit, match='neither an image .* nor a folder'):
        demo(tmp_path / 'empty' / 'readme.txt', config, checkpoint)
    (tmp_path / 'bad.png').write_bytes(b'not a png')
    with pytest.raises(SystemExit, match='Cannot read image .*bad.png'):
        demo(tmp_path / 'bad.png', config, checkpoint)
    (tmp_path / 'bad.mp4').write_bytes(b'not a video')
    with pytest.raises(SystemExit, match='Cannot read video .*bad.mp4'):
        demo(tmp_path / 'bad.mp4', config, checkpoint)
    assert not list(tmp_path.glob('*_pred*')) and not list(tmp_path.glob('.*'))  # nothing half-written
    assert not (tmp_path.parent / f'{tmp_path.name}_pred').exists()
    write_png(tmp_path / 'ok.png', random_image(7))
    with pytest.raises(SystemExit, match='CHECKPOINT is needed'):
        demo(tmp_path / 'ok.png', config)
    with pytest.raises(SystemExit, match='Checkpoint not found'):
        demo(tmp_path / 'ok.png', config, tmp_path / 'nope.pth')
    with pytest.raises(SystemExit) as exc:
        demo(tmp_path / 'ok.png', config, checkpoint, '--opacity', '0')
    assert exc.value.code == 2
    with pytest.raises(FileNotFoundError, match='No images'):
        image_demo.plan_folder(tmp_path / 'empty')


def test_same_stem_in_one_folder_is_refused_before_loading_the_model(tmp_path, model_files):
    write_png(tmp_path / 'f' / 'x.png', random_image(8))
    write_png(tmp_path / 'f' / 'x.bmp', random_image(9))
    with pytest.raises(SystemExit, match='would write the same label map'):
        demo(tmp_path / 'f', model_files.config, model_files.checkpoint)


def test_command_line(tmp_path, model_files):
    path = write_png(tmp_path / 'in' / 'cli.jpg', random_image(11))
    result = subprocess.run([sys.executable, '-m', 'demo.image_demo', str(path), str(model_files.config),
                             str(model_files.checkpoint), '--device', 'cpu'],
                            cwd=REPO_ROOT, capture_output=True, text=True, env=dict(os.environ))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert cv2.imread(str(tmp_path / 'in_pred' / 'cli_pred.jpg')).shape == (32, 48, 3)
    assert read_label(tmp_path / 'in_pred' / 'cli_labelTrainIds.png').shape == (32, 48)


def test_init_model_takes_a_run_directory_and_cfg_options(run_dir, model_files, model):
    from_run = init_model(run_dir, cfg_options={'model.test_cfg.mode': 'slide', 'model.test_cfg.crop_size': (16, 16),
                                                'model.test_cfg.stride': (8, 8)})
    assert from_run.cfg.model.test_cfg.mode == 'slide' and from_run.test_cfg['crop_size'] == (16, 16)
    assert next(from_run.parameters()).device.type == ('cuda' if torch.cuda.is_available() else 'cpu')
    for name, tensor in model.state_dict().items():  # the run's latest checkpoint (iter_4.pth)
        torch.testing.assert_close(from_run.state_dict()[name], tensor, rtol=0, atol=0)


def test_show_result_pyplot_draws_a_class_legend(tmp_path, model):
    image = random_image(12, (64, 96))
    result = inference_model(model, image)
    label = result.pred_sem_seg.data[0].numpy()
    drawing = show_result_pyplot(model, image, result, opacity=1.0, title='iteration 4', show=False,
                                 out_file=tmp_path / 'shown.png')
    assert cv2.imread(str(tmp_path / 'shown.png')).shape == drawing.shape
    present = [model.dataset_meta['classes'][i] for i in np.unique(label)]
    handles = class_legend_handles(np.unique(label), model.dataset_meta['classes'], model.dataset_meta['palette'])
    assert [h.get_label() for h in handles] == present
    legend_area = drawing[:, drawing.shape[1] - 200:].reshape(-1, 3)
    for class_id in np.unique(label):  # each present class's colour is in the legend, right of the image
        assert (legend_area == PALETTE[class_id]).all(axis=1).any()
