"""Cityscapes frames re-rendered under adverse weather, labelled with the ``gtFine`` labels of the clear frame.

Foggy Cityscapes and Rain Cityscapes keep the Cityscapes folders and frame names and append the rendering
parameters to the file name: ``<city>/<frame>_leftImg8bit_<variant parameters>.png``, where ``<frame>`` is the
clear frame ``<city>_<sequence>_<frame id>``. A data set of them scans its image folder for the file names of
its kind, keeps those whose parameters are selected and pairs each with ``gtFine/.../<frame>_gtFine_labelTrainIds
.png`` (one label serves every rendering of a frame).
"""
import os.path as osp
import re
from collections import Counter
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from mmengine.utils import scandir

from .cityscapes import CityscapesDataset

Selection = Union[None, float, str, Sequence[Union[float, str]]]
CLEAR_IMG_SUFFIX = '_leftImg8bit.png'


def _number(value: Union[float, str]) -> float:
    """A rendering parameter as a number, so that 0.02, '0.02' and '0.020' are the same value."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f'rendering parameter {value!r} is not a number') from None


class CityscapesVariantDataset(CityscapesDataset):
    """Base of the weather variants of Cityscapes (see the module docstring); not for direct use.

    Subclasses set ``KIND`` (the name in messages), ``MARKER`` (the part of a file name that says it is of this
    kind, e.g. ``'_leftImg8bit_foggy_'``) and ``FILE_PATTERN`` (a regex of the whole file name with the group
    ``frame`` and one group per rendering parameter), and pass the selected values per parameter.

    Args:
        selection: parameter name -> a value or a list of values to keep; None keeps every value.
        clear_img_dir: the folder of the clear Cityscapes images (relative to ``data_root``, e.g.
            ``'leftImg8bit/train'``); when given, an image whose clear frame is not there is an error.
        kwargs: as :class:`CityscapesDataset` (``data_prefix`` ``img_path`` is the variant's image folder,
            ``seg_map_path`` the ``gtFine`` folder of the same split). ``ann_file`` is not supported: the file
            list is the scan of the image folder.
    """

    KIND = ''
    MARKER = ''
    FILE_PATTERN = re.compile('')

    def __init__(self, selection: Optional[Mapping[str, Selection]] = None, clear_img_dir: Optional[str] = None,
                 **kwargs: Any) -> None:
        name = type(self).__name__
        if kwargs.get('ann_file'):
            raise ValueError(f'{name}: ann_file is not supported (the file list is the scan of the image folder, '
                             f'filtered by the rendering parameters); got {kwargs["ann_file"]!r}')
        if 'img_suffix' in kwargs:
            raise ValueError(f'{name}: img_suffix is fixed by the {self.KIND} file names; got {kwargs["img_suffix"]!r}')
        parameters = set(self.FILE_PATTERN.groupindex) - {'frame'}
        unknown = set(selection or {}) - parameters
        if unknown:
            raise KeyError(f'{name}: unknown rendering parameters {sorted(unknown)}; expected {sorted(parameters)}')
        self.selection: Dict[str, Tuple[float, ...]] = {}
        for key, values in (selection or {}).items():
            if values is None:
                continue
            values = values if isinstance(values, (list, tuple)) else [values]
            self.selection[key] = tuple(_number(v) for v in values)
        self.clear_img_dir = clear_img_dir
        # The image name of a sample is its file name without '.png' (used for prediction file names).
        super().__init__(img_suffix='.png', **kwargs)

    def _join_root(self, path: str) -> str:
        return path if osp.isabs(path) or not self.data_root else osp.join(self.data_root, path)

    def _selected(self, params: Mapping[str, str]) -> bool:
        return all(_number(params[key]) in values for key, values in self.selection.items())

    def _describe_selection(self) -> str:
        return ', '.join(f'{key}={"|".join(f"{v:g}" for v in values)}' for key, values in self.selection.items())

    def _parse(self, path: str) -> Optional[re.Match]:
        """The match of a file name of this kind; None for other files; an error for a malformed one."""
        base = osp.basename(path)
        if self.MARKER not in base:
            return None
        match = self.FILE_PATTERN.fullmatch(base)
        if match is None:
            raise ValueError(f'{type(self).__name__}: {path!r} is not a {self.KIND} file name; expected '
                             f'{self.FILE_PATTERN.pattern} (its clear Cityscapes frame cannot be told)')
        return match

    def _image_names(self, img_dir: str) -> List[str]:
        """The selected images below ``img_dir`` (paths without ``.png``); with ``clear_img_dir`` each one's clear
        frame must exist."""
        name = type(self).__name__
        unsupported = sorted(set(self.data_prefix) - {'img_path', 'seg_map_path'})
        if unsupported:
            raise ValueError(f'{name}: data_prefix keys {unsupported} are not supported by the {self.KIND} file list '
                             '(img_path and seg_map_path are)')
        files = list(scandir(img_dir, '.png', recursive=True))
        if self.sort_files:
            files.sort()
        found, kept = Counter(), []
        for relative in files:
            match = self._parse(osp.join(img_dir, relative))
            if match is None:
                continue
            params = {k: v for k, v in match.groupdict().items() if k != 'frame'}
            found[', '.join(f'{k}={v}' for k, v in params.items())] += 1
            if self._selected(params):
                kept.append(relative[:-len('.png')])
        if not found:
            raise FileNotFoundError(f'{name}: no {self.KIND} images (*{self.MARKER}*.png) below {img_dir!r}. '
                                    f'Expected layout: {self._expected_layout()}')
        if not kept:
            available = '; '.join(f'{params} ({count} images)' for params, count in sorted(found.items()))
            raise FileNotFoundError(f'{name}: no {self.KIND} images with {self._describe_selection()} below '
                                    f'{img_dir!r}; the folder has: {available}')
        if self.clear_img_dir is not None:
            clear_dir = self._join_root(self.clear_img_dir)
            for image in kept:
                clear = osp.join(clear_dir, self._label_name(image) + CLEAR_IMG_SUFFIX)
                if not osp.isfile(clear):
                    img_path = osp.join(img_dir, image + '.png')
                    raise FileNotFoundError(f'{name}: the clear Cityscapes frame of {img_path!r} is absent: {clear!r} '
                                            '(clear_img_dir)')
        return kept

    def _label_name(self, name: str) -> str:
        """The clear frame of an image: ``<city>/<frame>`` for ``<city>/<frame>_leftImg8bit_<parameters>``."""
        return osp.join(osp.dirname(name), self.FILE_PATTERN.fullmatch(osp.basename(name) + '.png')['frame'])
