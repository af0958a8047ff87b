"""Loading of images (mmcv's ``LoadImageFromFile``, with errors that name the file) and label maps."""
import logging
from typing import Optional

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmcv.transforms import LoadImageFromFile as MMCVLoadImageFromFile
from mmengine import fileio
from mmengine.logging import print_log

from mmseg.registry import TRANSFORMS


def _decode_error(transform: str, kind: str, path: str, error: Exception) -> OSError:
    """The error for a file that was read but could not be decoded, naming it."""
    return OSError(f'{transform}: cannot decode {kind} {path!r}; is it empty, truncated or not an image? '
                   f'({type(error).__name__}: {str(error).strip()})')


@TRANSFORMS.register_module()
class LoadImageFromFile(MMCVLoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` (OpenCV, BGR uint8) whose read errors name the file.

    mmcv's raises an OpenCV error without the path for an empty file, a pillow error without the
    path with the pillow backend and an ``AssertionError`` for undecodable bytes; this one raises
    an ``OSError`` naming the file. It is registered under the same name in
    ``mmseg.registry.TRANSFORMS`` only (mmcv's registry keeps mmcv's class), so the configs'
    ``dict(type='LoadImageFromFile')`` get it with all of mmcv's arguments.
    """

    def transform(self, results: dict) -> Optional[dict]:
        try:
            return super().transform(results)
        except Exception as error:  # cv2.error, PIL.UnidentifiedImageError, AssertionError (None image), ...
            if isinstance(error, OSError) and error.filename:  # file-system errors name the file already
                raise
            raise _decode_error(type(self).__name__, 'image', results['img_path'], error) from error


#: Key of a sample's info with ``(number of classes, ignore index, data set name)``, set by ``BaseSegDataset``.
LABEL_RANGE = 'label_range'


def check_label_ids(label: np.ndarray, path: str, num_classes: int, ignore_index: int, dataset: str) -> None:
    """Raise naming ``path`` and the ids if ``label`` holds values outside ``0..num_classes-1`` besides the
    ignore index (a cross-entropy would fail on them much later, on a GPU with a device-side assert)."""
    counts = np.bincount(label.ravel(), minlength=256)
    bad = [int(v) for v in np.flatnonzero(counts[num_classes:]) + num_classes if v != ignore_index]
    if bad:
        found = ', '.join(f'{v} ({counts[v]} pixels)' for v in bad[:10])
        raise ValueError(f'{dataset}: label {path!r} holds id(s) {found} outside the classes 0..{num_classes - 1}; '
                         f'only those and the ignore index {ignore_index} are allowed. A label map holds train ids '
                         '(convert the data set with tools/convert_datasets/*.py)')


@TRANSFORMS.register_module()
class LoadAnnotations(BaseTransform):
    """Read ``results['seg_map_path']`` unchanged (pillow) into ``results['gt_seg_map']`` (H, W) uint8.

    Palette PNGs give their indices, grey PNGs their values, as the reference's
    ``imfrombytes(flag='unchanged', backend='pillow').astype(np.uint8)``. Adds ``gt_seg_map`` to
    ``results['seg_fields']``. When the data set gives its class range (``results['label_range']``), the
    first load of each file checks its ids (:func:`check_label_ids`). If the image is loaded (``ori_shape`` in
    ``results``), the label must have its original size (``size_mismatch='error'``); the reference resized
    such pairs independently without a word, which ``size_mismatch='warn'`` keeps (with a warning naming
    both files).

    Args:
        imdecode_backend: ``mmcv.imfrombytes`` backend.
        backend_args: ``mmengine.fileio`` backend arguments.
        size_mismatch: ``'error'`` or ``'warn'`` for a label whose size differs from its image's.
    """

    def __init__(self, imdecode_backend: str = 'pillow', backend_args: Optional[dict] = None,
                 size_mismatch: str = 'error') -> None:
        if size_mismatch not in ('error', 'warn'):
            raise ValueError(f"LoadAnnotations: size_mismatch={size_mismatch!r}; expected 'error' or 'warn'")
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args
        self.size_mismatch = size_mismatch
        self._checked_paths = set()

    def transform(self, results: dict) -> dict:
        path = results.get('seg_map_path')
        if path is None:
            raise KeyError(f'LoadAnnotations: sample {results.get("img_path")!r} has no seg_map_path; the data set '
                           'was built without labels (no seg_map_path in data_prefix), so drop LoadAnnotations')
        data = fileio.get(path, backend_args=self.backend_args)
        try:
            label = mmcv.imfrombytes(data, flag='unchanged', backend=self.imdecode_backend)
            if label is None:  # OpenCV backend, undecodable bytes
                raise ValueError('no image decoded')
        except Exception as error:  # PIL.UnidentifiedImageError, truncated file, cv2.error, ...
            raise _decode_error(type(self).__name__, 'label map', path, error) from error
        if label.ndim == 3 and label.shape[2] == 1:
            label = label[:, :, 0]
        if label.ndim != 2:
            raise ValueError(f'LoadAnnotations: {path} has shape {label.shape}; expected a single-channel '
                             'train-id label map (run tools/convert_datasets/*.py)')
        ori_shape = results.get('ori_shape')
        if ori_shape is not None and tuple(label.shape) != tuple(ori_shape[:2]):
            message = (f'LoadAnnotations: label {path!r} is {label.shape[0]}x{label.shape[1]} (HxW) but '
                       f'image {results.get("img_path")!r} is {ori_shape[0]}x{ori_shape[1]}')
            if self.size_mismatch == 'error':
                raise ValueError(message + '; a label map must have the size of its image '
                                 "(size_mismatch='warn' resizes each on its own, as the reference)")
            print_log(message + '; both are resized on their own, as the reference', logger='current',
                      level=logging.WARNING)
        results['gt_seg_map'] = label.astype(np.uint8)
        if results.get(LABEL_RANGE) is not None and path not in self._checked_paths:
            check_label_ids(results['gt_seg_map'], path, *results[LABEL_RANGE])
            self._checked_paths.add(path)
        seg_fields = results.setdefault('seg_fields', [])
        if 'gt_seg_map' not in seg_fields:
            seg_fields.append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(imdecode_backend={self.imdecode_backend!r}, size_mismatch={self.size_mismatch!r})'
