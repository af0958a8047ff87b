"""Data sets on tiny trees made by the real converters: layouts, configs, split files, test-set mode, errors.

Ends with the validation path end to end: the Cityscapes val loader of a dataset config feeds
``model.val_step`` of a DAFormer (MiT-B0) and ``IoUMetric`` scores the predictions.
"""
import copy
import pickle
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmengine.utils import scandir
from PIL import Image

import mmseg.models  # noqa: F401  (registers the models)
from mmseg.datasets import (ACDCDataset, BaseSegDataset, CityscapesDataset, DarkZurichDataset, GTADataset,
                            SynthiaDataset)
from mmseg.datasets.conversion import (CITYSCAPES_ID_TO_TRAIN_ID, SYNTHIA_ID_TO_TRAIN_ID, convert_cityscapes,
                                       convert_id_label_dataset, read_palette_label, read_synthia_label,
                                       to_train_ids)
from mmseg.registry import DATASETS, METRICS, MODELS

REPO_ROOT = Path(__file__).resolve().parents[1]
DATASET_CONFIGS = REPO_ROOT / 'configs' / '_base_' / 'datasets'
MODEL_CONFIGS = REPO_ROOT / 'configs' / '_base_' / 'models'
# spec §8.2: train ids 0..18
SPEC_CLASSES = ('road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light', 'traffic sign',
                'vegetation', 'terrain', 'sky', 'person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle',
                'bicycle')
# Cityscapes / GTA label ids in the generated labels: road, sidewalk, building, car, sky, and 0 (-> 255)
LABEL_IDS = np.array([7, 8, 11, 26, 23, 0], np.uint8)


def load_cfg(name: str) -> Config:
    return Config.fromfile(str(DATASET_CONFIGS / name))


def build(dataset_cfg, root: Path, **overrides) -> BaseSegDataset:
    cfg = copy.deepcopy(dataset_cfg).to_dict()
    cfg.update(data_root=str(root), **overrides)  # replaces whole entries (ConfigDict.update would merge)
    return DATASETS.build(cfg)


def write_image(path: Path, height: int, width: int, seed: int) -> np.ndarray:
    image = np.random.RandomState(seed).randint(0, 256, (height, width, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)
    return image


def label_ids(height: int, width: int, seed: int) -> np.ndarray:
    """Blocks of Cityscapes label ids, ``height`` x ``width``."""
    blocks = np.random.RandomState(seed).choice(LABEL_IDS, (4, 4))
    return np.kron(blocks, np.ones((-(-height // 4), -(-width // 4)), np.uint8))[:height, :width]


def write_label(path: Path, array: np.ndarray, palette: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(array)
    if palette:
        image.putpalette([(v * 37) % 256 for v in range(768)])
    image.save(path)


def make_cityscapes(root: Path, splits: Dict[str, Sequence[str]], size: Tuple[int, int] = (32, 64),
                    with_labels: Sequence[str] = ('train', 'val')) -> Dict[str, np.ndarray]:
    """``<split>/<city>/<stem>`` images; labels converted by the Cityscapes converter. Returns train ids by stem."""
    train_ids = {}
    for split, stems in splits.items():
        for i, stem in enumerate(stems):
            write_image(root / 'leftImg8bit' / split / f'{stem}_leftImg8bit.png', *size, seed=i)
            if split in with_labels:
                ids = label_ids(*size, seed=i)
                write_label(root / 'gtFine' / split / f'{stem}_gtFine_labelIds.png', ids)
                train_ids[stem] = to_train_ids(ids, CITYSCAPES_ID_TO_TRAIN_ID)
    if train_ids:
        convert_cityscapes(str(root))
    return train_ids


def make_gta(root: Path, names: Sequence[str], size: Tuple[int, int] = (48, 88)) -> Dict[str, np.ndarray]:
    train_ids = {}
    for i, name in enumerate(names):
        write_image(root / 'images' / f'{name}.png', *size, seed=i)
        ids = label_ids(*size, seed=i)
        write_label(root / 'labels' / f'{name}.png', ids, palette=True)
        train_ids[name] = to_train_ids(ids, CITYSCAPES_ID_TO_TRAIN_ID)
    convert_id_label_dataset(str(root), 'labels', None, 1, read_palette_label, CITYSCAPES_ID_TO_TRAIN_ID, 'GTA')
    return train_ids


def make_synthia(root: Path, names: Sequence[str], size: Tuple[int, int] = (38, 64)) -> Dict[str, np.ndarray]:
    train_ids = {}
    for i, name in enumerate(names):
        write_image(root / 'RGB' / f'{name}.png', *size, seed=i)
        label = np.zeros((*size, 3), np.uint16)  # OpenCV order B, G, R: the class id is in R
        label[..., 2] = np.random.RandomState(i).choice([3, 4, 2, 10, 0], size)
        path = root / 'GT' / 'LABELS' / f'{name}.png'
        path.parent.mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(path), label)
        train_ids[name] = to_train_ids(label[..., 2], SYNTHIA_ID_TO_TRAIN_ID)
    convert_id_label_dataset(str(root), 'GT/LABELS', None, 1, read_synthia_label, SYNTHIA_ID_TO_TRAIN_ID, 'SYNTHIA')
    return train_ids


def make_rgb_anon(root: Path, images: Sequence[str], labels: Sequence[str],
                  size: Tuple[int, int] = (54, 96)) -> Dict[str, np.ndarray]:
    """ACDC / Dark Zurich: ``rgb_anon/<rel>_rgb_anon.png``; ``gt/<rel>_gt_labelTrainIds.png`` as shipped."""
    train_ids = {}
    for i, rel in enumerate(images):
        write_image(root / 'rgb_anon' / f'{rel}_rgb_anon.png', *size, seed=i)
    for i, rel in enumerate(labels):
        train_ids[rel] = to_train_ids(label_ids(*size, seed=i), CITYSCAPES_ID_TO_TRAIN_ID)
        write_label(root / 'gt' / f'{rel}_gt_labelTrainIds.png', train_ids[rel])
    return train_ids


def infos(dataset: BaseSegDataset) -> List[dict]:
    return [dataset.get_data_info(i) for i in range(len(dataset))]


def test_all_datasets_share_the_cityscapes_classes_and_palette():
    for dataset in (CityscapesDataset, GTADataset, SynthiaDataset, ACDCDataset, DarkZurichDataset):
        assert dataset.METAINFO['classes'] == SPEC_CLASSES
        assert len(dataset.METAINFO['palette']) == 19
        assert DATASETS.get(dataset.__name__) is dataset
    palette = CityscapesDataset.METAINFO['palette']
    assert palette[0] == [128, 64, 128] and palette[10] == [70, 130, 180] and palette[18] == [119, 11, 32]
    assert issubclass(ACDCDataset, CityscapesDataset) and issubclass(DarkZurichDataset, CityscapesDataset)


def test_cityscapes_val_loads_from_config_at_full_label_resolution(tmp_path):
    root = tmp_path / 'cityscapes'
    stems = ['frankfurt/frankfurt_000000_000294', 'lindau/lindau_000001_000019']
    train_ids = make_cityscapes(root, {'val': stems, 'train': ['aachen/aachen_000000_000019']})
    dataset = build(load_cfg('uda_gta_to_cityscapes_512x512.py').val_dataloader.dataset, root)
    assert isinstance(dataset, CityscapesDataset) and dataset.with_labels
    assert dataset.metainfo['classes'] == SPEC_CLASSES and dataset.metainfo['ignore_index'] == 255
    by_stem = {}
    for info in infos(dataset):
        stem = info['img_path'][len(str(root / 'leftImg8bit' / 'val')) + 1:-len('_leftImg8bit.png')]
        assert info['seg_map_path'] == str(root / 'gtFine' / 'val' / f'{stem}_gtFine_labelTrainIds.png')
        by_stem[stem] = info['sample_idx']
    assert sorted(by_stem) == stems
    sample = dataset[by_stem[stems[1]]]
    assert sample['inputs'].shape == (3, 512, 1024) and sample['inputs'].dtype == torch.uint8  # 64x32 -> 1024x512
    gt = sample['data_samples'].gt_sem_seg.data
    assert gt.dtype == torch.int64 and gt.shape == (1, 32, 64)  # scored at the original resolution
    np.testing.assert_array_equal(gt[0].numpy(), train_ids[stems[1]])
    meta = sample['data_samples'].metainfo
    assert meta['ori_shape'] == (32, 64) and meta['img_shape'] == (512, 1024)
    assert meta['scale_factor'] == (16.0, 16.0)


@pytest.mark.parametrize('config, make, names', [
    ('uda_gta_to_cityscapes_512x512.py', make_gta, ['00002', '00001']),
    ('uda_synthia_to_cityscapes_512x512.py', make_synthia, ['0000002', '0000001']),
])
def test_source_datasets_from_configs(tmp_path, config, make, names):
    cfg = load_cfg(config)
    root = tmp_path / 'source'
    train_ids = make(root, names)
    dataset = build(cfg.source_dataset, root)
    img_dir, seg_dir = dataset.data_prefix['img_path'], dataset.data_prefix['seg_map_path']
    assert sorted((i['img_path'], i['seg_map_path']) for i in infos(dataset)) == sorted(
        (f'{img_dir}/{n}.png', f'{seg_dir}/{n}_labelTrainIds.png') for n in names)
    for i in range(len(dataset)):
        sample = dataset[i]
        assert sample['inputs'].shape == (3, 512, 512)
        gt = sample['data_samples'].gt_sem_seg.data
        assert gt.shape == (1, 512, 512) and gt.dtype == torch.int64
        name = Path(sample['data_samples'].img_path).stem
        assert set(gt.unique().tolist()) <= set(np.unique(train_ids[name]).tolist())  # nearest resize


@pytest.mark.parametrize('config, dataset_type, train_images, val', [
    ('uda_cityscapes_to_acdc_512x512.py', ACDCDataset, ['train/GOPR0475_frame_000041', 'train/GP010400_frame_000543'],
     'val/GOPR0400_frame_000001'),
    ('uda_cityscapes_to_darkzurich_512x512.py', DarkZurichDataset,
     ['train/night/GOPR0351/GOPR0351_000000', 'train/day/GOPR0348/GOPR0348_000000'],
     'val/night/GOPR0356/GOPR0356_000120'),
])
def test_target_datasets_from_configs(tmp_path, config, dataset_type, train_images, val):
    cfg = load_cfg(config)
    root = tmp_path / 'target'
    train_ids = make_rgb_anon(root, [*train_images, val], [val])
    target = build(cfg.target_dataset, root)
    assert type(target) is dataset_type and not target.with_labels
    expected = train_images if dataset_type is ACDCDataset else train_images[:1]  # Dark Zurich: night only
    assert sorted(i['img_path'] for i in infos(target)) == sorted(
        str(root / 'rgb_anon' / f'{rel}_rgb_anon.png') for rel in expected)
    sample = target[0]
    assert sample['inputs'].shape == (3, 512, 512) and 'gt_sem_seg' not in sample['data_samples']
    assert 'seg_map_path' not in sample['data_samples'].metainfo

    val_set = build(cfg.val_dataloader.dataset, root)
    assert [i['seg_map_path'] for i in infos(val_set)] == [str(root / 'gt' / f'{val}_gt_labelTrainIds.png')]
    sample = val_set[0]
    assert sample['inputs'].shape == (3, 540, 960)  # test img_scale (960, 540)
    np.testing.assert_array_equal(sample['data_samples'].gt_sem_seg.data[0].numpy(), train_ids[val])


def test_cityscapes_source_of_the_acdc_pair(tmp_path):
    root = tmp_path / 'cityscapes'
    make_cityscapes(root, {'train': ['aachen/aachen_000000_000019']}, size=(64, 128))
    sample = build(load_cfg('uda_cityscapes_to_acdc_512x512.py').source_dataset, root)[0]
    assert sample['inputs'].shape == (3, 512, 512)
    assert sample['data_samples'].gt_sem_seg.shape == (512, 512)


def test_split_file(tmp_path):
    root = tmp_path / 'cityscapes'
    stems = ['lindau/lindau_000001_000019', 'frankfurt/frankfurt_000000_000294', 'munster/munster_000000_000019']
    make_cityscapes(root, {'val': stems})
    val_cfg = load_cfg('cityscapes_half_512x512.py').val_dataloader.dataset
    dataset = build(val_cfg, root, ann_file='val.txt')  # written by the converter, sorted
    assert [i['img_path'] for i in infos(dataset)] == [
        str(root / 'leftImg8bit' / 'val' / f'{stem}_leftImg8bit.png') for stem in sorted(stems)]
    (root / 'subset.txt').write_text(f'{stems[2]}\n\n{stems[0]}\n')
    dataset = build(val_cfg, root, ann_file='subset.txt')
    assert [i['seg_map_path'] for i in infos(dataset)] == [
        str(root / 'gtFine' / 'val' / f'{stem}_gtFine_labelTrainIds.png') for stem in (stems[2], stems[0])]
    (root / 'bad.txt').write_text('lindau/lindau_999999_000019\n')
    with pytest.raises(FileNotFoundError, match=r"lindau_999999_000019_leftImg8bit\.png.*bad\.txt"):
        build(val_cfg, root, ann_file='bad.txt')
    (root / 'empty.txt').write_text('\n')
    with pytest.raises(ValueError, match='empty.txt.*is empty'):
        build(val_cfg, root, ann_file='empty.txt')
    with pytest.raises(FileNotFoundError, match='split file .*missing.txt'):
        build(val_cfg, root, ann_file='missing.txt')


def test_test_set_mode_without_labels(tmp_path):
    root = tmp_path / 'cityscapes'
    make_cityscapes(root, {'test': ['berlin/berlin_000000_000019']}, with_labels=())
    cfg = load_cfg('cityscapes_half_512x512.py')
    test_pipeline = [t for t in cfg.test_pipeline if t['type'] != 'LoadAnnotations']
    dataset = build(cfg.test_dataloader.dataset, root, data_prefix=dict(img_path='leftImg8bit/test'),
                    pipeline=test_pipeline, test_mode=True)
    assert not dataset.with_labels and 'seg_map_path' not in dataset.get_data_info(0)
    sample = dataset[0]
    assert sample['inputs'].shape == (3, 512, 1024) and 'gt_sem_seg' not in sample['data_samples']
    dataset = build(cfg.test_dataloader.dataset, root, data_prefix=dict(img_path='leftImg8bit/test'))
    with pytest.raises(KeyError, match='without labels'):
        dataset[0]


def test_clear_errors(tmp_path):
    root = tmp_path / 'gta'
    make_gta(root, ['00001', '00002', '00003'])
    source = load_cfg('uda_gta_to_cityscapes_512x512.py').source_dataset
    with pytest.raises(FileNotFoundError, match=f"image folder '{tmp_path}/nowhere/images' does not exist"):
        build(source, tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError, match=f"no images ending in '.jpg' below '{root}/images'"):
        build(source, root, img_suffix='.jpg')
    (root / 'labels' / '00002_labelTrainIds.png').unlink()
    with pytest.raises(FileNotFoundError, match=(
            f"1 of 3 images have no label file in '{root}/labels' \\(seg_map_suffix '_labelTrainIds.png'\\); "
            f"first: '{root}/labels/00002_labelTrainIds.png' for image '{root}/images/00002.png'")):
        build(source, root)
    with pytest.raises(FileNotFoundError, match=f"label folder '{root}/gt' does not exist"):
        build(source, root, data_prefix=dict(img_path='images', seg_map_path='gt'))
    with pytest.raises(ValueError, match='data_prefix needs img_path'):
        build(source, root, data_prefix=dict(img='images'))


def test_scan_order_lazy_init_and_serialisation(tmp_path):
    root = tmp_path / 'gta'
    names = ['00003', '00010', '00001', '00002']
    make_gta(root, names)
    source = load_cfg('uda_gta_to_cityscapes_512x512.py').source_dataset
    scanned = [str(root / 'images' / f) for f in scandir(str(root / 'images'), '.png', recursive=True)]
    assert [i['img_path'] for i in infos(build(source, root))] == scanned  # the reference's unsorted scan
    dataset = build(source, root, sort_files=True, lazy_init=True)
    assert not dataset._fully_initialized
    assert len(dataset) == 4 and dataset._fully_initialized
    assert [Path(i['img_path']).stem for i in infos(dataset)] == sorted(names)
    dataset.get_data_info(0)['seg_fields'].append('gt_seg_map')
    assert dataset.get_data_info(0)['seg_fields'] == []  # every access gets a fresh copy
    copy_in_worker = pickle.loads(pickle.dumps(dataset))
    assert infos(copy_in_worker) == infos(dataset)
    np.random.seed(3)
    a = copy_in_worker[1]
    np.random.seed(3)
    b = dataset[1]
    assert torch.equal(a['inputs'], b['inputs'])
    assert torch.equal(a['data_samples'].gt_sem_seg.data, b['data_samples'].gt_sem_seg.data)


def test_val_step_and_iou_metric_end_to_end(tmp_path):
    root = tmp_path / 'cityscapes'
    make_cityscapes(root, {'val': ['frankfurt/frankfurt_000000_000294', 'lindau/lindau_000001_000019']},
                    size=(64, 128))
    cfg = load_cfg('uda_gta_to_cityscapes_512x512.py')
    loader_cfg = copy.deepcopy(cfg.val_dataloader)
    loader_cfg.update(num_workers=0, persistent_workers=False)
    loader_cfg.dataset.data_root = str(root)
    loader_cfg.dataset.pipeline[1].scale = (64, 32)  # tiny test scale: 128x64 -> 64x32
    with DefaultScope.overwrite_default_scope('mmseg'):
        loader = Runner.build_dataloader(loader_cfg)
    model_cfg = Config.fromfile(str(MODEL_CONFIGS / 'daformer_sepaspp_mitb5.py')).model
    model_cfg.pretrained = None
    model_cfg.backbone.type = 'mit_b0'
    model_cfg.decode_head.in_channels = [32, 64, 160, 256]
    torch.manual_seed(0)
    model = MODELS.build(model_cfg).eval()
    metric = METRICS.build(cfg.val_evaluator)
    metric.dataset_meta = loader.dataset.metainfo
    for batch in loader:
        assert batch['inputs'][0].shape == (3, 32, 64)
        with torch.no_grad():
            outputs = model.val_step(batch)
        assert outputs[0].pred_sem_seg.shape == (64, 128)  # resized back to ori_shape
        assert outputs[0].gt_sem_seg.shape == (64, 128)
        metric.process(batch, outputs)
    assert len(metric.results) == 2
    result = metric.compute_metrics(metric.results)
    assert 0.0 <= result['mIoU'] <= 100.0 and 0.0 <= result['aAcc'] <= 100.0
