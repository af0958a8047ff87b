"""Foggy Cityscapes and Rain Cityscapes on tiny trees in their release layouts: indexing, the β / rain-parameter
selection, pairing with the clear frame's gtFine label, and the errors for missing files."""
import shutil
from pathlib import Path
from typing import Dict, Tuple

import numpy as np
import pytest

from mmseg.datasets import FoggyCityscapesDataset, RainCityscapesDataset
from tests.test_datasets import make_cityscapes, write_image

FRAMES = {'train': ['aachen/aachen_000000_000019', 'bochum/bochum_000000_000313'],
          'val': ['lindau/lindau_000000_000019']}
BETAS = ('0.005', '0.01', '0.02')
# (alpha, beta, dropsize) of two rendering levels; patterns 1 and 2
RAIN_LEVELS = (('0.01', '0.005', '0.01'), ('0.03', '0.015', '0.002'))
RAIN_PATTERNS = (1, 2)
TEST_PIPELINE = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'), dict(type='PackSegInputs')]
SIZE = (32, 48)


def foggy_name(frame: str, beta: str) -> str:
    return f'{frame}_leftImg8bit_foggy_beta_{beta}.png'


def rain_name(frame: str, alpha: str, beta: str, dropsize: str, pattern: int) -> str:
    return f'{frame}_leftImg8bit_rain_alpha_{alpha}_beta_{beta}_dropsize_{dropsize}_pattern_{pattern}.png'


def make_weather_cityscapes(root: Path, frames: Dict[str, list] = FRAMES) -> Dict[str, np.ndarray]:
    """Clear Cityscapes frames with converted labels, plus Foggy (three β) and Rain (two levels x two patterns)
    renderings of each; returns the train ids by frame name (``<city>_<seq>_<frame>``)."""
    train_ids = make_cityscapes(root, frames, size=SIZE)
    for split, stems in frames.items():
        for i, stem in enumerate(stems):
            for k, beta in enumerate(BETAS):
                write_image(root / 'leftImg8bit_foggy' / split / foggy_name(stem, beta), *SIZE, seed=100 + 10 * i + k)
            for level in RAIN_LEVELS:
                for pattern in RAIN_PATTERNS:
                    write_image(root / 'leftImg8bit_rain' / split / rain_name(stem, *level, pattern), *SIZE,
                                seed=200 + i)
    return {stem.split('/')[1]: ids for stem, ids in train_ids.items()}


@pytest.fixture(scope='module')
def weather(tmp_path_factory) -> Tuple[Path, Dict[str, np.ndarray]]:
    root = tmp_path_factory.mktemp('cityscapes')
    return root, make_weather_cityscapes(root)


def foggy(root: Path, split: str = 'train', **kwargs) -> FoggyCityscapesDataset:
    prefix = dict(img_path=f'leftImg8bit_foggy/{split}', seg_map_path=f'gtFine/{split}')
    return FoggyCityscapesDataset(data_root=str(root), data_prefix=kwargs.pop('data_prefix', prefix),
                                  pipeline=kwargs.pop('pipeline', TEST_PIPELINE), sort_files=True, **kwargs)


def rain(root: Path, split: str = 'train', **kwargs) -> RainCityscapesDataset:
    prefix = dict(img_path=f'leftImg8bit_rain/{split}', seg_map_path=f'gtFine/{split}')
    return RainCityscapesDataset(data_root=str(root), data_prefix=kwargs.pop('data_prefix', prefix),
                                 pipeline=kwargs.pop('pipeline', TEST_PIPELINE), sort_files=True, **kwargs)


def frame_of(path: str) -> str:
    return Path(path).name.split('_leftImg8bit')[0]


def names(dataset) -> list:
    return [Path(dataset.get_data_info(i)['img_path']).name for i in range(len(dataset))]


def assert_labels_of_clear_frames(dataset, root: Path, split: str, train_ids: Dict[str, np.ndarray]) -> None:
    """Every sample's label file and loaded label are those of its clear frame."""
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        frame = frame_of(info['img_path'])
        city = frame.split('_')[0]
        assert info['seg_map_path'] == str(root / 'gtFine' / split / city / f'{frame}_gtFine_labelTrainIds.png')
        np.testing.assert_array_equal(dataset[i]['data_samples'].gt_sem_seg.data[0].numpy(), train_ids[frame])


def test_foggy_keeps_beta_002_by_default_with_the_labels_of_the_clear_frames(weather):
    root, train_ids = weather
    dataset = foggy(root, clear_img_dir='leftImg8bit/train')
    assert names(dataset) == [foggy_name('aachen_000000_000019', '0.02'), foggy_name('bochum_000000_000313', '0.02')]
    assert_labels_of_clear_frames(dataset, root, 'train', train_ids)
    val = foggy(root, 'val')
    assert names(val) == [foggy_name('lindau_000000_000019', '0.02')]
    assert_labels_of_clear_frames(val, root, 'val', train_ids)


@pytest.mark.parametrize('beta, expected', [(0.01, ['0.01']), ('0.010', ['0.01']), ([0.005, 0.02], ['0.005', '0.02']),
                                            (None, ['0.005', '0.01', '0.02'])])
def test_foggy_beta_is_selectable(weather, beta, expected):
    dataset = foggy(weather[0], beta=beta)
    assert sorted(name.split('_beta_')[1][:-4] for name in names(dataset)) == sorted(expected * 2)


def test_rain_keeps_every_rendering_by_default_each_with_the_label_of_its_frame(weather):
    root, train_ids = weather
    dataset = rain(root, clear_img_dir='leftImg8bit/train')
    assert len(dataset) == 2 * len(RAIN_LEVELS) * len(RAIN_PATTERNS)
    assert sorted(names(dataset)) == sorted(rain_name(stem.split('/')[1], *level, pattern)
                                            for stem in FRAMES['train'] for level in RAIN_LEVELS
                                            for pattern in RAIN_PATTERNS)
    assert_labels_of_clear_frames(dataset, root, 'train', train_ids)
    assert len(rain(root, pattern=2)) == 4
    assert names(rain(root, alpha=0.03, pattern=[1])) == [rain_name('aachen_000000_000019', *RAIN_LEVELS[1], 1),
                                                          rain_name('bochum_000000_000313', *RAIN_LEVELS[1], 1)]


def test_target_images_without_labels_are_allowed(weather):
    dataset = rain(weather[0], data_prefix=dict(img_path='leftImg8bit_rain/train'), pipeline=[])
    assert len(dataset) == 8 and 'seg_map_path' not in dataset.get_data_info(0)


def test_a_beta_without_files_names_it_and_lists_what_is_there(weather):
    with pytest.raises(FileNotFoundError, match=r"no Foggy Cityscapes images with beta=0.03 below .*leftImg8bit_foggy"
                                                r"/train.*beta=0.005 \(2 images\); beta=0.01 \(2 images\); "
                                                r"beta=0.02 \(2 images\)"):
        foggy(weather[0], beta=0.03)
    with pytest.raises(FileNotFoundError, match=r'no Rain Cityscapes images with pattern=7 below'):
        rain(weather[0], pattern=7)


def test_a_rain_folder_without_labels_says_what_is_missing(weather, tmp_path):
    root = tmp_path / 'cityscapes'
    shutil.copytree(weather[0] / 'leftImg8bit_rain', root / 'leftImg8bit_rain')
    with pytest.raises(FileNotFoundError, match=r"label folder .*gtFine/train' does not exist.*Expected layout: data/"
                                                r"cityscapes/leftImg8bit_rain/.*gtFine_labelTrainIds.png"):
        rain(root)
    (root / 'gtFine' / 'train' / 'aachen').mkdir(parents=True)
    shutil.copy(weather[0] / 'gtFine' / 'train' / 'aachen' / 'aachen_000000_000019_gtFine_labelTrainIds.png',
                root / 'gtFine' / 'train' / 'aachen')
    with pytest.raises(FileNotFoundError, match=r"4 of 8 images have no label file in .*gtFine/train'.*first: '.*bochum"
                                                r"_000000_000313_gtFine_labelTrainIds.png' for image '.*bochum_000000_"
                                                r"000313_leftImg8bit_rain_alpha_.*_pattern_\d.png'"):
        rain(root)


def test_an_image_whose_clear_frame_is_absent_is_an_error(weather, tmp_path):
    root = tmp_path / 'cityscapes'
    shutil.copytree(weather[0], root)
    (root / 'leftImg8bit' / 'train' / 'bochum' / 'bochum_000000_000313_leftImg8bit.png').unlink()
    assert len(foggy(root)) == 2  # without clear_img_dir the clear images are not needed
    with pytest.raises(FileNotFoundError, match=r"clear Cityscapes frame of .*bochum_000000_000313_leftImg8bit_foggy_"
                                                r"beta_0.02.png' is absent: .*leftImg8bit/train/bochum/bochum_000000"
                                                r"_000313_leftImg8bit.png'"):
        foggy(root, clear_img_dir='leftImg8bit/train')


def test_bad_file_names_and_arguments_are_errors(weather, tmp_path):
    root = tmp_path / 'cityscapes'
    shutil.copytree(weather[0], root)
    write_image(root / 'leftImg8bit_foggy' / 'train' / 'aachen' / 'aachen_leftImg8bit_foggy_beta_x.png', *SIZE, seed=0)
    with pytest.raises(ValueError, match=r"aachen_leftImg8bit_foggy_beta_x.png' is not a Foggy Cityscapes file name"):
        foggy(root)
    with pytest.raises(FileNotFoundError, match=r"no Foggy Cityscapes images \(\*_leftImg8bit_foggy_\*.png\) below "
                                                r".*leftImg8bit_rain/train"):
        foggy(weather[0], data_prefix=dict(img_path='leftImg8bit_rain/train'))
    with pytest.raises(ValueError, match='ann_file is not supported'):
        foggy(weather[0], ann_file='train.txt')
    with pytest.raises(ValueError, match='img_suffix is fixed'):
        foggy(weather[0], img_suffix='.jpg')
    with pytest.raises(ValueError, match=r"rendering parameter 'dense' is not a number"):
        foggy(weather[0], beta='dense')
