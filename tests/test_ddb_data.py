"""DDB's data: the Synscapes and Mapillary converters, their data sets (and the synthetic pair's styles of them), the
domain-bridging training set, and the errors of a Mapillary folder without converted labels."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from mmseg.datasets import DomainBridgingDataset, MapillaryDataset
from mmseg.registry import DATASETS
from tests.ddb_helpers import seed_all, tiny_synthetic_pair
from tools import make_synthetic_data
from tools.convert_datasets import mapillary2cityscape, mapillary_resize, synscapes

REPO_ROOT = Path(__file__).resolve().parents[1]
SYNTH_ST = REPO_ROOT / 'configs/ddb/synth/r1_st_cu_dlv2_r18v1c-tiny_1x8_128x128_1k_synth2city.py'


@pytest.fixture(scope='module')
def pair(tmp_path_factory):
    return tiny_synthetic_pair(tmp_path_factory)


def _png(path, array, mode='L'):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array, np.uint8), mode).save(path)


def test_synscapes_converter_writes_train_ids_colours_and_statistics(tmp_path):
    root = tmp_path / 'synscapes'
    _png(root / 'img' / 'class' / '1.png', [[7, 8, 26], [0, 33, 40]])  # road, sidewalk, car, unlabeled, bicycle, ?
    with pytest.warns(UserWarning, match=r'Synscapes: 1 pixels .* ids outside'):
        synscapes.main([str(root), '--nproc', '1'])
    train_ids = np.array(Image.open(root / 'img' / 'class' / '1_gt_labelTrainIds.png'))
    assert train_ids.tolist() == [[0, 1, 13], [255, 18, 255]]
    colours = np.array(Image.open(root / 'img' / 'class' / '1_gt_color.png'))
    assert colours[0, 0].tolist() == [128, 64, 128] and colours[1, 0].tolist() == [0, 0, 0]
    stats = json.loads((root / 'sample_class_stats.json').read_text())
    assert stats == [{'0': 1, '1': 1, '13': 1, '18': 1, 'file': str(root / 'img' / 'class' / '1_gt_labelTrainIds.png')}]


def test_mapillary_names_map_by_the_reference_rules_and_the_mapping_is_printed(tmp_path, capsys):
    root = tmp_path / 'mapillary'
    labels = [dict(name=name, readable=readable) for name, readable in make_synthetic_data.MAPILLARY_CLASSES]
    root.mkdir()
    (root / 'config_v1.2.json').write_text(json.dumps(dict(labels=labels)))
    index = {readable: i for i, (_, readable) in enumerate(make_synthetic_data.MAPILLARY_CLASSES)}
    names = ['Road', 'Curb', 'Crosswalk - Plain', 'Lane Marking - Crosswalk', 'Traffic Sign Frame',
             'Traffic Sign (Back)', 'Utility Pole', 'Street Light', 'Motorcyclist', 'On Rails', 'Traffic Light',
             'Guard Rail', 'Ego Vehicle', 'Bike Rack']
    expected = [0, 1, 0, 0, 7, 7, 5, 5, 12, 16, 6, 255, 255, 255]
    for split in ('training', 'validation'):
        _png(root / split / 'v1.2' / 'labels' / f'{split}_a.png', [[index[name] for name in names]])
    mapillary2cityscape.main([str(root), str(root / 'out'), '--train_id', '--nproc', '1'])
    for split, out_split in (('training', 'train'), ('validation', 'val')):
        assert np.array(Image.open(root / 'out' / out_split / 'label' / f'{split}_a.png'))[0].tolist() == expected
    printed = capsys.readouterr().out
    for line in ('Curb -> sidewalk', 'Guard Rail -> ignore', 'Traffic Sign Frame -> traffic sign', 'On Rails -> train',
                 'Motorcyclist -> rider', 'Lane Marking - Crosswalk -> road', 'Bicycle -> bicycle'):
        assert line in printed
    mapillary2cityscape.main([str(root), str(root / 'ids'), '--nproc', '1'])  # without --train_id: label ids
    assert np.array(Image.open(root / 'ids' / 'train' / 'label' / 'training_a.png'))[0, :2].tolist() == [7, 8]


def test_mapillary_resize_halves_images_and_labels(tmp_path):
    Image.fromarray(np.full((6, 10, 3), 200, np.uint8)).save(tmp_path / 'a.jpg')
    _png(tmp_path / 'labels' / 'a.png', np.arange(60).reshape(6, 10) % 19)
    mapillary_resize.main([str(tmp_path), str(tmp_path / 'labels'), str(tmp_path / 'img'), str(tmp_path / 'lbl'),
                           '--nproc', '1'])
    assert Image.open(tmp_path / 'img' / 'a.jpg').size == (5, 3)
    label = np.array(Image.open(tmp_path / 'lbl' / 'a.png'))
    assert label.shape == (3, 5) and set(np.unique(label)) <= set(range(19))


def test_the_synthetic_ddb_domains_load_as_synscapes_and_mapillary(pair, monkeypatch):
    monkeypatch.chdir(pair.parent.parent)  # the configs read data/synthetic/
    cfg = Config.fromfile(REPO_ROOT / 'configs/_base_/datasets/synthetic_synscapes_128x128.py')
    datasets = [DATASETS.build(cfg.synscapes_dataset)]
    cfg = Config.fromfile(REPO_ROOT / 'configs/_base_/datasets/synthetic_mapillary_128x128.py')
    datasets += [DATASETS.build(cfg.mapillary_train_dataset), DATASETS.build(cfg.mapillary_val_dataset)]
    assert [len(d) for d in datasets] == [4, 4, 2]
    for dataset in datasets:
        sample = dataset[0]
        assert tuple(sample['inputs'].shape) == (3, 128, 128)  # Mapillary: 256 resized / halved to 128
        labels = set(torch.unique(sample['data_samples'].gt_sem_seg.data).tolist())
        assert labels <= set(range(19)) and len(labels) > 3


def test_a_mapillary_folder_without_converted_labels_names_the_converter(tmp_path):
    (tmp_path / 'training' / 'images').mkdir(parents=True)
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / 'training' / 'images' / 'a.jpg')
    with pytest.raises(FileNotFoundError, match=r'label folder .*cityscapes_trainIdLabel/train/label.*'
                                                r'mapillary2cityscape.py data/mapillary .* --train_id'):
        MapillaryDataset(data_root=str(tmp_path), data_prefix=dict(
            img_path='training/images', seg_map_path='cityscapes_trainIdLabel/train/label'))


def _bridging_dataset(pair, monkeypatch, **options):
    monkeypatch.chdir(pair.parent.parent)
    cfg = Config.fromfile(SYNTH_ST).train_dataloader.dataset
    cfg.update(options)
    return DATASETS.build(cfg.to_dict())


def test_bridging_items_mix_the_source_into_the_target_by_mode(pair, monkeypatch):
    for mode in ('cut', 'class', 'zero'):
        dataset = _bridging_dataset(pair, monkeypatch, mode=mode, post_pmd=False, post_blur=False)
        assert isinstance(dataset, DomainBridgingDataset) and len(dataset) == 4
        seed_all(0)
        item = dataset[1]
        mask = item['bridging_mask']
        source, target = item['inputs'].float(), item['target_inputs'].float()
        assert mask.dtype == torch.int64 and tuple(mask.shape) == (1, 128, 128)
        torch.testing.assert_close(item['bridging_inputs'], torch.where(mask.bool(), source, target), rtol=0, atol=0)
        label = item['data_samples'].gt_sem_seg.data
        if mode == 'cut':
            assert abs(float(mask.float().mean()) - 0.4) < 0.02  # one box of 40 % of the crop
        elif mode == 'class':  # half of the source crop's classes (rounded up), whole
            classes = torch.unique(label)
            chosen = torch.unique(label[mask.bool()])
            assert len(chosen) == (len(classes) + 1) // 2 and bool(torch.isin(label, chosen).eq(mask.bool()).all())
        else:
            assert not mask.any()
    seed_all(0)
    augmented = _bridging_dataset(pair, monkeypatch, mode='zero')[1]['bridging_inputs']
    assert not torch.equal(augmented, item['bridging_inputs'])  # jitter (p 0.8) / blur (p 0.5) under this seed


def test_bridging_needs_crops_of_one_size(pair, monkeypatch):
    dataset = _bridging_dataset(pair, monkeypatch)
    dataset.target.pipeline.transforms[2].crop_size = (64, 64)  # the target's RandomCrop
    with pytest.raises(ValueError, match=r'source crop \(128, 128\) and the target crop \(64, 64\) differ'):
        dataset[0]
