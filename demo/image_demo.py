"""Predict an image, a folder of images or a video with a trained segmentor; write colour overlays and label maps.

    python -m demo.image_demo INPUT CONFIG CHECKPOINT [--device cpu|cuda:0] [--opacity 0.5] [--out-dir DIR]
                              [--palette cityscapes] [--save-label-frames]
    python -m demo.image_demo INPUT RUN_DIR            # config and latest checkpoint found in RUN_DIR

CONFIG is ours (.py) or a JSON config released with the original DAFormer/HRDA/MIC; CHECKPOINT ours or
the reference's (the student weights are used). Outputs go to ``--out-dir``; by default to ``<folder>_pred``
beside the input folder (or beside the folder that holds an input file), so they never land in a data set
folder. INPUT is
- an image (.png .jpg .jpeg .bmp .tif .tiff .webp): writes the overlay ``<stem>_pred<ext>`` (the
  reference's demo) and the train-id label map ``<stem>_labelTrainIds.png``; an image that does not decode
  completely (truncated, corrupt) is an error naming the file;
- a folder: every image in it (recursively, sorted; hidden files and the demo's own outputs skipped),
  keeping the sub-folder structure; an image that cannot be read is reported and skipped, the summary
  counts the skipped files and the exit status is 1 when there are any;
- a video (.mp4 .avi .mov .mkv): writes ``<stem>_pred.<webm|mp4>`` (overlay frames, same fps and size) in a
  codec browsers play when this OpenCV has one (H.264 in .mp4, else VP9 in .webm; ``--video-codec``), else
  MPEG-4 part 2 ('mp4v'); with ``--save-label-frames`` also one label map per frame,
  ``<stem>_labelTrainIds/<stem>_<frame:06d>_labelTrainIds.png``.
Overlays are ``image * (1 - opacity) + colour * opacity`` (``--opacity 1``: the palette colours only).
The palette is the model's (checkpoint meta, else the config's test data set, else Cityscapes) unless
``--palette cityscapes`` is given. Label maps are 8-bit grey PNGs holding the train ids.
"""
import argparse
import os
import sys
from pathlib import Path
from typing import List, NamedTuple, Optional, Sequence, Tuple, Union

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # also runnable as ``python demo/image_demo.py``
    sys.path.insert(0, str(REPO_ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from tqdm import tqdm  # noqa: E402

from PIL import Image  # noqa: E402

from mmseg.apis import find_run_files, inference_model, init_model  # noqa: E402
from mmseg.datasets import CITYSCAPES_PALETTE  # noqa: E402
from mmseg.utils.label_images import atomic_path, overlay, write_image, write_label_png  # noqa: E402

PathLike = Union[str, Path]
Palette = Sequence[Sequence[int]]
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv')
PALETTES = {'cityscapes': CITYSCAPES_PALETTE}
DEFAULT_FPS = 25.0  # when the container does not tell
# (fourcc, container) by preference: browsers play H.264 in MP4 and VP9 in WebM; 'mp4v' plays in desktop players
VIDEO_CODECS = {'avc1': '.mp4', 'vp09': '.webm', 'mp4v': '.mp4'}


class InputError(ValueError):
    """An input the demo cannot use (other than a missing or unreadable file, which raise ``OSError``)."""


class FolderResult(NamedTuple):
    """What folder mode did: the (overlay, label map) paths written and the (image, reason) pairs skipped."""
    written: List[Tuple[Path, Path]]
    skipped: List[Tuple[Path, str]]


def is_image_file(path: PathLike) -> bool:
    """Whether ``path`` has an image extension (case-insensitive)."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def is_video_file(path: PathLike) -> bool:
    """Whether ``path`` has a video extension (case-insensitive)."""
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


def is_demo_output(path: Path) -> bool:
    """Whether ``path`` is what the demo writes for an image beside it: ``<stem>_pred<ext>`` next to
    ``<stem><ext>``, or ``<stem>_labelTrainIds.png`` next to an image ``<stem>.*``."""
    if path.stem.endswith('_pred'):
        return path.with_name(path.stem[:-len('_pred')] + path.suffix).is_file()
    if path.name.endswith('_labelTrainIds.png'):
        stem = path.name[:-len('_labelTrainIds.png')]
        return any(path.with_name(stem + ext).is_file() for ext in IMAGE_EXTENSIONS)
    return False


def list_images(folder: PathLike, exclude: Optional[PathLike] = None) -> List[Path]:
    """The images below ``folder`` (recursive, sorted), without hidden files/folders, without the demo's own
    outputs (:func:`is_demo_output`) and without anything below ``exclude`` (an output folder inside the input
    folder)."""
    folder = Path(folder)
    excluded = Path(exclude).resolve() if exclude is not None else None
    images = []
    for path in folder.rglob('*'):
        relative = path.relative_to(folder)
        if any(part.startswith('.') for part in relative.parts) or not is_image_file(path) or not path.is_file():
            continue
        if (excluded is not None and path.resolve().is_relative_to(excluded)) or is_demo_output(path):
            continue
        images.append(path)
    return sorted(images)


def read_image(path: PathLike) -> np.ndarray:
    """The image as BGR uint8 (OpenCV, as the test pipeline reads it); ``OSError`` naming the file when it is
    missing, empty, not an image, or does not decode completely (a truncated file, which OpenCV would fill in
    silently)."""
    try:
        with Image.open(path) as complete:
            complete.load()  # raises for truncated data
    except (OSError, SyntaxError, ValueError) as error:
        raise OSError(f'Cannot read image {path}: {error}') from error
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise OSError(f'Cannot read image {path} (missing, empty or not an image OpenCV can decode)')
    return image


def predict_label(model: nn.Module, image_bgr: np.ndarray) -> np.ndarray:
    """The (H, W) uint8 train-id prediction of ``model`` for a BGR uint8 image, at the image size."""
    sample = inference_model(model, image_bgr)
    label = sample.pred_sem_seg.data[0].cpu().numpy()
    if label.shape != image_bgr.shape[:2]:
        raise ValueError(f'prediction {label.shape} and image {image_bgr.shape[:2]} differ in size')
    return label.astype(np.uint8)


def model_palette(model: nn.Module, palette: Optional[Union[str, Palette]] = None) -> Palette:
    """``palette`` by name ('cityscapes') or as a list of RGB triples; default: the model's ``dataset_meta``."""
    if palette is None:
        return model.dataset_meta['palette']
    if isinstance(palette, str):
        if palette not in PALETTES:
            raise ValueError(f'unknown palette {palette!r}; expected one of {sorted(PALETTES)}')
        return PALETTES[palette]
    return palette


def image_output_paths(image_path: PathLike, out_dir: Optional[PathLike] = None) -> Tuple[Path, Path]:
    """(``<stem>_pred<ext>``, ``<stem>_labelTrainIds.png``) in ``out_dir``, default: ``<folder>_pred`` beside
    the image's folder."""
    image_path = Path(image_path)
    folder = Path(out_dir) if out_dir is not None else default_out_dir(image_path)
    return folder / f'{image_path.stem}_pred{image_path.suffix}', folder / f'{image_path.stem}_labelTrainIds.png'


def predict_image(model: nn.Module, image_path: PathLike, out_dir: Optional[PathLike] = None, opacity: float = 0.5,
                  palette: Optional[Union[str, Palette]] = None) -> Tuple[Path, Path]:
    """Predict one image file; write its overlay and train-id label map (see :func:`image_output_paths`).

    Returns (overlay path, label map path).
    """
    image = read_image(image_path)
    label = predict_label(model, image)
    overlay_path, label_path = image_output_paths(image_path, out_dir)
    write_image(overlay_path, overlay(image, label, model_palette(model, palette), opacity))
    write_label_png(label_path, label)
    return overlay_path, label_path


def default_folder_out_dir(folder: PathLike) -> Path:
    """``<folder>_pred`` beside ``folder``."""
    folder = Path(folder).resolve()
    return folder.parent / f'{folder.name}_pred'


def default_out_dir(path: PathLike) -> Path:
    """The default output folder of an input: ``<folder>_pred`` beside a folder, or beside the folder that
    holds a file."""
    path = Path(path)
    return default_folder_out_dir(path if path.is_dir() else path.resolve().parent)


def plan_folder(folder: PathLike, out_dir: Optional[PathLike] = None) -> Tuple[Path, List[Path]]:
    """The output folder and the images of ``folder``; ``FileNotFoundError`` without images,
    :class:`InputError` when two images would write the same outputs (same stem, different extensions)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f'Input folder not found: {folder}')
    out_dir = Path(out_dir) if out_dir is not None else default_folder_out_dir(folder)
    images = list_images(folder, exclude=out_dir)
    if not images:
        raise FileNotFoundError(f'No images ({" ".join(IMAGE_EXTENSIONS)}) in folder {folder}')
    seen = {}
    for path in images:
        key = path.relative_to(folder).parent / path.stem
        if key in seen:
            raise InputError(f'{seen[key]} and {path} would write the same label map {key}_labelTrainIds.png')
        seen[key] = path
    return out_dir, images


def predict_folder(model: nn.Module, folder: PathLike, out_dir: Optional[PathLike] = None, opacity: float = 0.5,
                   palette: Optional[Union[str, Palette]] = None, progress: bool = True) -> FolderResult:
    """Predict every image below ``folder`` into ``out_dir`` (default ``<folder>_pred``), keeping the
    sub-folder structure. An image that cannot be read is reported on stderr and skipped. Returns the
    (overlay, label map) paths in image order and the skipped images with the reason."""
    folder = Path(folder)
    out_dir, images = plan_folder(folder, out_dir)
    result = FolderResult([], [])
    for path in tqdm(images, desc=f'demo {folder.name or folder}', unit='img', disable=not progress,
                     dynamic_ncols=True):
        try:
            result.written.append(predict_image(model, path, out_dir / path.relative_to(folder).parent, opacity,
                                                palette))
        except OSError as error:
            tqdm.write(f'skipped: {error}', file=sys.stderr)
            result.skipped.append((path, str(error)))
    return result


def video_label_frame_path(out_dir: PathLike, video_stem: str, index: int) -> Path:
    """``<out_dir>/<stem>_labelTrainIds/<stem>_<index:06d>_labelTrainIds.png``."""
    return Path(out_dir) / f'{video_stem}_labelTrainIds' / f'{video_stem}_{index:06d}_labelTrainIds.png'


def open_video_writer(out_stem: Path, fps: float, size: Tuple[int, int],
                      codec: str = 'auto') -> Tuple[cv2.VideoWriter, Path, Path]:
    """An open writer on a temporary file, the temporary file and the final path ``<out_stem>_pred<container>``:
    ``codec`` ('avc1', 'vp09', 'mp4v') or with 'auto' the first of :data:`VIDEO_CODECS` this OpenCV can write."""
    if codec != 'auto' and codec not in VIDEO_CODECS:
        raise InputError(f'--video-codec {codec!r}; expected auto or one of {sorted(VIDEO_CODECS)}')
    for fourcc in VIDEO_CODECS if codec == 'auto' else [codec]:
        out_path = out_stem.with_name(f'{out_stem.name}_pred{VIDEO_CODECS[fourcc]}')
        tmp = atomic_path(out_path)
        writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*fourcc), fps, size)
        if writer.isOpened():
            return writer, tmp, out_path
        writer.release()
        tmp.unlink(missing_ok=True)
    raise OSError(f'Cannot write video {out_stem}_pred: this OpenCV has no encoder for '
                  f'{codec if codec != "auto" else ", ".join(VIDEO_CODECS)}')


def predict_video(model: nn.Module, video_path: PathLike, out_dir: Optional[PathLike] = None, opacity: float = 0.5,
                  palette: Optional[Union[str, Palette]] = None, save_label_frames: bool = False,
                  progress: bool = True, codec: str = 'auto') -> Tuple[Path, int]:
    """Predict a video frame by frame; write ``<stem>_pred.<webm|mp4>`` (overlays, same fps and size, see
    :func:`open_video_writer`) into ``out_dir`` (default: ``<folder>_pred`` beside the video's folder)
    atomically, and with ``save_label_frames`` one label map per frame into ``<stem>_labelTrainIds/``.
    Returns (output video path, number of frames)."""
    video_path = Path(video_path)
    if not video_path.is_file():
        raise FileNotFoundError(f'Video not found: {video_path}')
    folder = Path(out_dir) if out_dir is not None else default_out_dir(video_path)
    colours = model_palette(model, palette)
    capture = cv2.VideoCapture(str(video_path))
    writer = None
    tmp = None
    try:
        if not capture.isOpened():
            raise OSError(f'Cannot read video {video_path} (OpenCV cannot open it)')
        ok, frame = capture.read()
        if not ok or frame is None:
            raise OSError(f'Cannot read video {video_path} (no frame could be decoded)')
        fps = capture.get(cv2.CAP_PROP_FPS)
        fps = fps if fps and np.isfinite(fps) and fps > 0 else DEFAULT_FPS
        total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        height, width = frame.shape[:2]
        folder.mkdir(parents=True, exist_ok=True)
        writer, tmp, out_path = open_video_writer(folder / video_path.stem, fps, (width, height), codec)
        count = 0
        with tqdm(total=total if total > 0 else None, desc=f'demo {video_path.name}', unit='frame',
                  disable=not progress, dynamic_ncols=True) as bar:
            while ok:
                if frame.shape[:2] != (height, width):
                    raise InputError(f'{video_path}: frame {count} is {frame.shape[1]}x{frame.shape[0]}, '
                                     f'the first frame {width}x{height}')
                label = predict_label(model, np.ascontiguousarray(frame))
                writer.write(overlay(frame, label, colours, opacity))
                if save_label_frames:
                    write_label_png(video_label_frame_path(folder, video_path.stem, count), label)
                count += 1
                bar.update()
                ok, frame = capture.read()
        writer.release()
        os.replace(tmp, out_path)
        return out_path, count
    finally:
        capture.release()
        if writer is not None:
            writer.release()
        if tmp is not None:
            tmp.unlink(missing_ok=True)


def input_kind(path: PathLike) -> str:
    """'image', 'folder' or 'video'; ``FileNotFoundError`` for a missing input, ``InputError`` for another file."""
    path = Path(path)
    if path.is_dir():
        return 'folder'
    if not path.exists():
        raise FileNotFoundError(f'Input not found: {path}')
    if is_image_file(path):
        return 'image'
    if is_video_file(path):
        return 'video'
    raise InputError(f'{path}: neither an image ({" ".join(IMAGE_EXTENSIONS)}) nor a video '
                     f'({" ".join(VIDEO_EXTENSIONS)}) nor a folder')


def resolve_model_files(config: PathLike, checkpoint: Optional[PathLike]) -> Tuple[Path, Path]:
    """(config, checkpoint): a run directory as ``config`` gives its config and latest checkpoint (an explicit
    ``checkpoint`` wins); otherwise both must be given."""
    if Path(config).is_dir():
        files = find_run_files(config)
        return files.config, Path(checkpoint) if checkpoint is not None else files.checkpoint
    if checkpoint is None:
        raise FileNotFoundError('a CHECKPOINT is needed unless CONFIG is a run directory')
    if not Path(config).is_file():
        raise FileNotFoundError(f'Config not found: {config}')
    if not Path(checkpoint).is_file():
        raise FileNotFoundError(f'Checkpoint not found: {checkpoint}')
    return Path(config), Path(checkpoint)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('input', type=Path, help='image file, folder of images, or video file')
    parser.add_argument('config', help='config file (.py, or a legacy .json), or a run directory')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint file (default for a run directory: its latest)')
    parser.add_argument('--device', default='cuda:0' if torch.cuda.is_available() else 'cpu',
                        help='torch device (default: cuda:0 when available, else cpu)')
    parser.add_argument('--opacity', type=float, default=0.5, help='overlay opacity in (0, 1]; 1 = colours only')
    parser.add_argument('--out-dir', type=Path,
                        help='output folder (default: beside the image/video; <folder>_pred for a folder)')
    parser.add_argument('--palette', choices=sorted(PALETTES), help="colour palette (default: the model's)")
    parser.add_argument('--save-label-frames', action='store_true', help='video: also write one label map per frame')
    parser.add_argument('--video-codec', choices=['auto'] + sorted(VIDEO_CODECS), default='auto',
                        help='video: auto = H.264 (.mp4) or VP9 (.webm) when OpenCV can write them, else mp4v')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    args = parser.parse_args(argv)
    if not 0 < args.opacity <= 1:
        parser.error(f'--opacity {args.opacity}: expected 0 < opacity <= 1')
    return args


def main(argv: Optional[List[str]] = None) -> List[Path]:
    """Run the demo; returns the written files (overlays / video, label maps). Input and model-file errors
    exit with a message naming the file; in folder mode, images that could not be read are skipped, counted
    in the summary and make the exit status 1."""
    args = parse_args(argv)
    try:
        kind = input_kind(args.input)
        if kind == 'folder':
            plan_folder(args.input, args.out_dir)  # fail before loading the model
        config, checkpoint = resolve_model_files(args.config, args.checkpoint)
    except (FileNotFoundError, InputError) as error:
        raise SystemExit(f'error: {error}')
    print(f'Config File: {config}\nCheckpoint File: {checkpoint}')
    model = init_model(config, checkpoint, device=args.device)
    options = dict(opacity=args.opacity, palette=args.palette)
    try:
        if kind == 'image':
            written = list(predict_image(model, args.input, args.out_dir, **options))
        elif kind == 'folder':
            result = predict_folder(model, args.input, args.out_dir, progress=not args.no_progress, **options)
            written = [path for pair in result.written for path in pair]
            out_dir = default_folder_out_dir(args.input) if args.out_dir is None else args.out_dir
            print(f'{len(result.written)} image(s) predicted into {out_dir}, {len(result.skipped)} skipped')
            if result.skipped:
                raise SystemExit('skipped (could not be read):\n' + '\n'.join(f'  {path}: {reason}'
                                                                           for path, reason in result.skipped))
        else:
            video, frames = predict_video(model, args.input, args.out_dir, save_label_frames=args.save_label_frames,
                                          progress=not args.no_progress, codec=args.video_codec, **options)
            written = [video]
            if args.save_label_frames:
                written += [video_label_frame_path(video.parent, args.input.stem, i) for i in range(frames)]
    except (OSError, InputError) as error:
        raise SystemExit(f'error: {error}')
    print(f'Wrote {written[0]}' + (f' and {len(written) - 1} more file(s)' if len(written) > 1 else ''))
    return written


if __name__ == '__main__':
    main()
