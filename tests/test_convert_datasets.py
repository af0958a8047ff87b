"""The dataset converters on tiny generated trees: train ids, class statistics, split lists, errors."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from mmseg.datasets.conversion import CITYSCAPES_ID_TO_TRAIN_ID, SYNTHIA_ID_TO_TRAIN_ID, to_train_ids

REPO_ROOT = Path(__file__).resolve().parents[1]
# spec section 8.2: Cityscapes / GTA label id -> train id
SPEC_CITYSCAPES = {7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9, 23: 10, 24: 11, 25: 12,
                   26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18}


def _script(dataset: str):
    spec = importlib.util.spec_from_file_location(f'convert_{dataset}',
                                                  REPO_ROOT / 'tools' / 'convert_datasets' / f'{dataset}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _png(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        assert image.mode == 'L'
        return np.asarray(image)


def _json(path: Path):
    return json.loads(path.read_text())


def _write_label(path: Path, array, palette: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.fromarray(np.array(array, dtype=np.uint8))
    if palette:
        image.putpalette([v % 256 for v in range(768)])
    image.save(path)


def test_label_id_tables():
    assert CITYSCAPES_ID_TO_TRAIN_ID == SPEC_CITYSCAPES
    all_ids = np.arange(256, dtype=np.uint8)
    expected = [SPEC_CITYSCAPES.get(i, 255) for i in range(256)]
    assert to_train_ids(all_ids, CITYSCAPES_ID_TO_TRAIN_ID).tolist() == expected
    assert sorted(SYNTHIA_ID_TO_TRAIN_ID.values()) == list(range(19))
    assert to_train_ids(np.array([3, 21, 11, 0, 22, 1000], np.uint16), SYNTHIA_ID_TO_TRAIN_ID).tolist() == [
        0, 3, 18, 255, 255, 255]


def test_gta_cli_converts_and_reruns(tmp_path):
    root = tmp_path / 'gta'
    _write_label(root / 'labels' / '00002.png', [[7, 7, 26], [0, 33, 26]], palette=True)
    _write_label(root / 'labels' / '00001.png', [[8, 8, 8], [8, 34, 255]], palette=True)
    (root / 'labels' / '00001_labelTrainIds.png').write_bytes(b'stale, from an interrupted run')
    command = [sys.executable, 'tools/convert_datasets/gta.py', str(root), '--nproc', '2']
    for _ in range(2):  # the second run must give the same result and skip the written train-id files
        subprocess.run(command, cwd=REPO_ROOT, check=True, capture_output=True)
        assert _png(root / 'labels' / '00002_labelTrainIds.png').tolist() == [[0, 0, 13], [255, 18, 13]]
        assert _png(root / 'labels' / '00001_labelTrainIds.png').tolist() == [[1, 1, 1], [1, 255, 255]]
        first, second = (str(root / 'labels' / f'0000{i}_labelTrainIds.png') for i in (1, 2))
        stats_text = (root / 'sample_class_stats.json').read_text()
        assert json.loads(stats_text) == [{'1': 4, 'file': first}, {'0': 2, '13': 2, '18': 1, 'file': second}]
        assert stats_text == json.dumps(json.loads(stats_text), indent=2)
        assert _json(root / 'sample_class_stats_dict.json') == {first: {'1': 4}, second: {'0': 2, '13': 2, '18': 1}}
        assert _json(root / 'samples_with_class.json') == {
            '1': [[first, 4]], '0': [[second, 2]], '13': [[second, 2]], '18': [[second, 1]]}
        assert sorted(p.name for p in root.rglob('*')) == sorted([
            'labels', '00001.png', '00002.png', '00001_labelTrainIds.png', '00002_labelTrainIds.png',
            'sample_class_stats.json', 'sample_class_stats_dict.json', 'samples_with_class.json'])


def test_synthia_uses_first_rgb_channel_and_out_dir(tmp_path):
    label = np.zeros((2, 3, 3), np.uint16)  # OpenCV order: B, G, R; the class id is in R
    label[..., 2] = [[3, 3, 21], [11, 16, 0]]
    label[..., 0] = 7  # instance ids, ignored
    path = tmp_path / 'synthia' / 'GT' / 'LABELS' / '0000001.png'
    path.parent.mkdir(parents=True)
    assert cv2.imwrite(str(path), label)
    _script('synthia').main([str(tmp_path / 'synthia'), '-o', str(tmp_path / 'out'), '--nproc', '1'])
    assert _png(path.with_name('0000001_labelTrainIds.png')).tolist() == [[0, 0, 3], [18, 9, 255]]
    out_file = str(path.with_name('0000001_labelTrainIds.png'))
    assert _json(tmp_path / 'out' / 'sample_class_stats.json') == [
        {'0': 2, '3': 1, '9': 1, '18': 1, 'file': out_file}]
    assert not (tmp_path / 'synthia' / 'sample_class_stats.json').exists()


def _polygons(objects) -> str:
    return json.dumps({'imgHeight': 4, 'imgWidth': 6, 'objects': [
        dict(label=label, polygon=[[x0, y0], [x1, y0], [x1, y1], [x0, y1]], **extra)
        for label, (x0, y0, x1, y1), extra in objects]})


def test_cityscapes_polygons_label_ids_fallback_and_splits(tmp_path):
    gt = tmp_path / 'cityscapes' / 'gtFine'
    polygons = gt / 'train' / 'aachen' / 'aachen_000000_000019_gtFine_polygons.json'
    polygons.parent.mkdir(parents=True)
    polygons.write_text(_polygons([
        ('road', (0, 0, 5, 3), {}),
        ('cargroup', (0, 0, 1, 1), {}),  # drawn as car
        ('sky', (4, 0, 5, 3), {'deleted': 1}),  # not drawn
        ('license plate', (0, 0, 0, 0), {}),  # negative id: not drawn
        ('guard rail', (5, 3, 5, 3), {}),  # ignored class: 255
    ]))
    # no polygon file: converted from the label-id PNG
    _write_label(gt / 'train' / 'bochum' / 'bochum_000000_000313_gtFine_labelIds.png',
                 [[7, 7, 8, 8, 33, 1]] * 4)
    val = gt / 'val' / 'frankfurt' / 'frankfurt_000000_000294_gtFine_polygons.json'
    val.parent.mkdir(parents=True)
    val.write_text(_polygons([('building', (0, 0, 5, 3), {})]))

    _script('cityscapes').main([str(tmp_path / 'cityscapes')])

    aachen = _png(gt / 'train' / 'aachen' / 'aachen_000000_000019_gtFine_labelTrainIds.png')
    expected = np.zeros((4, 6), np.uint8)
    expected[:2, :2] = 13
    expected[3, 5] = 255
    np.testing.assert_array_equal(aachen, expected)
    bochum_file = gt / 'train' / 'bochum' / 'bochum_000000_000313_gtFine_labelTrainIds.png'
    assert _png(bochum_file).tolist() == [[0, 0, 1, 1, 18, 255]] * 4
    assert (_png(val.with_name('frankfurt_000000_000294_gtFine_labelTrainIds.png')) == 2).all()
    root = tmp_path / 'cityscapes'
    aachen_file = str(gt / 'train' / 'aachen' / 'aachen_000000_000019_gtFine_labelTrainIds.png')
    assert _json(root / 'sample_class_stats.json') == [  # train split only
        {'0': 19, '13': 4, 'file': aachen_file}, {'0': 8, '1': 8, '18': 4, 'file': str(bochum_file)}]
    assert (root / 'train.txt').read_text() == 'aachen/aachen_000000_000019\nbochum/bochum_000000_000313\n'
    assert (root / 'val.txt').read_text() == 'frankfurt/frankfurt_000000_000294\n'
    assert (root / 'test.txt').read_text() == ''


def test_bad_layouts_name_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=str(tmp_path / 'gta' / 'labels')):
        _script('gta').main([str(tmp_path / 'gta')])
    (tmp_path / 'gta' / 'labels').mkdir(parents=True)
    _write_label(tmp_path / 'gta' / 'labels' / 'README.png', [[0]])
    with pytest.raises(FileNotFoundError, match='no GTA label PNGs'):
        _script('gta').main([str(tmp_path / 'gta')])
    with pytest.raises(FileNotFoundError, match=str(tmp_path / 'cityscapes' / 'gtFine')):
        _script('cityscapes').main([str(tmp_path / 'cityscapes')])
    (tmp_path / 'synthia' / 'GT' / 'LABELS').mkdir(parents=True)
    _write_label(tmp_path / 'synthia' / 'GT' / 'LABELS' / '0000001.png', [[3]])  # single channel
    with pytest.raises(ValueError, match='0000001.png'):
        _script('synthia').main([str(tmp_path / 'synthia'), '--nproc', '1'])
    assert list((tmp_path / 'synthia' / 'GT' / 'LABELS').iterdir()) == [
        tmp_path / 'synthia' / 'GT' / 'LABELS' / '0000001.png']
