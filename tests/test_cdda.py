"""CDDA: depth data, the source bank (tools/cdda_preprocess.py), the DACS add-on step, resume and bad input."""
import copy
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.structures import PixelData

import mmseg.engine  # noqa: F401
from mmseg.datasets import CityscapesDataset, GTADataset
from mmseg.datasets.cdda_bank import (CropBank, count_crop_files, crop_counts, distribution_file, resolve_cdda,
                                      write_bank_crops)
from mmseg.datasets.transforms import LoadDepthMap
from mmseg.datasets.transforms.depth_loading import DEPTH_LUT, DEPTH_MAP
from mmseg.models.uda.depth_guidance import DepthGuidance, guidance_loss, student_logits
from mmseg.models.uda.depth_similarity import DepthBank, count_matrix, similarities
from mmseg.registry import MODELS
from tests.test_dacs import DACS_CFG, TINY_MODEL
from tests.test_datasets import make_cityscapes, make_gta
from tests.test_train_runner import experiment_config, train_straight_and_resumed

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
from tools.cdda_preprocess import make_bank  # noqa: E402

MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]


@pytest.fixture(autouse=True)
def mmseg_scope():
    with DefaultScope.overwrite_default_scope('mmseg'):
        yield


def write_depth_maps(image_dir: Path, depth_dir: Path, cityscapes: bool = False) -> None:
    """An 8-bit depth map (a left-right ramp) beside every image, in the CDDA layout."""
    for image in sorted(image_dir.rglob('*.png')):
        h, w = cv2.imread(str(image)).shape[:2]
        name = str(image.relative_to(image_dir))
        path = depth_dir / (name.replace('leftImg8bit', 'depth') if cityscapes else name)
        path.parent.mkdir(parents=True, exist_ok=True)
        ramp = np.tile(np.linspace(0, 255, w).astype(np.uint8), (h, 1))
        cv2.imwrite(str(path), ramp)


# ---------------------------------------------------------------------------------------------------
# Depth data
# ---------------------------------------------------------------------------------------------------
def test_data_sets_load_depth_in_the_reference_layouts_and_carry_it_through_the_pipeline(tmp_path):
    make_gta(tmp_path / 'gta', ['00001', '00002'])
    make_cityscapes(tmp_path / 'cs', dict(train=['c_000000_000001']), size=(32, 64))
    write_depth_maps(tmp_path / 'gta' / 'images', tmp_path / 'gta' / 'depth_any')
    write_depth_maps(tmp_path / 'cs' / 'leftImg8bit' / 'train', tmp_path / 'cs' / 'depth_any' / 'train', True)
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                dict(type='Resize', scale=(64, 35), keep_ratio=True), dict(type='RandomCrop', crop_size=(24, 24)),
                dict(type='RandomFlip', prob=1.0), dict(type='PackSegInputs')]
    gta = GTADataset(data_root=str(tmp_path / 'gta'), pipeline=pipeline,
                     data_prefix=dict(img_path='images', seg_map_path='labels', depth_path='depth_any'))
    info = gta.get_data_info(0)
    assert info['depth_path'] == info['img_path'].replace('/images/', '/depth_any/')
    sample = gta[0]['data_samples']
    depth = getattr(sample, DEPTH_MAP).data
    assert depth.shape == (1, 24, 24) and depth.dtype == torch.float32
    assert not torch.equal(depth, depth.round())  # bilinear resize: non-integer values
    # the depth follows the flip: the transformed left-right ramp decreases, flipped it increases along the rows
    steps = depth[0, :, 1:] - depth[0, :, :-1]
    assert bool((steps >= -1e-4).all()) and bool((steps > 0).any())
    cs = CityscapesDataset(data_root=str(tmp_path / 'cs'), pipeline=pipeline,
                           data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train',
                                            depth_path='depth_any/train'))
    assert cs.get_data_info(0)['depth_path'].endswith('cs/depth_any/train/c_000000_000001_depth.png')
    assert getattr(cs[0]['data_samples'], DEPTH_MAP).data.shape == (1, 24, 24)


def test_depth_follows_crop_and_flip_of_the_image():
    ramp = np.tile(np.arange(40, dtype=np.uint8) * 6, (20, 1))
    results = dict(img=np.dstack([ramp] * 3), gt_depth_map=DEPTH_LUT[ramp], seg_fields=[])
    from mmseg.datasets.transforms import RandomCrop, RandomFlip
    results = RandomCrop(crop_size=(10, 10)).crop_to(results, (5, 15, 12, 22))
    results = RandomFlip(prob=1.0)(results)
    assert np.array_equal(results[DEPTH_MAP], DEPTH_LUT[results['img'][:, :, 0]])
    assert results['crop_bbox'] == (5, 15, 12, 22)


def test_depth_errors_name_the_file(tmp_path):
    make_gta(tmp_path / 'gta', ['00001', '00002'])
    kwargs = dict(data_root=str(tmp_path / 'gta'), pipeline=[dict(type='LoadImageFromFile')],
                  data_prefix=dict(img_path='images', seg_map_path='labels', depth_path='depth_any'))
    with pytest.raises(FileNotFoundError, match='depth folder .*depth_any.* does not exist'):
        GTADataset(**kwargs)
    write_depth_maps(tmp_path / 'gta' / 'images', tmp_path / 'gta' / 'depth_any')
    (tmp_path / 'gta' / 'depth_any' / '00002.png').unlink()
    with pytest.raises(FileNotFoundError, match=r'1 of 2 images have no depth map.*00002\.png'):
        GTADataset(**kwargs)
    cv2.imwrite(str(tmp_path / 'gta' / 'depth_any' / '00002.png'), np.zeros((10, 10), np.uint8))
    dataset = GTADataset(**kwargs)
    index = [i for i in range(2) if dataset.get_data_info(i)['img_path'].endswith('00002.png')][0]
    with pytest.raises(ValueError, match=r'depth map .*00002\.png.* is 10x10 .* but image .*00002\.png'):
        dataset[index]
    cv2.imwrite(str(tmp_path / 'gta' / 'depth_any' / '00002.png'), np.full((48, 88), 1000, np.uint16))
    with pytest.raises(ValueError, match=r'00002\.png.* has dtype uint16; expected an 8-bit PNG'):
        dataset[index]
    raw = LoadDepthMap(legacy_16bit=True)(dict(depth_path=str(tmp_path / 'gta' / 'depth_any' / '00002.png')))
    assert float(raw[DEPTH_MAP].max()) == 0  # the reference's collapse of 16-bit maps
    colour = np.dstack([np.zeros((48, 88), np.uint8), np.full((48, 88), 9, np.uint8), np.zeros((48, 88), np.uint8)])
    cv2.imwrite(str(tmp_path / 'gta' / 'depth_any' / '00002.png'), colour)
    with pytest.raises(ValueError, match='is a colour image'):
        dataset[index]


def test_synthetic_pair_has_depth_maps_from_its_geometry_and_old_data_sets_get_them_added(tmp_path):
    from tools import make_synthetic_data as synth
    out = tmp_path / 'synthetic'
    synth.main(['--out-dir', str(out), '--num', '3', '--num-target-train', '2', '--num-val', '1', '--size', '64', '64'])
    gta = GTADataset(data_root=str(out / 'gta'),
                     pipeline=[dict(type='LoadImageFromFile'), dict(type='LoadAnnotations')],
                     data_prefix=dict(img_path='images', seg_map_path='labels', depth_path='depth_any'))
    cs = CityscapesDataset(data_root=str(out / 'cityscapes'), pipeline=[dict(type='LoadImageFromFile')],
                           data_prefix=dict(img_path='leftImg8bit/val', depth_path='depth_any/val'))
    assert len(cs) == 1 and cs[0][DEPTH_MAP].shape == (64, 64)
    sample = gta[0]
    raw = cv2.imread(sample['depth_path'], cv2.IMREAD_UNCHANGED)
    assert raw.dtype == np.uint8 and raw.min() == 0 and raw.max() == 255  # per-image min-max, as Depth Anything's
    sky = sample['gt_seg_map'] == 10
    assert sky.any() and (raw[sky] == 0).all()  # infinitely far
    assert raw[-1].mean() > raw[raw.shape[0] // 2].mean()  # the street comes nearer towards the bottom row
    maps = sorted(out.rglob('depth_any/**/*.png'))
    assert len(maps) == 6
    before = {p: p.read_bytes() for p in maps}
    for p in maps:
        p.unlink()
    synth.main(['--out-dir', str(out), '--num', '3', '--num-target-train', '2', '--num-val', '1', '--size', '64', '64'])
    assert {p: p.read_bytes() for p in sorted(out.rglob('depth_any/**/*.png'))} == before


# ---------------------------------------------------------------------------------------------------
# The source bank
# ---------------------------------------------------------------------------------------------------
def bank_config(root: Path, crop: int = 32) -> Config:
    make_gta(root / 'gta', [f'{i:05d}' for i in range(1, 7)])
    make_cityscapes(root / 'cs', dict(train=['c_000000_000001', 'c_000000_000002']), size=(48, 96))
    write_depth_maps(root / 'gta' / 'images', root / 'gta' / 'depth_any')
    write_depth_maps(root / 'cs' / 'leftImg8bit' / 'train', root / 'cs' / 'depth_any' / 'train', True)
    pipeline = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
                dict(type='Resize', scale=(80, 44), keep_ratio=True),
                dict(type='RandomCrop', crop_size=(crop, crop), cat_max_ratio=0.75), dict(type='RandomFlip', prob=0.5),
                dict(type='PackSegInputs')]
    return Config(dict(
        randomness=dict(seed=3),
        model=dict(data_preprocessor=dict(type='SegDataPreProcessor', mean=MEAN, std=STD)),
        uda=dict(cdda=dict(dataset='gta', reweight_threshold=0.5, relabel_threshold=0.4, threshold_decay=0.01)),
        train_dataloader=dict(dataset=dict(
            type='UDADataset',
            source=dict(type='GTADataset', data_root=str(root / 'gta'), pipeline=pipeline,
                        data_prefix=dict(img_path='images', seg_map_path='labels', depth_path='depth_any')),
            target=dict(type='CityscapesDataset', data_root=str(root / 'cs'), pipeline=copy.deepcopy(pipeline),
                        data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train',
                                         depth_path='depth_any/train')),
            rare_class_sampling=dict(min_pixels=10, class_temp=0.1, min_crop_ratio=0.5)))))


def test_compact_bank_remakes_the_reference_pngs_bit_for_bit_and_resumes(tmp_path):
    cfg = bank_config(tmp_path / 'data')
    png_dir = make_bank(cfg, str(tmp_path / 'png'), num_crops=10, png=True)
    compact_dir = make_bank(cfg, str(tmp_path / 'compact'), num_crops=10)
    png, compact = CropBank(png_dir), CropBank(compact_dir)
    assert png.has_png and not compact.has_png
    assert torch.equal(png.counts(), compact.counts())
    assert torch.equal(png.counts(), count_crop_files(png_dir, 10))  # the reference's cul_mix of the PNGs
    crops = json.loads((tmp_path / 'png' / 'crops.json').read_text())
    assert len({tuple(c['box']) for c in crops}) > 1 and {c['flip'] for c in crops} == {True, False}
    for i in range(10):
        image, label = compact.crop(i)
        assert np.array_equal(image, cv2.imread(str(tmp_path / 'png' / 'images' / f'{i}.png')))
        assert np.array_equal(label, cv2.imread(str(tmp_path / 'png' / 'labels' / f'{i}.png'))[:, :, 0])
    # an interrupted run keeps its finished chunks and ends with the same bank
    (tmp_path / 'compact' / 'meta.json').unlink()
    (tmp_path / 'compact' / distribution_file('gta', 10)).unlink()
    make_bank(cfg, str(tmp_path / 'compact'), num_crops=10)
    assert torch.equal(CropBank(compact_dir).counts(), png.counts())


def test_bank_for_another_config_or_missing_bank_is_an_error(tmp_path):
    cfg = bank_config(tmp_path / 'data')
    cfg.uda.cdda.num_crops = 4
    bank_dir = make_bank(cfg, str(tmp_path / 'bank'))
    cdda = resolve_cdda(cfg, dict(cfg.uda.cdda, bank_dir=bank_dir))
    DepthGuidance.from_config(cdda, 0.968, 19)  # the bank of this config
    other = bank_config(tmp_path / 'data2', crop=24)
    other.uda.cdda.num_crops = 4
    with pytest.raises(ValueError, match=r'made for another config \(crop_size: bank \[32, 32\], config \[24, 24\]'):
        DepthGuidance.from_config(resolve_cdda(other, dict(other.uda.cdda, bank_dir=bank_dir)), 0.968, 19)
    with pytest.raises(ValueError, match="made for dataset 'gta', the config has 'synthia'"):
        DepthGuidance.from_config(dict(cdda, dataset='synthia'), 0.968, 19)
    with pytest.raises(FileNotFoundError, match='missing.*python tools/cdda_preprocess.py'):
        DepthGuidance.from_config(dict(cdda, bank_dir=str(tmp_path / 'none')), 0.968, 19)
    with pytest.raises(ValueError, match=r"unknown keys \['reweight_thresold'\]"):
        DepthGuidance.from_config(dict(cdda, reweight_thresold=0.5), 0.968, 19)
    with pytest.raises(ValueError, match=r"missing keys \['threshold_decay'\]"):
        DepthGuidance.from_config({k: v for k, v in cdda.items() if k != 'threshold_decay'}, 0.968, 19)
    assert resolve_cdda(cfg, cfg.uda.cdda)['bank_dir'].startswith('data/cdda_banks/gta_32x32_')


# ---------------------------------------------------------------------------------------------------
# One CDDA iteration of DACS
# ---------------------------------------------------------------------------------------------------
BANK_SIZE = 64
BANK_CLASSES = [c for c in range(19) if c != 1]  # the source crops below are all class 1


def make_stripe_bank(bank_dir: Path, num_crops: int = 3, size: int = BANK_SIZE) -> None:
    """Crops of horizontal class stripes (every class but 1) over a left-right depth ramp of bins 0, 256 / size,
    ..., 256 - 256 / size."""
    g = torch.Generator().manual_seed(0)
    images = torch.randn(num_crops, 3, size, size, generator=g)
    labels = torch.empty(num_crops, 1, size, size, dtype=torch.long)
    for n in range(num_crops):
        rows = torch.tensor(BANK_CLASSES).roll(n).repeat_interleave(size // 16 + 1)[:size]
        labels[n, 0] = rows[:, None].expand(size, size)
    depths = (torch.arange(size) * (256 // size)).float().expand(num_crops, size, size)
    write_bank_crops(str(bank_dir), 0, images, labels, depths, MEAN, STD)
    counts = torch.stack([crop_counts(labels[n, 0].numpy().astype(np.uint8), depths[n].numpy().astype(np.uint8))
                          for n in range(num_crops)])
    torch.save(counts, bank_dir / distribution_file('gta', num_crops))
    (bank_dir / 'meta.json').write_text(json.dumps(dict(dataset='gta', num_crops=num_crops, png=True,
                                                        crop_size=[size, size])))


def test_one_cdda_iteration_reweights_relabels_and_replaces_the_classmix_source(tmp_path):
    make_stripe_bank(tmp_path)
    model = copy.deepcopy(TINY_MODEL)
    model['backbone']['drop_path_rate'] = 0.0
    model['decode_head']['dropout_ratio'] = 0.0
    cdda = dict(dataset='gta', reweight_threshold=-1.0, relabel_threshold=-1.0, threshold_decay=0.0,
                bank_dir=str(tmp_path), legacy_row0_mask=False)
    dacs = MODELS.build(dict(DACS_CFG, model=model, cdda=cdda))
    g = torch.Generator().manual_seed(1)
    img = torch.randn(2, 3, BANK_SIZE, BANK_SIZE, generator=g)
    gt = torch.ones(2, 1, BANK_SIZE, BANK_SIZE, dtype=torch.long)
    target_img = torch.randn(2, 3, BANK_SIZE, BANK_SIZE, generator=g)
    target_depth = (torch.randint(0, 64, (2, BANK_SIZE, BANK_SIZE), generator=g) * 4).float()
    metas = [dict(img_norm_cfg=dict(mean=MEAN, std=STD), img_shape=(BANK_SIZE, BANK_SIZE))] * 2
    calls, steps, guided, losses = [], [], [], []
    student, imnet = dacs.get_model(), dacs.get_imnet_model()
    forward_train, extract_feat, step, depth_guidance = (student.forward_train, imnet.extract_feat, dacs.cdda.step,
                                                         dacs._depth_guidance)
    student.forward_train = lambda x, m, y, *a, **k: calls.append((x.clone(), y.clone())) or forward_train(x, m, y, *a,
                                                                                                          **k)
    imnet.extract_feat = lambda x, **k: calls.append(('imnet', x.clone())) or extract_feat(x, **k)
    dacs.cdda.step = lambda *a: steps.append((a, step(*a))) or steps[-1][1]
    dacs._depth_guidance = lambda *a: guided.append(depth_guidance(*a)) or guided[-1]
    dacs.forward_train(img, metas, gt, target_img, metas, lambda loss, **k: losses.append(loss.detach()),
                       target_depth=target_depth)
    (_, label, prob, fraction, depth), result = steps[0]
    pseudo, bank_index = guided[0]
    # source loss and FD on the original crop
    assert torch.equal(calls[0][0], img) and torch.equal(calls[0][1], gt)
    assert calls[1][0] == 'imnet' and torch.equal(calls[1][1], img)
    # the reweighted weight map (full class mask), then DAFormer's pseudo-label crop (top 4, bottom 8 rows)
    sims = similarities(DepthBank(torch.load(tmp_path / distribution_file('gta', 3))),
                        torch.stack([count_matrix(label[i], depth[i]) for i in range(2)]))
    expected = torch.ones_like(prob) * fraction.float()
    for i, sim in enumerate(sims):
        s = sim.best_sim.clamp(min=0)[label[i]]
        expected[i] = torch.where(s > 0.75, torch.where(prob[i] >= 0.968, 1.0, expected[i]),
                                  torch.where(s < 0.1, 0.0, (s - 0.1) / 0.65))
    expected[:, :4], expected[:, -8:] = 0, 0
    assert torch.allclose(pseudo.weight, expected) and bank_index == [sim.best for sim in sims]
    # relabeling fired: guidance loss 0.1 q CE_soft of the student on the clean target crop, before the mix loss
    assert result.soft_target is not None and bool((result.soft_target.sum(1) > 1).any())
    tgt_loss, _ = guidance_loss(student_logits(student, target_img), result.soft_target, 0.1 * fraction.float()
                                * torch.ones_like(prob))
    assert len(losses) == 4 and torch.allclose(losses[2], tgt_loss)
    # ClassMix took its sources from the bank crops n*: mixed labels are bank labels or pseudo-labels, never class 1
    mixed_lbl = calls[2][1][:, 0]
    for i, n in enumerate(bank_index):
        bank_label = torch.from_numpy(cv2.imread(str(tmp_path / 'labels' / f'{n}.png'))[:, :, 0]).long()
        from_source = mixed_lbl[i] != label[i]
        assert from_source.any() and torch.equal(mixed_lbl[i][from_source], bank_label[from_source])


def test_cdda_with_hrda_and_mic_guides_with_the_fused_logits_and_gives_mic_the_reweighted_weights(tmp_path):
    from tests.test_dacs import MIC, _recorded_student_calls
    from tests.test_hrda_dacs import MARGINS, SIZE, _hrda_batch, _hrda_dacs, _margin_mask
    make_stripe_bank(tmp_path, size=SIZE)
    cdda = dict(dataset='gta', reweight_threshold=-1.0, relabel_threshold=-1.0, threshold_decay=0.0,
                bank_dir=str(tmp_path), legacy_row0_mask=False)
    dacs = _hrda_dacs(imnet_feature_dist_lambda=0, pseudo_threshold=0.06, cdda=cdda, **MIC)  # q > 0
    data = _hrda_batch(margins=MARGINS)
    g = torch.Generator().manual_seed(2)
    for sample in data['target_data_samples']:  # integer depth values of the bank's bins (the exact-value gate)
        sample.gt_depth_map = PixelData(data=(torch.randint(0, SIZE, (1, SIZE, SIZE), generator=g) * 2).float())
    steps, step = [], dacs.cdda.step
    dacs.cdda.step = lambda *a: steps.append(step(*a)) or steps[-1]
    calls, logs = _recorded_student_calls(dacs, data)
    (_, _, _), (_, _, mixed_weight), (_, _, masked_weight) = calls  # source, mixed, masked: no other forward_train
    valid = _margin_mask(MARGINS).bool().expand(2, -1, -1)
    assert torch.equal(masked_weight, steps[0].weight)  # MIC: the CDDA-reweighted weight with the margins cut
    assert bool((masked_weight[~valid] == 0).all()) and len(masked_weight[valid].unique()) > 1
    assert steps[0].soft_target is not None and torch.isfinite(logs['tgt.loss']) and float(logs['tgt.loss']) > 0


# ---------------------------------------------------------------------------------------------------
# Exact resume
# ---------------------------------------------------------------------------------------------------
def test_resumed_cdda_run_ends_with_the_same_weights_thresholds_included(tmp_path):
    data = tmp_path / 'data'
    cfg = experiment_config(data, max_iters=4)
    write_depth_maps(data / 'gta' / 'images', data / 'gta' / 'depth_any')
    write_depth_maps(data / 'cityscapes' / 'leftImg8bit' / 'train', data / 'cityscapes' / 'depth_any' / 'train', True)
    cfg.train_dataloader.dataset.source.data_prefix.depth_path = 'depth_any'
    cfg.train_dataloader.dataset.target.data_prefix.depth_path = 'depth_any/train'
    # the thresholds drop from 10 (nothing fires) to -10 (everything fires) at iteration 1 only: a resume at 2 that
    # restarted the thresholds (the reference's state) would not fire
    cfg.uda.cdda = dict(dataset='gta', reweight_threshold=10.0, relabel_threshold=10.0, threshold_decay=20.0,
                        decay_start=1, decay_interval=1, decay_end=2, bank_dir=str(tmp_path / 'bank'),
                        legacy_row0_mask=False)
    make_bank(cfg, str(tmp_path / 'bank'))
    straight, resumed = train_straight_and_resumed(cfg, tmp_path)
    differing = [k for k in straight if not torch.equal(straight[k], resumed[k])]
    assert not differing, f'{len(differing)} tensors differ after resume, e.g. {differing[:3]}'
    resumed_log = sorted((tmp_path / 'interrupted').rglob('*.log'))[-1].read_text()
    assert 'tgt.loss' in resumed_log  # the guidance loss fired after the resume
