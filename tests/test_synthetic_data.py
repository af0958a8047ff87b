"""The synthetic GTA-like / Cityscapes-like generator (tools/make_synthetic_data.py) on tiny sets.

Determinism (seed, --nproc), the converter outputs, the classes present, loading through the
real data sets and rare class sampling, the appearance-shift design and the command-line errors.
"""
import hashlib
import json
import os
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
from PIL import Image

from mmseg.datasets import CityscapesDataset, GTADataset
from mmseg.datasets.conversion import CITYSCAPES_ID_TO_TRAIN_ID, convert_cityscapes
from mmseg.datasets.uda_dataset import UDADataset
from tools import make_synthetic_data as synth

SMALL = ['--num', '6', '--num-target-train', '4', '--num-val', '2', '--size', '64', '64']
TRAIN = CITYSCAPES_ID_TO_TRAIN_ID  # label id -> train id


def run(out_dir: Path, *extra: str) -> None:
    synth.main(['--out-dir', str(out_dir), *SMALL, *extra])


def file_hashes(root: Path) -> Dict[str, str]:
    """sha256 of every file by relative path; the root path inside the JSON statistics is neutralised."""
    hashes = {}
    for path in sorted(root.rglob('*')):
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == '.json':
                data = data.replace(str(root).encode(), b'<root>')
            hashes[str(path.relative_to(root))] = hashlib.sha256(data).hexdigest()
    return hashes


def read_png(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


@pytest.fixture(scope='module')
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp('a') / 'synthetic'
    run(out)
    return out


def test_layout_and_counts(generated):
    assert json.loads((generated / 'generator.json').read_text()) == dict(
        generator='tools/make_synthetic_data.py', version=synth.VERSION, seed=0, size=[64, 64], num_source=6,
        num_target_train=4, num_val=2, shift=1.0)
    gta = generated / 'gta'
    assert sorted(p.name for p in (gta / 'images').iterdir()) == [f'{i:05d}.png' for i in range(1, 7)]
    assert len(list((gta / 'labels').glob('?????.png'))) == 6
    assert len(list((gta / 'labels').glob('*_labelTrainIds.png'))) == 6
    with Image.open(gta / 'labels' / '00001.png') as label:
        assert label.mode == 'P'  # as GTA ships them
    with Image.open(gta / 'images' / '00001.png') as image:
        assert image.mode == 'RGB' and image.size == (64, 64)
    cs = generated / 'cityscapes'
    for split, n in (('train', 4), ('val', 2)):
        images = sorted((cs / 'leftImg8bit' / split).rglob('*_leftImg8bit.png'))
        assert len(images) == n
        for image in images:
            stem = image.name[:-len('_leftImg8bit.png')]
            city = image.parent.name
            assert stem.startswith(f'{city}_000000_')
            gt = cs / 'gtFine' / split / city
            assert (gt / f'{stem}_gtFine_labelIds.png').is_file()
            assert (gt / f'{stem}_gtFine_labelTrainIds.png').is_file()
        assert len((cs / f'{split}.txt').read_text().split()) == n
    for root in (gta, cs):
        for name in ('sample_class_stats.json', 'sample_class_stats_dict.json', 'samples_with_class.json'):
            assert (root / name).is_file()
    # the statistics name the final files, not the temporary build folder
    files = [entry['file'] for entry in json.loads((gta / 'sample_class_stats.json').read_text())]
    assert files == [os.path.join(str(generated), 'gta', 'labels', f'{i:05d}_labelTrainIds.png')
                     for i in range(1, 7)]
    assert not [p for p in generated.parent.iterdir() if p.name.startswith('.')]


def test_statistics_equal_a_direct_conversion(generated, tmp_path):
    """The rewritten JSON files are those the converter writes when run on the final folder."""
    out = tmp_path / 'stats'
    convert_cityscapes(str(generated / 'cityscapes'), out_dir=str(out))
    for name in ('sample_class_stats.json', 'sample_class_stats_dict.json', 'samples_with_class.json',
                 'train.txt', 'val.txt'):
        assert (out / name).read_text() == (generated / 'cityscapes' / name).read_text(), name


def test_same_seed_is_byte_identical_and_independent_of_nproc(generated, tmp_path):
    again = tmp_path / 'synthetic'
    run(again, '--nproc', '2')
    assert file_hashes(again) == file_hashes(generated)


def test_other_seed_gives_other_images(generated, tmp_path):
    other = tmp_path / 'synthetic'
    run(other, '--seed', '1')
    for rel in ('gta/images/00001.png', 'gta/labels/00001.png'):
        assert (other / rel).read_bytes() != (generated / rel).read_bytes()
    assert file_hashes(other).keys() == file_hashes(generated).keys()


def test_train_ids_cover_the_street_classes(generated):
    names = synth.id2label
    seen: Dict[str, set] = {}
    for domain, pattern in (('gta', 'gta/labels/*_labelTrainIds.png'),
                            ('cityscapes', 'cityscapes/gtFine/*/*/*_labelTrainIds.png')):
        ids = set()
        for path in generated.glob(pattern):
            ids |= set(np.unique(read_png(path)).tolist())
        assert 255 not in ids, f'{domain}: every pixel is labelled'
        seen[domain] = ids
    always = {TRAIN[i] for i in (synth.ROAD, synth.SIDEWALK, synth.BUILDING, synth.SKY, synth.CAR, synth.VEGETATION)}
    for domain, ids in seen.items():
        assert always <= ids, (domain, sorted(always - ids))
    rare = json.loads((generated / 'gta' / 'samples_with_class.json').read_text())
    assert str(TRAIN[synth.TRUCK]) in rare or str(TRAIN[synth.BUS]) in rare, 'a rare vehicle in some source image'
    assert {names[i].name for i in synth.LABEL_IDS} >= {'road', 'truck', 'bus', 'rider', 'bicycle'}


def test_layout_sampler_draws_every_class_and_shifts_frequencies():
    """Over many layouts (labels only): all 18 classes per domain; more cars, fewer people in the target."""
    pixels = {}
    for domain in (synth.SOURCE, synth.TARGET):
        counts = np.zeros(256, np.int64)
        for i in range(150):
            rng = np.random.default_rng(synth.image_seed(0, domain, 'train', i).spawn(2)[0])
            layout = synth.sample_layout(rng, 64, 64, domain)
            _, label = synth.draw(layout, np.zeros((len(layout.instances), 3)))
            counts += np.bincount(label.ravel(), minlength=256)
        assert counts[0] == 0
        missing = [synth.id2label[i].name for i in synth.LABEL_IDS if counts[i] == 0]
        assert not missing, (domain, missing)
        pixels[domain] = counts / counts.sum()
    assert pixels[synth.TARGET][synth.CAR] > 1.2 * pixels[synth.SOURCE][synth.CAR]
    assert pixels[synth.TARGET][synth.PERSON] < 0.8 * pixels[synth.SOURCE][synth.PERSON]


def test_every_target_colour_stays_nearest_its_own_source_colour():
    source = {i: np.asarray(synth.SOURCE_PALETTE[i], float) for i in synth.LABEL_IDS}
    for shift in (0.5, 1.0, 2.0):
        target = synth.class_colours(synth.TARGET, shift)
        for i in synth.LABEL_IDS:
            own = np.linalg.norm(target[i] - source[i])
            other = min(np.linalg.norm(target[i] - source[j]) for j in synth.LABEL_IDS if j != i)
            assert own <= synth.RECOGNISABLE_RATIO * other + 1, (shift, synth.id2label[i].name, own, other)


def test_shift_zero_renders_the_target_like_the_source():
    rng = np.random.default_rng(3)
    layout = synth.sample_layout(rng, 64, 64, synth.SOURCE)
    source, label = synth.render(layout, synth.SOURCE, 0.0, np.random.default_rng(4))
    flat, _ = synth.render(layout, synth.TARGET, 0.0, np.random.default_rng(4))
    shifted, label_shifted = synth.render(layout, synth.TARGET, 1.0, np.random.default_rng(4))
    assert np.array_equal(source, flat)
    assert np.array_equal(label, label_shifted)
    assert np.abs(shifted.astype(int) - source.astype(int)).mean() > 15


def test_datasets_load_and_rcs(generated):
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')]
    gta = GTADataset(data_root=str(generated / 'gta'), data_prefix=dict(img_path='images', seg_map_path='labels'),
                     pipeline=pipeline)
    assert len(gta) == 6
    sample = gta[0]
    assert sample['img'].shape == (64, 64, 3) and sample['gt_seg_map'].shape == (64, 64)
    expected = read_png(Path(sample['seg_map_path']))  # the scan order is the file system's
    assert sample['seg_map_path'].endswith('_labelTrainIds.png')
    assert np.array_equal(sample['gt_seg_map'], expected)
    for split, n in (('train', 4), ('val', 2)):
        cs = CityscapesDataset(data_root=str(generated / 'cityscapes'), ann_file=f'{split}.txt',
                               data_prefix=dict(img_path=f'leftImg8bit/{split}', seg_map_path=f'gtFine/{split}'),
                               pipeline=pipeline)
        assert len(cs) == n and cs[0]['gt_seg_map'].max() < 19
    source = dict(type='GTADataset', data_root=str(generated / 'gta'),
                  data_prefix=dict(img_path='images', seg_map_path='labels'), pipeline=pipeline)
    target = dict(type='CityscapesDataset', data_root=str(generated / 'cityscapes'),
                  data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'), pipeline=pipeline)
    uda = UDADataset(source, target, rare_class_sampling=dict(min_pixels=0, class_temp=0.01, min_crop_ratio=0.5))
    assert uda.rcs is not None and set(uda.rcs.files) <= set(range(19))


def test_up_to_date_refused_and_forced(tmp_path, capsys):
    out = tmp_path / 'synthetic'
    run(out)
    stamp = (out / 'gta' / 'images' / '00001.png').stat().st_mtime_ns
    capsys.readouterr()
    run(out)
    assert 'up to date' in capsys.readouterr().out
    assert (out / 'gta' / 'images' / '00001.png').stat().st_mtime_ns == stamp
    with pytest.raises(SystemExit) as error:
        run(out, '--seed', '1')
    assert 'other settings' in str(error.value.code) and '--force' in str(error.value.code)
    assert json.loads((out / 'generator.json').read_text())['seed'] == 0
    run(out, '--seed', '1', '--force')
    assert json.loads((out / 'generator.json').read_text())['seed'] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ['synthetic']  # no temporary folders left


def test_a_foreign_folder_is_never_replaced(tmp_path):
    out = tmp_path / 'data'
    (out / 'gta').mkdir(parents=True)
    for extra in ((), ('--force', )):
        with pytest.raises(SystemExit) as error:
            run(out, *extra)
        assert 'not a synthetic data set' in str(error.value.code)
    assert (out / 'gta').is_dir()


def test_an_unreadable_generator_json_needs_force(tmp_path):
    out = tmp_path / 'synthetic'
    out.mkdir()
    (out / 'generator.json').write_text('{')
    with pytest.raises(SystemExit) as error:
        run(out)
    assert '--force' in str(error.value.code)
    run(out, '--force')
    assert json.loads((out / 'generator.json').read_text())['version'] == synth.VERSION


def test_interrupted_run_leaves_nothing(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(synth, 'save_class_stats', fail)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / 'synthetic')
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize('args, message', [
    (['--num', '0'], '--num must be at least 1'),
    (['--num-val', '0'], '--num-val must be at least 1'),
    (['--size', '60', '64'], 'multiples of 32'),
    (['--size', '64', '0'], 'multiples of 32'),
    (['--shift', '-0.5'], '--shift must be between 0 and 2'),
])
def test_bad_arguments(tmp_path, capsys, args: List[str], message: str):
    with pytest.raises(SystemExit) as error:
        synth.main(['--out-dir', str(tmp_path / 'synthetic'), *SMALL, *args])
    assert error.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / 'synthetic').exists()


def test_preview(tmp_path):
    path = tmp_path / 'preview.png'
    synth.main(['--preview', str(path), '--size', '64', '64'])
    assert read_png(path).shape[2] == 3
