"""Folder-based semantic-segmentation data set on mmengine's ``BaseDataset`` (mmseg 0.16 ``CustomDataset``).

The file list is the recursive scan of the image folder for ``img_suffix`` (``mmengine.utils.scandir``,
the scan of the reference, which does not sort), or the stems of a split file. The label of an
image is its path relative to the image folder with ``img_suffix`` replaced by ``seg_map_suffix``,
below the label folder. The list is built once, checked (every label must exist) and serialised,
so data-loader workers share it. With ``data_prefix['depth_path']`` (CDDA) every image also has a depth
map, named by the data set's ``DEPTH_LAYOUT`` (the reference's ``depth_type``), which must exist.
"""
import os.path as osp
from typing import Callable, List, Mapping, Optional, Sequence, Union

from mmcv.transforms import LoadImageFromFile as MMCVLoadImageFromFile
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from mmengine.utils import scandir

from mmseg.registry import DATASETS, TRANSFORMS
from .transforms.depth_loading import DEPTH_PATH, LoadDepthMap, depth_file_name

PREFIX_KEYS = ('img_path', 'seg_map_path', DEPTH_PATH)


def insert_after_image_loading(pipeline: Sequence[Union[dict, Callable]], step: Callable, dataset: str,
                               reason: str) -> List[Callable]:
    """The built ``pipeline`` with ``step`` right after its ``LoadImageFromFile`` (before resize / crop / flip)."""
    steps = [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]
    loads = [i for i, s in enumerate(steps) if isinstance(s, MMCVLoadImageFromFile)]
    if not loads:
        raise ValueError(f'{dataset}: {reason} needs a LoadImageFromFile step in the pipeline')
    steps.insert(loads[0] + 1, step)
    return steps


@DATASETS.register_module()
class BaseSegDataset(BaseDataset):
    """Images ``<img_path>/**/<name><img_suffix>`` with labels ``<seg_map_path>/**/<name><seg_map_suffix>``.

    Args:
        img_suffix, seg_map_suffix: file-name endings of images and label maps.
        ann_file: optional split file (relative to ``data_root``), one ``<name>`` per line
            (the image path relative to the image folder, without ``img_suffix``).
        metainfo: overrides of ``METAINFO`` (``classes``, ``palette``).
        data_root: prefix of ``ann_file`` and of the relative folders in ``data_prefix``.
        data_prefix: ``dict(img_path=..., seg_map_path=..., depth_path=...)``. Without ``seg_map_path`` the
            data set has no labels (test-set mode: images only; leave ``LoadAnnotations`` out of the pipeline).
            ``depth_path``: folder of the 8-bit depth maps (CDDA), e.g. ``depth_any`` (GTA, SYNTHIA) or
            ``depth_any/train`` (Cityscapes); a ``LoadDepthMap`` step is put after the image loading unless
            the pipeline has one.
        ignore_index: label value of unlabelled pixels, stored in ``metainfo['ignore_index']``.
        sort_files: sort the scanned file list; by default it keeps the directory-scan order of the
            reference (which depends on the file system).
        pipeline: transform configs, built from ``mmseg.registry.TRANSFORMS``, or callables.
        test_mode, lazy_init, serialize_data, indices, max_refetch: see :class:`mmengine.dataset.BaseDataset`.
    """

    METAINFO: dict = dict()
    #: Expected folder layout and how the labels are made, quoted by the missing-file errors.
    LAYOUT: str = ''
    #: Name of an image's depth map (``depth_loading.depth_file_name``): 'same_name' or 'cityscapes'.
    DEPTH_LAYOUT: str = 'same_name'

    def __init__(self, img_suffix: str = '.jpg', seg_map_suffix: str = '.png', ann_file: str = '',
                 metainfo: Optional[Mapping] = None, data_root: str = '', data_prefix: Optional[dict] = None,
                 ignore_index: int = 255, sort_files: bool = False,
                 pipeline: Sequence[Union[dict, Callable]] = (), test_mode: bool = False,
                 lazy_init: bool = False, serialize_data: bool = True,
                 indices: Optional[Union[int, Sequence[int]]] = None, max_refetch: int = 1000) -> None:
        data_prefix = dict(img_path='', seg_map_path='') if data_prefix is None else dict(data_prefix)
        unknown = set(data_prefix) - set(PREFIX_KEYS)
        if unknown or 'img_path' not in data_prefix:
            raise ValueError(f'{type(self).__name__}: data_prefix needs img_path and may have seg_map_path and '
                             f'depth_path; got keys {sorted(data_prefix)}')
        steps = [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]
        if DEPTH_PATH in data_prefix and not any(isinstance(t, LoadDepthMap) for t in steps):
            steps = insert_after_image_loading(steps, LoadDepthMap(), type(self).__name__, 'data_prefix depth_path')
        self.img_suffix = img_suffix
        self.seg_map_suffix = seg_map_suffix
        self.ignore_index = ignore_index
        self.sort_files = sort_files
        super().__init__(ann_file=ann_file, metainfo=metainfo, data_root=data_root, data_prefix=data_prefix,
                         indices=indices, serialize_data=serialize_data,
                         pipeline=steps,
                         test_mode=test_mode, lazy_init=lazy_init, max_refetch=max_refetch)
        self._metainfo['ignore_index'] = ignore_index
        classes, palette = self._metainfo.get('classes'), self._metainfo.get('palette')
        if classes is not None and palette is not None and len(classes) != len(palette):
            raise ValueError(f'{type(self).__name__}: {len(classes)} classes but {len(palette)} palette colours')

    def get_data_info(self, idx: int) -> dict:
        """The sample's info with ``label_range`` = (classes, ignore index, name): ``LoadAnnotations`` checks the
        label ids against it."""
        data_info = super().get_data_info(idx)
        classes = self._metainfo.get('classes')
        if classes:
            data_info['label_range'] = (len(classes), self.ignore_index, type(self).__name__)
        return data_info

    @property
    def with_labels(self) -> bool:
        """Whether the samples carry a ``seg_map_path`` (``data_prefix`` has ``seg_map_path``)."""
        return 'seg_map_path' in self.data_prefix

    def _expected_layout(self) -> str:
        """``LAYOUT``, or the layout implied by ``data_prefix`` and the suffixes."""
        if self.LAYOUT:
            return self.LAYOUT
        layout = f"{self.data_prefix['img_path']}/**/<name>{self.img_suffix}"
        if self.with_labels:
            layout += f" and {self.data_prefix['seg_map_path']}/**/<name>{self.seg_map_suffix}"
        return layout

    def _depth_layout(self, depth_dir: str) -> str:
        """The expected depth file of an image, for the errors."""
        example = depth_file_name(f'<name>{self.img_suffix}', self.DEPTH_LAYOUT)
        return (f'{depth_dir}/**/{example} (8-bit PNG per image; `python tools/make_depth_maps.py DATA_DIR` '
                "writes them, or download the CDDA authors' maps)")

    def _image_names(self, img_dir: str) -> List[str]:
        """Image paths relative to ``img_dir``, without ``img_suffix``."""
        name = type(self).__name__
        if self.ann_file:
            if not osp.isfile(self.ann_file):
                raise FileNotFoundError(f'{name}: split file {self.ann_file!r} not found')
            with open(self.ann_file) as f:
                names = [line.strip() for line in f if line.strip()]
            if not names:
                raise ValueError(f'{name}: split file {self.ann_file!r} is empty')
            for stem in names:
                img_path = osp.join(img_dir, stem + self.img_suffix)
                if not osp.isfile(img_path):
                    raise FileNotFoundError(f'{name}: image {img_path!r} of split file {self.ann_file!r} not found '
                                            f'(line {stem!r} + img_suffix {self.img_suffix!r})')
            return names
        files = list(scandir(img_dir, self.img_suffix, recursive=True))
        if not files:
            raise FileNotFoundError(f'{name}: no images ending in {self.img_suffix!r} below {img_dir!r}. '
                                    f'Expected layout: {self._expected_layout()}')
        if self.sort_files:
            files.sort()
        return [f[:-len(self.img_suffix)] for f in files]

    def _label_name(self, name: str) -> str:
        """The name of an image's label (the path below the label folder without ``seg_map_suffix``): the image's
        name by default; a data set of several renderings per labelled frame maps them to the frame."""
        return name

    def load_data_list(self) -> List[dict]:
        """One ``dict(img_path, seg_map_path, seg_fields=[])`` per image (no ``seg_map_path`` without labels)."""
        name = type(self).__name__
        img_dir = self.data_prefix['img_path']
        if not osp.isdir(img_dir):
            raise FileNotFoundError(f'{name}: image folder {img_dir!r} does not exist. '
                                    f'Expected layout: {self._expected_layout()}')
        seg_dir = self.data_prefix.get('seg_map_path')
        if seg_dir is not None and not osp.isdir(seg_dir):
            raise FileNotFoundError(f'{name}: label folder {seg_dir!r} does not exist (data_prefix seg_map_path; '
                                    'omit it for a data set without labels). '
                                    f'Expected layout: {self._expected_layout()}')
        depth_dir = self.data_prefix.get(DEPTH_PATH)
        if depth_dir is not None and not osp.isdir(depth_dir):
            raise FileNotFoundError(f'{name}: depth folder {depth_dir!r} does not exist (data_prefix depth_path). '
                                    f'Expected {self._depth_layout(depth_dir)}')
        data_list = []
        missing = []
        missing_depth = []
        for stem in self._image_names(img_dir):
            data_info = dict(img_path=osp.join(img_dir, stem + self.img_suffix), seg_fields=[])
            if seg_dir is not None:
                data_info['seg_map_path'] = osp.join(seg_dir, self._label_name(stem) + self.seg_map_suffix)
                if not osp.isfile(data_info['seg_map_path']):
                    missing.append(data_info)
            if depth_dir is not None:
                data_info[DEPTH_PATH] = osp.join(depth_dir, depth_file_name(stem + self.img_suffix, self.DEPTH_LAYOUT))
                if not osp.isfile(data_info[DEPTH_PATH]):
                    missing_depth.append(data_info)
            data_list.append(data_info)
        if missing_depth:
            raise FileNotFoundError(
                f'{name}: {len(missing_depth)} of {len(data_list)} images have no depth map in {depth_dir!r}; first: '
                f'{missing_depth[0][DEPTH_PATH]!r} for image {missing_depth[0]["img_path"]!r}. Expected '
                f'{self._depth_layout(depth_dir)}')
        if missing:
            raise FileNotFoundError(
                f'{name}: {len(missing)} of {len(data_list)} images have no label file in {seg_dir!r} '
                f'(seg_map_suffix {self.seg_map_suffix!r}); first: {missing[0]["seg_map_path"]!r} for image '
                f'{missing[0]["img_path"]!r}. Expected layout: {self._expected_layout()}')
        print_log(f'{name}: loaded {len(data_list)} images from {img_dir}', logger='current')
        return data_list
