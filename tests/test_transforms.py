"""Pipeline transforms against the reference (mmseg 0.16) semantics: rounding, retry rule, RNG draws, packing."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmcv.transforms import LoadImageFromFile
from mmengine.config import Config
from PIL import Image

from mmseg.datasets.conversion import CITYSCAPES_ID_TO_TRAIN_ID, convert_id_label_dataset, read_palette_label
from mmseg.datasets.transforms import (LoadAnnotations, PackSegInputs, PhotoMetricDistortion, RandomCrop,
                                       RandomFlip, Resize)
from mmseg.datasets.transforms.loading import LoadImageFromFile as MMSegLoadImageFromFile
from mmseg.models.data_preprocessor import SegDataPreProcessor
from mmseg.registry import DATASETS, TRANSFORMS

DATASET_CONFIGS = Path(__file__).resolve().parents[1] / 'configs' / '_base_' / 'datasets'


def coord_image(height: int, width: int) -> np.ndarray:
    """uint8 BGR image whose pixel (y, x) is (y, x, 7): crops and flips can be read back."""
    ys, xs = np.mgrid[:height, :width]
    return np.stack([ys, xs, np.full_like(ys, 7)], axis=-1).astype(np.uint8)


def reference_crop_bbox(shape, gt, crop_size, cat_max_ratio, ignore_index=255):
    """The box of mmseg 0.16 ``RandomCrop.__call__``, drawn from numpy's global RNG."""
    def get_crop_bbox():
        margin_h = max(shape[0] - crop_size[0], 0)
        margin_w = max(shape[1] - crop_size[1], 0)
        offset_h = np.random.randint(0, margin_h + 1)
        offset_w = np.random.randint(0, margin_w + 1)
        return offset_h, offset_h + crop_size[0], offset_w, offset_w + crop_size[1]

    crop_bbox = get_crop_bbox()
    if cat_max_ratio < 1.:
        for _ in range(10):
            y1, y2, x1, x2 = crop_bbox
            labels, cnt = np.unique(gt[y1:y2, x1:x2], return_counts=True)
            cnt = cnt[labels != ignore_index]
            if len(cnt) > 1 and np.max(cnt) / np.sum(cnt) < cat_max_ratio:
                break
            crop_bbox = get_crop_bbox()
    return crop_bbox


def test_registry_resolves_the_reference_transforms():
    for name, cls in [('LoadAnnotations', LoadAnnotations), ('Resize', Resize), ('RandomCrop', RandomCrop),
                      ('RandomFlip', RandomFlip), ('PackSegInputs', PackSegInputs),
                      ('PhotoMetricDistortion', PhotoMetricDistortion)]:
        assert type(TRANSFORMS.build(dict(type=name, **({'scale': (8, 8)} if name == 'Resize' else {}),
                                          **({'crop_size': 4} if name == 'RandomCrop' else {})))) is cls
    loader = TRANSFORMS.build(dict(type='LoadImageFromFile'))  # mmcv's, subclassed for errors naming the file
    assert type(loader) is MMSegLoadImageFromFile and isinstance(loader, LoadImageFromFile)


@pytest.mark.parametrize('size, scale, expected', [
    ((1914, 1052), (1280, 720), (1280, 704)),  # GTA LR (spec §13.19)
    ((1914, 1052), (2560, 1440), (2560, 1407)),  # GTA HR
    ((1280, 760), (1280, 760), (1280, 760)),  # SYNTHIA
    ((1280, 760), (2560, 1520), (2560, 1520)),  # SYNTHIA HR
    ((2048, 1024), (1024, 512), (1024, 512)),  # Cityscapes LR
    ((2048, 1024), (2048, 1024), (2048, 1024)),  # Cityscapes HR
    ((1920, 1080), (960, 540), (960, 540)),  # ACDC / Dark Zurich LR
    ((1920, 1080), (1280, 720), (1280, 720)),
    ((64, 32), (1024, 512), (1024, 512)),  # upscaling
    ((1052, 1914), (1280, 720), (704, 1280)),  # portrait: fits long/short edges, not (W, H)
])
def test_keep_ratio_resize_rounding(size, scale, expected):
    w, h = size
    label = np.zeros((h, w), np.uint8)
    label[:, w // 2:] = 255
    label[h // 3:, :w // 3] = 13
    results = Resize(scale=scale)(dict(img=np.zeros((h, w, 3), np.uint8), gt_seg_map=label,
                                       seg_fields=['gt_seg_map']))
    s = min(max(scale) / max(h, w), min(scale) / min(h, w))
    assert (int(w * s + 0.5), int(h * s + 0.5)) == expected
    assert results['img'].shape == (expected[1], expected[0], 3) and results['img_shape'] == expected[::-1]
    assert results['gt_seg_map'].shape == (expected[1], expected[0]) and results['gt_seg_map'].dtype == np.uint8
    assert set(np.unique(results['gt_seg_map'])) == {0, 13, 255}  # nearest: no new values
    assert results['scale_factor'] == (expected[0] / w, expected[1] / h)


def test_resize_labels_nearest_and_every_seg_field():
    label = np.arange(24, dtype=np.uint8).reshape(4, 6)
    mask = (label % 2).astype(np.uint8)
    results = Resize(scale=(12, 8))(dict(img=coord_image(4, 6), gt_seg_map=label, valid_mask=mask,
                                          seg_fields=['gt_seg_map', 'valid_mask']))
    np.testing.assert_array_equal(results['gt_seg_map'], label.repeat(2, 0).repeat(2, 1))
    np.testing.assert_array_equal(results['valid_mask'], mask.repeat(2, 0).repeat(2, 1))
    exact = Resize(scale=(6, 8), keep_ratio=False)(dict(img=coord_image(4, 6), gt_seg_map=label))
    assert exact['img'].shape == (8, 6, 3) and exact['gt_seg_map'].shape == (8, 6)


def test_random_crop_accepts_by_largest_non_ignore_class():
    crop = RandomCrop(crop_size=(4, 5), cat_max_ratio=0.75)

    def label(counts):
        return np.concatenate([np.full(n, c, np.uint8) for c, n in counts.items()]).reshape(4, 5)

    assert crop.accepts(label({255: 16, 1: 2, 2: 2}))  # ignore pixels are not counted
    assert not crop.accepts(label({255: 19, 1: 1}))  # one class only
    assert not crop.accepts(label({255: 5, 1: 15}))
    assert crop.accepts(label({1: 14, 2: 6}))  # 0.70
    assert not crop.accepts(label({1: 15, 2: 5}))  # 0.75 is not < 0.75


@pytest.mark.parametrize('seed', range(20))
def test_random_crop_matches_the_reference_retry_rule(seed):
    h, w, crop_size = 40, 120, (20, 40)
    gt = np.full((h, w), 1, np.uint8)
    gt[:, 60:] = 2
    gt[:, :10] = 255  # ignored columns
    gt[30:, :] = 255
    valid = np.ones((h, w), np.uint8)
    np.random.seed(seed)
    y1, y2, x1, x2 = reference_crop_bbox((h, w), gt, crop_size, 0.75)
    after_reference = np.random.rand()
    np.random.seed(seed)
    results = RandomCrop(crop_size, cat_max_ratio=0.75)(
        dict(img=coord_image(h, w), gt_seg_map=gt, valid=valid, seg_fields=['gt_seg_map', 'valid']))
    assert np.random.rand() == after_reference  # same number of draws
    img = results['img']
    assert results['img_shape'] == crop_size
    assert (img[0, 0, 0], img[0, 0, 1]) == (y1, x1)
    np.testing.assert_array_equal(results['gt_seg_map'], gt[y1:y2, x1:x2])
    assert results['valid'].shape == crop_size


def test_random_crop_uses_the_eleventh_box_when_all_checks_fail():
    gt = np.zeros((30, 30), np.uint8)  # one class: every check fails
    np.random.seed(5)
    boxes = [(np.random.randint(0, 21), np.random.randint(0, 21)) for _ in range(11)]
    np.random.seed(5)
    img = RandomCrop((10, 10), cat_max_ratio=0.75)(dict(img=coord_image(30, 30), gt_seg_map=gt))['img']
    assert (img[0, 0, 0], img[0, 0, 1]) == boxes[10]
    np.random.seed(5)
    img = RandomCrop((10, 10))(dict(img=coord_image(30, 30), gt_seg_map=gt))['img']  # no check: first box
    assert (img[0, 0, 0], img[0, 0, 1]) == boxes[0]
    small = RandomCrop((64, 64))(dict(img=coord_image(30, 40), gt_seg_map=np.zeros((30, 40), np.uint8)))
    assert small['img'].shape == (30, 40, 3) and small['gt_seg_map'].shape == (30, 40)
    with pytest.raises(KeyError, match='needs gt_seg_map'):
        RandomCrop((10, 10), cat_max_ratio=0.75)(dict(img=coord_image(30, 30)))


@pytest.mark.parametrize('seed', range(10))
def test_random_flip_draws_like_the_reference_and_flips_labels_with_the_image(seed):
    h, w = 6, 9
    gt = np.arange(h * w, dtype=np.uint8).reshape(h, w)
    np.random.seed(seed)
    expected_flip = np.random.rand() < 0.5  # reference: flip = np.random.rand() < prob
    after_reference = np.random.rand()
    np.random.seed(seed)
    results = RandomFlip(prob=0.5)(dict(img=coord_image(h, w), gt_seg_map=gt, mask=gt.copy(),
                                        seg_fields=['gt_seg_map', 'mask']))
    assert np.random.rand() == after_reference
    assert results['flip'] == expected_flip
    assert results['flip_direction'] == ('horizontal' if expected_flip else None)
    expected_gt = gt[:, ::-1] if expected_flip else gt
    np.testing.assert_array_equal(results['gt_seg_map'], expected_gt)
    np.testing.assert_array_equal(results['mask'], expected_gt)
    np.testing.assert_array_equal(results['img'][..., 1], (w - 1 - np.arange(w) if expected_flip else np.arange(w))
                                  * np.ones((h, 1), np.uint8))


def test_random_flip_probabilities():
    always = RandomFlip(prob=1)(dict(img=coord_image(2, 3), gt_seg_map=np.eye(2, 3, dtype=np.uint8)))
    assert always['flip'] and always['gt_seg_map'].tolist() == [[0, 0, 1], [0, 1, 0]]
    assert not RandomFlip(prob=0.0)(dict(img=coord_image(2, 3)))['flip']


def test_load_image_and_annotations(tmp_path):
    image = coord_image(5, 7)
    assert cv2.imwrite(str(tmp_path / 'img.png'), image)
    results = TRANSFORMS.build(dict(type='LoadImageFromFile'))(dict(img_path=str(tmp_path / 'img.png')))
    np.testing.assert_array_equal(results['img'], image)  # BGR uint8 as written by OpenCV
    assert results['ori_shape'] == (5, 7) and results['img_shape'] == (5, 7)

    label = np.array([[0, 1, 255], [18, 7, 3]], np.uint8)
    palette = Image.fromarray(label)
    palette.putpalette([(v * 91) % 256 for v in range(768)])
    palette.save(tmp_path / 'palette.png')
    Image.fromarray(label).save(tmp_path / 'grey.png')
    for name in ('palette.png', 'grey.png'):  # indices, not colours
        results = LoadAnnotations()(dict(seg_map_path=str(tmp_path / name), seg_fields=[]))
        assert results['gt_seg_map'].dtype == np.uint8 and results['gt_seg_map'].tolist() == label.tolist()
        assert results['seg_fields'] == ['gt_seg_map']
    Image.fromarray(np.zeros((2, 3, 3), np.uint8)).save(tmp_path / 'rgb.png')
    with pytest.raises(ValueError, match=r'rgb\.png has shape \(2, 3, 3\)'):
        LoadAnnotations()(dict(seg_map_path=str(tmp_path / 'rgb.png')))
    with pytest.raises(KeyError, match="'x.png' has no seg_map_path"):
        LoadAnnotations()(dict(img_path='x.png'))


def test_pack_seg_inputs_dtypes_and_metainfo():
    results = dict(img_path='a.png', seg_map_path='a_labelTrainIds.png', ori_shape=(4, 6), img_shape=(4, 6),
                   scale_factor=(1.0, 1.0), seg_fields=['gt_seg_map'], img=coord_image(4, 6),
                   gt_seg_map=np.arange(24, dtype=np.uint8).reshape(4, 6))
    flipped = RandomFlip(prob=1.0)(results)
    packed = PackSegInputs()(flipped)
    inputs, sample = packed['inputs'], packed['data_samples']
    assert inputs.dtype == torch.uint8 and inputs.shape == (3, 4, 6) and inputs.is_contiguous()
    np.testing.assert_array_equal(inputs.numpy(), coord_image(4, 6)[:, ::-1].transpose(2, 0, 1))
    gt = sample.gt_sem_seg.data
    assert gt.dtype == torch.int64 and gt.shape == (1, 4, 6) and gt[0, 0, 0] == 5
    assert sample.metainfo == dict(img_path='a.png', seg_map_path='a_labelTrainIds.png', ori_shape=(4, 6),
                                   img_shape=(4, 6), scale_factor=(1.0, 1.0), flip=True,
                                   flip_direction='horizontal')
    batch = SegDataPreProcessor(size=(8, 8))(dict(inputs=[inputs], data_samples=[sample]))
    assert batch['inputs'].shape == (1, 3, 8, 8) and batch['inputs'].dtype == torch.float32
    assert batch['data_samples'][0].gt_sem_seg.data[0, 7, 7] == 255
    unlabelled = PackSegInputs()(dict(img=coord_image(4, 6), img_path='b.png'))['data_samples']
    assert 'gt_sem_seg' not in unlabelled and unlabelled.metainfo == dict(img_path='b.png')


def test_photometric_distortion_draw_order():
    img = np.random.RandomState(0).randint(0, 256, (8, 8, 3), dtype=np.uint8)
    for seed in range(50):
        np.random.seed(seed)
        brightness = np.random.randint(2)
        beta = np.random.uniform(-32, 32) if brightness else 0
        np.random.randint(2)  # contrast first or last
        steps = [np.random.randint(2) for _ in range(3)]  # contrast-or-saturation, ..., all off
        after = np.random.rand()
        np.random.seed(seed)
        out = PhotoMetricDistortion()(dict(img=img.copy()))['img']
        assert out.dtype == np.uint8 and out.shape == img.shape
        if not any(steps):  # only brightness could be on: the RNG consumption is known
            assert np.random.rand() == after
            expected = np.clip(img.astype(np.float32) + beta, 0, 255).astype(np.uint8)
            np.testing.assert_array_equal(out, expected)
            return
    pytest.fail('no seed with contrast, saturation and hue off')


def test_gta_source_pipeline_from_config(tmp_path):
    """A full-size GTA frame (1914x1052) through the source pipeline of the config."""
    root = tmp_path / 'gta'
    (root / 'images').mkdir(parents=True)
    ys, xs = np.mgrid[:1052, :1914]
    assert cv2.imwrite(str(root / 'images' / '00001.png'),
                       np.stack([xs % 256, ys % 256, (xs + ys) % 256], -1).astype(np.uint8))
    ids = np.where(xs < 900, 7, np.where(ys < 500, 26, 23)).astype(np.uint8)  # road | car / sky
    label = Image.fromarray(ids)
    label.putpalette(list(range(256)) * 3)
    (root / 'labels').mkdir()
    label.save(root / 'labels' / '00001.png')
    convert_id_label_dataset(str(root), 'labels', None, 1, read_palette_label, CITYSCAPES_ID_TO_TRAIN_ID, 'GTA')
    cfg = Config.fromfile(str(DATASET_CONFIGS / 'uda_gta_to_cityscapes_512x512.py'))
    resized = DATASETS.build(dict(cfg.source_dataset.to_dict(), data_root=str(root),
                                  pipeline=cfg.source_train_pipeline[:3]))[0]
    assert resized['img'].shape == (704, 1280, 3) and resized['gt_seg_map'].shape == (704, 1280)
    np.random.seed(0)
    sample = DATASETS.build(dict(cfg.source_dataset.to_dict(), data_root=str(root)))[0]
    assert sample['inputs'].shape == (3, 512, 512)
    gt = sample['data_samples'].gt_sem_seg.data
    assert gt.shape == (1, 512, 512) and set(gt.unique().tolist()) <= {0, 10, 13}
    meta = sample['data_samples'].metainfo
    assert meta['ori_shape'] == (1052, 1914) and meta['img_shape'] == (512, 512)
    assert meta['scale_factor'] == (1280 / 1914, 704 / 1052) and 'flip' in meta
