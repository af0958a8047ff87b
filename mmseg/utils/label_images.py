"""Label maps as images: palette colouring, overlays, train-id / label-id PNGs, atomic writes."""
import os
import tempfile
from pathlib import Path
from typing import Sequence, Union

import cv2
import numpy as np
from PIL import Image

PathLike = Union[str, Path]


def colorize(label: np.ndarray, palette: Sequence[Sequence[int]], ignore_color: Sequence[int] = (0, 0, 0)) -> np.ndarray:
    """(H, W) class ids → (H, W, 3) RGB uint8; ids outside the palette (255 = ignore) get ``ignore_color``."""
    table = np.zeros((256, 3), np.uint8)
    table[:] = ignore_color
    table[:len(palette)] = np.asarray(palette, np.uint8)
    return table[np.asarray(label).astype(np.int64).clip(0, 255)]


def overlay(image_bgr: np.ndarray, label: np.ndarray, palette: Sequence[Sequence[int]], opacity: float) -> np.ndarray:
    """The reference's ``show_result``: ``image * (1 - opacity) + colour * opacity`` in BGR uint8.

    With ``opacity=1`` this is the pure palette colour image.
    """
    if not 0 < opacity <= 1:
        raise ValueError(f'opacity={opacity}; expected 0 < opacity <= 1')
    if image_bgr.shape[:2] != label.shape:
        raise ValueError(f'image {image_bgr.shape[:2]} and label map {label.shape} differ in size')
    color_bgr = colorize(label, palette)[..., ::-1].astype(np.float64)
    return (image_bgr.astype(np.float64) * (1 - opacity) + color_bgr * opacity).astype(np.uint8)


def atomic_path(path: PathLike) -> Path:
    """A fresh temporary path in the folder of ``path`` (created), with the same suffix and the usual file mode."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f'.{path.stem}.', suffix=path.suffix, dir=path.parent)
    os.close(handle)
    os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes it 0600: give it the mode a plain open() would
    return Path(tmp)


def current_umask() -> int:
    """The process's file mode creation mask."""
    umask = os.umask(0)
    os.umask(umask)
    return umask


def write_image(path: PathLike, image_bgr: np.ndarray) -> None:
    """Write a BGR image atomically (OpenCV, format from the suffix)."""
    tmp = atomic_path(path)
    try:
        if not cv2.imwrite(str(tmp), image_bgr):
            raise OSError(f'could not write image {path}')
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_label_png(path: PathLike, label: np.ndarray, palette: Sequence[Sequence[int]] = ()) -> None:
    """Write a uint8 label map atomically: 'L' mode, or 'P' mode with ``palette`` (pixel values stay the ids)."""
    label = np.asarray(label)
    if label.ndim != 2 or label.min(initial=0) < 0 or label.max(initial=0) > 255:
        raise ValueError(f'{path}: expected a 2-D label map with ids in 0..255, got shape {label.shape}')
    image = Image.fromarray(label.astype(np.uint8))
    if palette:
        image = image.convert('P')
        flat = np.zeros((256, 3), np.uint8)
        flat[:len(palette)] = np.asarray(palette, np.uint8)
        image.putpalette(flat.flatten().tolist())
    tmp = atomic_path(path)
    try:
        image.save(tmp, format='PNG')
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
