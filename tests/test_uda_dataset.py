"""UDADataset: source/target pairing, rare class sampling, the target margin mask, and a DACS step on its batches."""
import copy
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

import mmseg.datasets  # noqa: F401
import mmseg.models  # noqa: F401
from mmseg.datasets.conversion import CITYSCAPES_ID_TO_TRAIN_ID, convert_id_label_dataset, read_palette_label
from mmseg.datasets.transforms import GenerateValidPseudoMask
from mmseg.registry import DATASETS, MODELS
from tests.test_dacs import DACS_CFG, _seed
from tests.test_datasets import make_cityscapes, write_image, write_label

PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
            dict(type='RandomCrop', crop_size=(32, 32), cat_max_ratio=0.75), dict(type='RandomFlip', prob=0.5),
            dict(type='PackSegInputs')]
ROAD, BUILDING, TRAIN = 7, 11, 31  # Cityscapes label ids (train ids 0, 2, 16)


def make_gta_with_rare_class(root: Path) -> None:
    """Four 40x40 GTA frames (names end in a digit, as the converter requires); only 'rare3' has the (rare) train class, on 600 pixels."""
    for i, name in enumerate(['common0', 'common1', 'rare3', 'common2']):
        ids = np.full((40, 40), ROAD, np.uint8)
        ids[:20] = BUILDING
        if name == 'rare3':
            ids[10:30, 5:35] = TRAIN
        write_image(root / 'images' / f'{name}.png', 40, 40, seed=i)
        write_label(root / 'labels' / f'{name}.png', ids, palette=True)
    convert_id_label_dataset(str(root), 'labels', None, 1, read_palette_label, CITYSCAPES_ID_TO_TRAIN_ID, 'GTA')


def uda_cfg(tmp_path: Path, rcs=None) -> dict:
    make_gta_with_rare_class(tmp_path / 'gta')
    make_cityscapes(tmp_path / 'cityscapes', dict(train=['c_000000_000001', 'c_000000_000002', 'c_000000_000003']),
                    size=(48, 96))
    return dict(
        type='UDADataset',
        source=dict(type='GTADataset', data_root=str(tmp_path / 'gta'),
                    data_prefix=dict(img_path='images', seg_map_path='labels'), pipeline=PIPELINE),
        target=dict(type='CityscapesDataset', data_root=str(tmp_path / 'cityscapes'),
                    data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
                    pipeline=copy.deepcopy(PIPELINE)),
        rare_class_sampling=rcs)


@pytest.fixture(autouse=True)
def mmseg_scope():
    with DefaultScope.overwrite_default_scope('mmseg'):
        yield


def _source_name(item) -> str:
    return Path(item['data_samples'].img_path).stem


def test_plain_pairing_covers_every_source_target_pair(tmp_path):
    dataset = DATASETS.build(uda_cfg(tmp_path))
    assert len(dataset) == 4 * 3
    pairs = {(_source_name(dataset[i]), Path(dataset[i]['target_data_samples'].img_path).stem)
             for i in range(len(dataset))}
    assert len(pairs) == 12
    assert dataset.metainfo['classes'][16] == 'train'


def test_rare_class_sampling_prefers_the_file_with_the_rare_class(tmp_path):
    dataset = DATASETS.build(uda_cfg(tmp_path, dict(min_pixels=100, class_temp=0.01, min_crop_ratio=0.5)))
    np.random.seed(0)
    items = [dataset[0] for _ in range(60)]
    sources = Counter(_source_name(item) for item in items)
    assert sources['rare3'] >= 50, sources  # P(train) ~ 1 with T = 0.01; uniform would give ~15
    targets = Counter(Path(item['target_data_samples'].img_path).stem for item in items)
    assert len(targets) == 3  # the target is drawn uniformly, independently of the source
    for item in items:
        if _source_name(item) == 'rare3':  # the crop check keeps > 100·0.5 train pixels (or the 11th crop)
            assert int((item['data_samples'].gt_sem_seg.data == 16).sum()) > 50
    np.random.seed(0)
    again = [_source_name(dataset[5]) for _ in range(60)]
    assert again == [_source_name(item) for item in items]  # the index is ignored; seeded draws repeat


def test_bad_rare_class_config_and_missing_statistics_are_named(tmp_path):
    cfg = uda_cfg(tmp_path, dict(min_pixels=100, class_temp=0.01, min_crop_ratio=0.5, temperature=1))
    with pytest.raises(ValueError, match=r"unknown keys \['temperature'\]"):
        DATASETS.build(cfg)
    cfg['rare_class_sampling'] = dict(min_pixels=100, class_temp=0.01, min_crop_ratio=0.5)
    (tmp_path / 'gta' / 'samples_with_class.json').unlink()
    with pytest.raises(FileNotFoundError, match='samples_with_class.json'):
        DATASETS.build(cfg)


def test_dacs_trains_on_batches_of_the_uda_dataloader(tmp_path):
    loader = Runner.build_dataloader(dict(
        batch_size=2, num_workers=0, sampler=dict(type='InfiniteSampler', shuffle=True),
        dataset=uda_cfg(tmp_path, dict(min_pixels=100, class_temp=0.01, min_crop_ratio=0.5))), seed=0)
    batch = next(iter(loader))
    assert len(batch['inputs']) == 2 and batch['target_inputs'][0].shape == (3, 32, 32)
    _seed()
    dacs = MODELS.build(copy.deepcopy(DACS_CFG)).train()
    optim = OptimWrapper(torch.optim.AdamW([p for p in dacs.parameters() if p.requires_grad], lr=1e-3))
    logs = dacs.train_step(batch, optim)
    assert {'decode.loss_seg', 'mix.decode.loss_seg', 'src.loss_imnet_feat_dist'} <= set(logs)
    assert torch.isfinite(logs['mix.decode.loss_seg'])


def test_class_without_a_file_above_min_pixels_is_named_with_the_fix(tmp_path):
    cfg = uda_cfg(tmp_path, dict(min_pixels=600, class_temp=0.01, min_crop_ratio=0.5))  # 'rare3' has 600 train pixels
    with pytest.raises(ValueError, match=r'no source file has more than min_pixels=600 pixels of class 16 \(train\) '
                                         r'\(the most in one file is 600, .*set rare_class_sampling.min_pixels below 600'):
        DATASETS.build(cfg)


MARGINS = [3, 9, 2, 6]  # top, bottom, left, right
TARGET_STEMS = ['c_000000_000001', 'c_000000_000002', 'c_000000_000003']


def margin_mask(height: int, width: int, margins=MARGINS) -> np.ndarray:
    top, bottom, left, right = margins
    mask = np.zeros((height, width), np.uint8)
    mask[top:height - bottom, left:width - right] = 1
    return mask


def margin_target(tmp_path: Path, pipeline: list, margins=MARGINS) -> dict:
    """A Cityscapes train set of 24x40 images whose labels are the expected margin mask (0/1)."""
    root = tmp_path / 'cityscapes'
    make_cityscapes(root, dict(train=TARGET_STEMS), size=(24, 40))
    for stem in TARGET_STEMS:
        write_label(root / 'gtFine' / 'train' / f'{stem}_gtFine_labelTrainIds.png', margin_mask(24, 40))
    return dict(type='CityscapesDataset', data_root=str(root), crop_pseudo_margins=margins, pipeline=pipeline,
                data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'))


def test_margin_mask_is_ones_of_the_image_size_with_zero_margins(tmp_path):
    pipeline = [dict(type='LoadImageFromFile'), dict(type='PackSegInputs')]
    sample = DATASETS.build(margin_target(tmp_path, pipeline))[0]['data_samples']
    mask = sample.valid_pseudo_mask.data
    assert mask.dtype == torch.uint8 and mask.shape == (1, 24, 40)
    np.testing.assert_array_equal(mask[0].numpy(), margin_mask(24, 40))
    results = GenerateValidPseudoMask([2, 0, 0, 0]).transform(dict(img=np.zeros((6, 5, 3), np.uint8)))
    np.testing.assert_array_equal(results['valid_pseudo_mask'], margin_mask(6, 5, [2, 0, 0, 0]))  # [-0:] spared
    assert results['seg_fields'] == ['valid_pseudo_mask']


def test_margin_mask_follows_resize_crop_and_flip_like_the_label(tmp_path):
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'), dict(type='Resize', scale=(80, 48)),
                dict(type='RandomCrop', crop_size=(32, 32)), dict(type='RandomFlip', prob=0.5),
                dict(type='PackSegInputs')]
    dataset = DATASETS.build(margin_target(tmp_path, pipeline))
    np.random.seed(0)
    flips, zeros = set(), []
    for i in range(24):
        sample = dataset[i % 3]['data_samples']
        mask = sample.valid_pseudo_mask.data
        assert mask.shape == (1, 32, 32)
        torch.testing.assert_close(mask.long(), sample.gt_sem_seg.data)  # the label is the full-image mask
        flips.add(sample.flip)
        zeros.append(float((mask == 0).float().mean()))
    assert flips == {True, False}
    assert 0 < min(zeros) < max(zeros) < 1  # margins are cut where the crop touches the border


def test_margins_need_an_image_loading_step_and_valid_values(tmp_path):
    with pytest.raises(ValueError, match='needs a LoadImageFromFile step'):
        DATASETS.build(margin_target(tmp_path, [dict(type='PackSegInputs')]))
    with pytest.raises(ValueError, match=r'crop_pseudo_margins=\[30, 240\]'):
        GenerateValidPseudoMask([30, 240])


def test_uda_dataset_passes_the_target_margin_mask_to_dacs(tmp_path):
    cfg = uda_cfg(tmp_path)
    assert 'valid_pseudo_mask' not in DATASETS.build(cfg)[0]['target_data_samples']  # unchanged without margins
    cfg['target']['crop_pseudo_margins'] = [4, 8, 2, 2]
    item = DATASETS.build(cfg)[0]
    assert 'valid_pseudo_mask' not in item['data_samples']
    assert item['target_data_samples'].valid_pseudo_mask.data.shape == (1, 32, 32)
    loader = Runner.build_dataloader(dict(batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler'),
                                          dataset=cfg), seed=0)
    _seed()
    dacs = MODELS.build(dict(copy.deepcopy(DACS_CFG), pseudo_weight_ignore_top=0,
                             pseudo_weight_ignore_bottom=0)).train()
    masks = []
    forward_train = dacs.forward_train
    dacs.forward_train = lambda *args: masks.append(args[6]) or forward_train(*args)
    batch = next(iter(loader))
    logs = dacs.train_step(batch, OptimWrapper(torch.optim.AdamW(dacs.model.parameters(), lr=1e-3)))
    assert torch.isfinite(logs['mix.decode.loss_seg'])
    expected = torch.stack([s.valid_pseudo_mask.data for s in batch['target_data_samples']])
    assert masks[0].shape == (2, 1, 32, 32) and torch.equal(masks[0], expected)


def test_sync_crop_cuts_the_same_box_from_both_samples_after_their_pipelines(tmp_path):
    cfg = uda_cfg(tmp_path)
    cfg['target']['crop_pseudo_margins'] = [4, 8, 2, 2]
    full_dataset = DATASETS.build(cfg)
    synced_dataset = DATASETS.build(dict(cfg, sync_crop_size=(16, 24)))
    for seed in range(4):
        np.random.seed(seed)
        full = full_dataset[5]
        # the reference's draws after the pipelines: H offset, then W offset
        offset_h, offset_w = np.random.randint(0, 32 - 16 + 1), np.random.randint(0, 32 - 24 + 1)
        np.random.seed(seed)
        synced = synced_dataset[5]
        rows, cols = slice(offset_h, offset_h + 16), slice(offset_w, offset_w + 24)
        torch.testing.assert_close(synced['inputs'], full['inputs'][:, rows, cols], rtol=0, atol=0)
        torch.testing.assert_close(synced['target_inputs'], full['target_inputs'][:, rows, cols], rtol=0, atol=0)
        for key in ('data_samples', 'target_data_samples'):
            assert torch.equal(synced[key].gt_sem_seg.data, full[key].gt_sem_seg.data[:, rows, cols])
            assert synced[key].img_shape == (16, 24)
        assert torch.equal(synced['target_data_samples'].valid_pseudo_mask.data,
                           full['target_data_samples'].valid_pseudo_mask.data[:, rows, cols])


def test_sync_crop_larger_than_the_pipeline_crop_or_malformed_is_named(tmp_path):
    cfg = uda_cfg(tmp_path)
    with pytest.raises(ValueError, match=r'sync_crop_size \[40, 16\] is larger than the pipeline crops'):
        DATASETS.build(dict(cfg, sync_crop_size=(40, 16)))[0]
    with pytest.raises(ValueError, match=r'sync_crop_size=\(16,\)'):
        DATASETS.build(dict(cfg, sync_crop_size=(16, )))
