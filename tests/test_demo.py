"""demo/image_demo.py on an image, a folder (with sub-folders) and a video, with a tiny trained model; errors."""
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from demo import image_demo
from mmseg.apis import find_run_files, inference_model, init_model
from mmseg.datasets import CITYSCAPES_PALETTE
from mmseg.utils.label_images import overlay
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


def test_image_writes_overlay_and_label_map_beside_the_input(tmp_path, model, model_files):
    image = random_image(0, size=(37, 53))  # odd size: outputs must keep it
    path = write_png(tmp_path / 'scene.png', image)
    written = demo(path, model_files.config, model_files.checkpoint, '--opacity', '1')
    assert written == [tmp_path / 'scene_pred.png', tmp_path / 'scene_labelTrainIds.png']
    expected = prediction(model, str(path))
    label = read_label(tmp_path / 'scene_labelTrainIds.png')
    np.testing.assert_array_equal(label, expected)
    colour = cv2.imread(str(tmp_path / 'scene_pred.png'))
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
    assert first == second == [(out / 'x_pred.png', out / 'x_labelTrainIds.png')]


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
    written = demo(video, model_files.config, model_files.checkpoint, '--out-dir', out, '--save-label-frames')
    labels = [out / 'drive_labelTrainIds' / f'drive_{i:06d}_labelTrainIds.png' for i in range(4)]
    assert written == [out / 'drive_pred.mp4'] + labels
    frames, fps = read_video(out / 'drive_pred.mp4')
    assert len(frames) == 4 and fps == pytest.approx(5.0)
    assert all(frame.shape == (32, 48, 3) for frame in frames)
    for frame, label_path in zip(decoded, labels):
        np.testing.assert_array_equal(read_label(label_path), prediction(model, frame))
    assert sorted(p.name for p in out.iterdir()) == ['drive_labelTrainIds', 'drive_pred.mp4']  # no temp file left


def test_video_beside_the_input_without_label_frames(tmp_path, model):
    video = tmp_path / 'clip.AVI'
    write_video(video, [random_image(20 + i) for i in range(3)])
    path, count = image_demo.predict_video(model, video, progress=False)
    assert (path, count) == (tmp_path / 'clip_pred.mp4', 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['clip.AVI', 'clip_pred.mp4']
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
    path = write_png(tmp_path / 'cli.jpg', random_image(11))
    result = subprocess.run([sys.executable, '-m', 'demo.image_demo', str(path), str(model_files.config),
                             str(model_files.checkpoint), '--device', 'cpu'],
                            cwd=REPO_ROOT, capture_output=True, text=True, env=dict(os.environ))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert cv2.imread(str(tmp_path / 'cli_pred.jpg')).shape == (32, 48, 3)
    assert read_label(tmp_path / 'cli_labelTrainIds.png').shape == (32, 48)
