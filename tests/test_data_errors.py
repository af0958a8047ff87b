"""Bad input data gives errors (or a warning) that name the files and say how to fix them.

Missing folders and label files quote the data set's expected layout and converter; unreadable
images and labels, and labels of another size than their image, name the files; converters count
label ids outside the table; rare class sampling without the converter statistics names the converter.
"""
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import List

import cv2
import numpy as np
import pytest
from PIL import Image

from mmseg.datasets import (ACDCDataset, BaseSegDataset, CityscapesDataset, DarkZurichDataset, GTADataset,
                            SynthiaDataset)
from mmseg.datasets.conversion import (CITYSCAPES_ID_TO_TRAIN_ID, SYNTHIA_ID_TO_TRAIN_ID, SYNTHIA_LABEL_IDS,
                                       convert_cityscapes, convert_id_label_dataset, read_palette_label,
                                       read_synthia_label)
from mmseg.datasets.transforms import loading
from mmseg.registry import DATASETS, TRANSFORMS
from tests.test_datasets import build, load_cfg, make_cityscapes, make_gta, make_rgb_anon, write_image, write_label
from tests.test_uda_dataset import uda_cfg

REPO_ROOT = Path(__file__).resolve().parents[1]
GTA_LAYOUT = ('data/gta/images/<5-digit>.png and data/gta/labels/<5-digit>_labelTrainIds.png '
              '(convert the labels with `python tools/convert_datasets/gta.py data/gta`)')
# (config, entry, data set class, what the layout says about the labels)
DATASET_ENTRIES = [
    ('uda_gta_to_cityscapes_512x512.py', 'source_dataset', GTADataset, '`python tools/convert_datasets/gta.py'),
    ('uda_synthia_to_cityscapes_512x512.py', 'source_dataset', SynthiaDataset,
     '`python tools/convert_datasets/synthia.py data/synthia`'),
    ('uda_gta_to_cityscapes_512x512.py', 'val', CityscapesDataset,
     '`python tools/convert_datasets/cityscapes.py data/cityscapes`'),
    ('uda_cityscapes_to_acdc_512x512.py', 'val', ACDCDataset, 'ACDC ships train-id labels: no conversion'),
    ('uda_cityscapes_to_acdc_512x512.py', 'target_dataset', ACDCDataset, 'ACDC ships train-id labels'),
    ('uda_cityscapes_to_darkzurich_512x512.py', 'val', DarkZurichDataset,
     'Dark Zurich ships train-id labels, for the val split only: no conversion'),
]


def dataset_cfg(config: str, entry: str):
    cfg = load_cfg(config)
    return cfg.val_dataloader.dataset if entry == 'val' else cfg[entry]


def index_of(dataset: BaseSegDataset, img_path: Path) -> int:
    return [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))].index(str(img_path))


@pytest.mark.parametrize('config, entry, dataset_type, labels', DATASET_ENTRIES)
def test_missing_image_folder_quotes_the_layout(tmp_path, config, entry, dataset_type, labels):
    with pytest.raises(FileNotFoundError) as error:
        build(dataset_cfg(config, entry), tmp_path / 'nowhere')
    message = str(error.value)
    img_dir = tmp_path / 'nowhere' / dataset_cfg(config, entry).data_prefix.img_path
    assert message.startswith(f"{dataset_type.__name__}: image folder '{img_dir}' does not exist. "
                              f'Expected layout: {dataset_type.LAYOUT}')
    assert labels in message
    if dataset_type in (ACDCDataset, DarkZurichDataset):
        assert 'tools/convert_datasets' not in message


def test_gta_messages_read_as_documented(tmp_path):
    source = load_cfg('uda_gta_to_cityscapes_512x512.py').source_dataset
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"GTADataset: image folder '{tmp_path}/images' does not exist. Expected layout: {GTA_LAYOUT}")):
        build(source, tmp_path)
    root = tmp_path / 'gta'
    write_image(root / 'images' / '00001.png', 8, 8, seed=0)
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"GTADataset: label folder '{root}/labels' does not exist (data_prefix seg_map_path; omit it for a "
            f'data set without labels). Expected layout: {GTA_LAYOUT}')):
        build(source, root)
    write_label(root / 'labels' / '00001.png', np.full((8, 8), 7, np.uint8), palette=True)  # not converted
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"GTADataset: 1 of 1 images have no label file in '{root}/labels' (seg_map_suffix '_labelTrainIds.png'); "
            f"first: '{root}/labels/00001_labelTrainIds.png' for image '{root}/images/00001.png'. "
            f'Expected layout: {GTA_LAYOUT}')):
        build(source, root)


def test_acdc_missing_labels_say_they_are_shipped(tmp_path):
    root = tmp_path / 'acdc'
    make_rgb_anon(root, ['val/GOPR0400_frame_000001'], [])
    val = load_cfg('uda_cityscapes_to_acdc_512x512.py').val_dataloader.dataset
    with pytest.raises(FileNotFoundError, match=r"ACDCDataset: label folder .*/gt/val' does not exist.*"
                                                r'ACDC ships train-id labels: no conversion'):
        build(val, root)
    (root / 'gt' / 'val').mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match=r'1 of 1 images have no label file.*ACDC ships train-id labels'):
        build(val, root)


def test_plain_base_dataset_describes_its_suffixes(tmp_path):
    (tmp_path / 'img').mkdir()
    (tmp_path / 'ann').mkdir()
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"no images ending in '.jpg' below '{tmp_path}/img'. Expected layout: "
            f'{tmp_path}/img/**/<name>.jpg and {tmp_path}/ann/**/<name>.png')):
        BaseSegDataset(data_root=str(tmp_path), data_prefix=dict(img_path='img', seg_map_path='ann'))


def _corrupt(path: Path, kind: str) -> None:
    data = path.read_bytes()
    path.write_bytes({'garbage': b'not an image at all ' * 8, 'empty': b'', 'truncated': data[:len(data) // 2]}[kind])


@pytest.mark.parametrize('kind', ['garbage', 'empty', 'truncated'])
def test_unreadable_image_names_the_file(tmp_path, kind):
    root = tmp_path / 'gta'
    make_gta(root, ['00001', '00002'])
    image = root / 'images' / '00002.png'
    _corrupt(image, kind)
    dataset = build(load_cfg('uda_gta_to_cityscapes_512x512.py').source_dataset, root)
    with pytest.raises(OSError, match=re.escape(f"LoadImageFromFile: cannot decode image '{image}'; is it empty, "
                                                'truncated or not an image?')):
        dataset[index_of(dataset, image)]
    pillow = TRANSFORMS.build(dict(type='LoadImageFromFile', imdecode_backend='pillow'))
    with pytest.raises(OSError, match=re.escape(f"cannot decode image '{image}'")):
        pillow(dict(img_path=str(image)))


def test_unreadable_label_and_vanished_image_name_the_file(tmp_path):
    root = tmp_path / 'gta'
    make_gta(root, ['00001', '00002'])
    dataset = build(load_cfg('uda_gta_to_cityscapes_512x512.py').source_dataset, root)
    label = root / 'labels' / '00001_labelTrainIds.png'
    _corrupt(label, 'garbage')
    with pytest.raises(OSError, match=re.escape(f"LoadAnnotations: cannot decode label map '{label}'")):
        dataset[index_of(dataset, root / 'images' / '00001.png')]
    image = root / 'images' / '00002.png'
    image.unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(str(image))):
        dataset[index_of(dataset, image)]


def test_label_of_another_size_names_both_files_and_sizes(tmp_path, monkeypatch):
    root = tmp_path / 'gta'
    make_gta(root, ['00001', '00002'], size=(48, 88))
    label = root / 'labels' / '00002_labelTrainIds.png'
    write_label(label, np.zeros((40, 88), np.uint8))
    source = load_cfg('uda_gta_to_cityscapes_512x512.py').source_dataset
    dataset = build(source, root, pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')])
    image = root / 'images' / '00002.png'
    message = f"LoadAnnotations: label '{label}' is 40x88 (HxW) but image '{image}' is 48x88"
    with pytest.raises(ValueError, match=re.escape(message)):
        dataset[index_of(dataset, image)]
    dataset[index_of(dataset, root / 'images' / '00001.png')]  # matching pairs load

    # the GTA source pipeline keeps the reference behaviour for such frames, with a warning
    logged = []
    monkeypatch.setattr(loading, 'print_log', lambda msg, **kwargs: logged.append(msg))
    dataset = build(source, root)
    assert 'gt_sem_seg' in dataset[index_of(dataset, image)]['data_samples']
    assert logged == [message + '; both are resized on their own, as the reference']

    # test pipelines load the label after Resize: compared with the original image size
    root = tmp_path / 'cityscapes'
    make_cityscapes(root, {'val': ['lindau/lindau_000001_000019']}, size=(32, 64))
    label = root / 'gtFine' / 'val' / 'lindau' / 'lindau_000001_000019_gtFine_labelTrainIds.png'
    write_label(label, np.zeros((16, 32), np.uint8))
    with pytest.raises(ValueError, match=r'is 16x32 \(HxW\) but image .*lindau_000001_000019_leftImg8bit\.png\' '
                                         r'is 32x64'):
        build(load_cfg('uda_gta_to_cityscapes_512x512.py').val_dataloader.dataset, root)[0]


def _id_warnings(record: List[warnings.WarningMessage]) -> List[str]:
    return [str(w.message) for w in record if 'label table' in str(w.message)]


def test_converters_count_ids_outside_the_table(tmp_path):
    root = tmp_path / 'gta'
    write_label(root / 'labels' / '00001.png', np.array([[7, 34, 34], [255, 0, 26]], np.uint8), palette=True)
    write_label(root / 'labels' / '00002.png', np.array([[7, 8, 33]], np.uint8), palette=True)
    write_label(root / 'labels' / '00003.png', np.array([[40]], np.uint8), palette=True)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter('always')
        convert_id_label_dataset(str(root), 'labels', None, 1, read_palette_label, CITYSCAPES_ID_TO_TRAIN_ID, 'GTA')
    assert _id_warnings(record) == [
        "GTA: 4 pixels in 2 of 3 label files have ids outside the GTA label table and were mapped to 255 (ignore); "
        f"pixels per id: {{34: 2, 40: 1, 255: 1}}; first file: '{root}/labels/00001.png'"]
    with Image.open(root / 'labels' / '00001_labelTrainIds.png') as image:  # the outputs do not change
        assert np.asarray(image).tolist() == [[0, 255, 255], [255, 255, 13]]

    label = np.zeros((2, 3, 3), np.uint16)  # the SYNTHIA class id is in the R channel (OpenCV index 2)
    label[..., 2] = [[3, 22, 13], [0, 30, 300]]  # 0, 13 and 22 are SYNTHIA ids mapped to 255; 30 and 300 are not
    path = tmp_path / 'synthia' / 'GT' / 'LABELS' / '0000001.png'
    path.parent.mkdir(parents=True)
    assert cv2.imwrite(str(path), label)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter('always')
        convert_id_label_dataset(str(tmp_path / 'synthia'), 'GT/LABELS', None, 1, read_synthia_label,
                                 SYNTHIA_ID_TO_TRAIN_ID, 'SYNTHIA', SYNTHIA_LABEL_IDS)
    assert _id_warnings(record) == [
        'SYNTHIA: 2 pixels in 1 of 1 label files have ids outside the SYNTHIA label table and were mapped to 255 '
        f"(ignore); pixels per id: {{30: 1, 300: 1}}; first file: '{path}'"]


def test_cityscapes_converter_counts_unknown_label_ids_and_is_quiet_on_clean_data(tmp_path):
    root = tmp_path / 'cityscapes'
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter('always')
        make_cityscapes(root, {'train': ['aachen/aachen_000000_000019']})
    assert _id_warnings(record) == []
    bad = root / 'gtFine' / 'val' / 'lindau' / 'lindau_000001_000019_gtFine_labelIds.png'
    write_label(bad, np.array([[7, 50], [50, 50]], np.uint8))
    with pytest.warns(UserWarning, match=re.escape(
            'Cityscapes: 3 pixels in 1 of 2 label files have ids outside the Cityscapes label table and were mapped '
            f"to 255 (ignore); pixels per id: {{50: 3}}; first file: '{bad}'")):
        convert_cityscapes(str(root))


def test_converter_cli_prints_the_warning(tmp_path):
    root = tmp_path / 'gta'
    for name in ('00001', '00002'):
        write_label(root / 'labels' / f'{name}.png', np.array([[7, 200]], np.uint8), palette=True)
    run = subprocess.run([sys.executable, 'tools/convert_datasets/gta.py', str(root), '--nproc', '2'],
                         cwd=REPO_ROOT, check=True, capture_output=True, text=True)
    assert 'GTA: 2 pixels in 2 of 2 label files have ids outside the GTA label table' in run.stderr


@pytest.mark.parametrize('name', ['sample_class_stats.json', 'samples_with_class.json'])
def test_rare_class_sampling_without_statistics_names_the_converter(tmp_path, name):
    cfg = uda_cfg(tmp_path, dict(min_pixels=100, class_temp=0.01, min_crop_ratio=0.5))
    stats = tmp_path / 'gta' / name
    shutil.copy(stats, tmp_path / name)
    stats.unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(
            f'{stats} not found. Rare class sampling reads {name} from the source data root; it is written by the '
            f'dataset converter: run `python tools/convert_datasets/gta.py {tmp_path}/gta` (synthia.py or '
            'cityscapes.py for those sources), or set rare_class_sampling=None.')):
        DATASETS.build(cfg)
    stats.write_text((tmp_path / name).read_text()[:-20])  # cut short
    with pytest.raises(ValueError, match=re.escape(f'{stats} is not valid JSON')):
        DATASETS.build(cfg)
