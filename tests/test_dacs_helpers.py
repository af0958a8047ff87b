"""Unit tests of the DACS building blocks for behaviour the golden cases do not cover."""
import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from mmseg.datasets.rare_class_sampling import RareClassSampler, get_rcs_class_probs
from mmseg.engine.optimizers import ReferenceOptimWrapperConstructor, param_multipliers
from mmseg.engine.schedulers import PolyLRWithWarmup
from mmseg.models.uda.ema_teacher import ema_alpha, init_ema_weights, update_ema
from mmseg.models.uda.feature_distance import ImnetFeatureDistance
from mmseg.models.uda.pseudo_label import pseudo_label_and_weight
from mmseg.models.utils.dacs_transforms import (blur_kernel_size, color_jitter, gaussian_blur, get_class_masks,
                                                get_mean_std, one_mix, renorm, strong_transform)
from mmseg.models.utils.gaussian_blur import gaussian_blur2d
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS, PARAM_SCHEDULERS

NORM_CFG = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)


def _mean_std():
    return get_mean_std([dict(img_norm_cfg=NORM_CFG)], 'cpu')


def _normalised_image(shape, seed=0):
    mean, std = _mean_std()
    return renorm(torch.rand(shape, generator=torch.Generator().manual_seed(seed)), mean, std)


# ---------------------------------------------------------------- strong augmentation

def test_color_jitter_runs_when_draw_exceeds_p_about_80_percent():
    mean, std = _mean_std()
    img = _normalised_image((1, 3, 4, 4))
    draws = np.random.default_rng(0).uniform(0, 1, 400)
    generator = torch.Generator().manual_seed(0)
    changed = []
    for draw in draws:
        out, _ = color_jitter(draw, mean, std, data=img, s=0.2, p=0.2, generator=generator)
        changed.append(not torch.equal(out, img))
    assert changed == [bool(d > 0.2) for d in draws]
    assert 0.73 < np.mean(changed) < 0.87


def test_color_jitter_keeps_labels_and_skips_non_rgb():
    mean, std = _mean_std()
    one_channel = torch.rand(1, 1, 4, 4)
    target = torch.arange(16).view(1, 1, 4, 4)
    out, out_target = color_jitter(1.0, mean, std, data=one_channel, target=target, s=0.2)
    assert out is one_channel and out_target is target


def test_color_jitter_output_stays_in_image_range():
    mean, std = _mean_std()
    img = _normalised_image((2, 3, 8, 8))
    out, _ = color_jitter(1.0, mean, std, data=img, s=0.2, generator=torch.Generator().manual_seed(3))
    img01 = out * std / 255 + mean / 255
    assert out.shape == img.shape
    assert img01.min() >= -1e-5 and img01.max() <= 1 + 1e-5


@pytest.mark.parametrize('size, kernel', [(512, 51), (1024, 103), (256, 25), (16, 1), (20, 1), (25, 3), (64, 7)])
def test_blur_kernel_size_rule(size, kernel):
    assert blur_kernel_size(size) == kernel


def test_gaussian_blur_uses_sigma_from_rng_and_kernel_rule():
    import kornia
    img = _normalised_image((1, 3, 40, 64))
    out, _ = gaussian_blur(0.9, data=img, rng=np.random.RandomState(5))
    sigma = np.random.RandomState(5).uniform(0.15, 1.15)
    expected = gaussian_blur2d(img, (3, 7), (sigma, sigma))
    assert torch.equal(out, expected)
    # the kornia-0.5 arithmetic is a Gaussian blur like today's kornia, up to float rounding
    assert torch.allclose(out, kornia.filters.gaussian_blur2d(img, (3, 7), (sigma, sigma)), atol=1e-5)
    assert not torch.equal(out, img)
    unchanged, _ = gaussian_blur(0.5, data=img, rng=np.random.RandomState(5))
    assert unchanged is img


def _strong_params(draw_jitter, draw_blur, mask):
    mean, std = _mean_std()
    return dict(mix=mask, color_jitter=draw_jitter, color_jitter_s=0.2, color_jitter_p=0.2, blur=draw_blur,
                mean=mean, std=std)


def test_strong_transform_is_deterministic_with_seeded_generators_and_leaves_global_rng():
    data = torch.cat([_normalised_image((1, 3, 16, 16), 1), _normalised_image((1, 3, 16, 16), 2)])
    mask = (torch.rand(1, 1, 16, 16, generator=torch.Generator().manual_seed(4)) > 0.5).long()
    target = torch.stack([torch.zeros(16, 16, dtype=torch.long), torch.ones(16, 16, dtype=torch.long)])
    params = _strong_params(0.9, 0.9, mask)

    def run(seed):
        return strong_transform(params, data=data, target=target, generator=torch.Generator().manual_seed(seed),
                                rng=np.random.default_rng(seed))

    torch_state, np_state = torch.get_rng_state(), np.random.get_state()
    (img_a, lbl_a), (img_b, lbl_b), (img_c, _) = run(7), run(7), run(8)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.random.get_state()[1].tolist() == np_state[1].tolist()
    assert torch.equal(img_a, img_b) and not torch.equal(img_a, img_c)
    assert torch.equal(lbl_a, lbl_b) and torch.equal(lbl_a, one_mix(mask, target=target)[1])
    assert img_a.shape == (1, 3, 16, 16) and lbl_a.shape == (1, 1, 16, 16)


def test_strong_transform_without_augmentation_is_the_mix():
    data = torch.cat([_normalised_image((1, 3, 8, 8), 1), _normalised_image((1, 3, 8, 8), 2)])
    mask = torch.zeros(1, 1, 8, 8, dtype=torch.long)
    mask[..., :4] = 1
    img, _ = strong_transform(_strong_params(0.2, 0.5, mask), data=data)
    assert torch.equal(img[0, :, :, :4], data[0, :, :, :4]) and torch.equal(img[0, :, :, 4:], data[1, :, :, 4:])


def test_get_class_masks_draws_half_of_the_batch_classes_including_ignore():
    labels = torch.tensor([[0, 3, 5, 255], [7, 9, 11, 13]]).repeat_interleave(5, dim=1).view(2, 1, 4, 5)
    per_image_counts = []
    picked_ignore = False
    for seed in range(20):
        masks = get_class_masks(labels, np.random.default_rng(seed))
        assert len(masks) == 2 and all(m.shape == (1, 1, 4, 5) and m.dtype == torch.int64 for m in masks)
        selected = [set(label[mask[0].bool()].tolist()) for label, mask in zip(labels, masks)]
        pool, rng = [0, 3, 5, 7, 9, 11, 13, 255], np.random.default_rng(seed)
        for label, chosen in zip(labels, selected):  # each image draws half of the 8 batch classes
            assert chosen == {pool[j] for j in rng.choice(8, 4, replace=False)} & set(label.unique().tolist())
        per_image_counts += [len(selected[0]), len(selected[1])]
        picked_ignore |= 255 in selected[0]
    assert picked_ignore and set(per_image_counts) != {2}  # the pool is the batch, not each image
    first, again = get_class_masks(labels, np.random.default_rng(0)), get_class_masks(labels, np.random.default_rng(0))
    assert all(torch.equal(a, b) for a, b in zip(first, again))


# ---------------------------------------------------------------- pseudo labels, feature distance, EMA

def test_pseudo_weight_valid_mask_and_exclusive_row_cut():
    logits = torch.zeros(2, 3, 4, 5)
    logits[0, 1] = 10.0
    valid = torch.ones(2, 1, 4, 5, dtype=torch.uint8)
    valid[:, :, 0] = 0
    result = pseudo_label_and_weight(logits, 0.968, valid_mask=valid)
    assert float(result.fraction) == 0.5
    assert torch.equal(result.weight[:, 0], torch.zeros(2, 5))
    assert torch.equal(result.weight[:, 1:], torch.full((2, 3, 5), 0.5))
    assert torch.equal(result.label[0], torch.ones(4, 5, dtype=torch.long))
    with pytest.raises(ValueError, match='valid_pseudo_mask'):
        pseudo_label_and_weight(logits, 0.968, ignore_top=1, valid_mask=valid)


def test_feature_distance_empty_mask_is_nan_without_nan_gradients():
    feat = torch.randn(1, 4, 2, 2, requires_grad=True)
    gt = torch.zeros(1, 1, 64, 64, dtype=torch.long)
    fd = ImnetFeatureDistance(0.005, classes=[11, 13], scale_min_ratio=0.75, num_classes=19)
    loss, log = fd(feat, torch.randn(1, 4, 2, 2), gt)
    assert math.isnan(loss.item()) and math.isnan(log['loss_imnet_feat_dist'].item())
    loss.backward()
    assert torch.equal(feat.grad, torch.zeros_like(feat))


def test_feature_distance_needs_min_ratio_with_classes():
    with pytest.raises(ValueError, match='scale_min_ratio'):
        ImnetFeatureDistance(0.005, classes=[11])


def test_ema_alpha_schedule_and_fused_equals_loop():
    assert [ema_alpha(i, 0.99) for i in (0, 1, 9, 99, 5000)] == [0.0, 0.5, 0.9, 0.99, 0.99]
    student = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Linear(2, 2))
    teacher_fused, teacher_loop = (nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Linear(2, 2))
                                   for _ in range(2))
    teacher_fused[1].running_mean.fill_(3.0)
    init_ema_weights(student, teacher_fused)
    init_ema_weights(student, teacher_loop)
    assert torch.equal(teacher_fused[1].running_mean, torch.full((4,), 3.0))
    with torch.no_grad():
        for p in student.parameters():
            p.add_(1.0)
    for it in (1, 2, 50):
        update_ema(student, teacher_fused, it, 0.99, fused=True)
        update_ema(student, teacher_loop, it, 0.99, fused=False)
    for a, b in zip(teacher_fused.parameters(), teacher_loop.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)
    assert not any(p.requires_grad for p in teacher_fused.parameters())


# ---------------------------------------------------------------- rare class sampling

@pytest.fixture
def rcs_root(tmp_path):
    stats = [{'file': 'labels/a_labelTrainIds.png', '0': 9000, '5': 3001},
             {'file': 'labels/b_labelTrainIds.png', '0': 8000, '5': 3000, '7': 5000},
             {'file': 'labels/c_labelTrainIds.png', '0': 7000, '7': 4000}]
    with_class = {'0': [['labels/a_labelTrainIds.png', 9000], ['labels/b_labelTrainIds.png', 8000],
                        ['labels/c_labelTrainIds.png', 7000]],
                  '5': [['labels/a_labelTrainIds.png', 3001], ['labels/b_labelTrainIds.png', 3000]],
                  '7': [['labels/b_labelTrainIds.png', 5000], ['labels/c_labelTrainIds.png', 4000]]}
    (tmp_path / 'sample_class_stats.json').write_text(json.dumps(stats))
    (tmp_path / 'samples_with_class.json').write_text(json.dumps(with_class))
    return tmp_path


def test_rcs_candidate_files_are_basenames_above_min_pixels(rcs_root):
    sampler = RareClassSampler.from_data_root(str(rcs_root), min_pixels=3000, class_temp=0.01, min_crop_ratio=0.5)
    assert sampler.classes == [5, 7, 0]
    assert sampler.files == {5: ['a_labelTrainIds.png'], 7: ['b_labelTrainIds.png', 'c_labelTrainIds.png'],
                             0: ['a_labelTrainIds.png', 'b_labelTrainIds.png', 'c_labelTrainIds.png']}


def test_rcs_sampling_follows_probs_and_is_seeded(rcs_root):
    sampler = RareClassSampler.from_data_root(str(rcs_root), min_pixels=3000, class_temp=1.0, min_crop_ratio=0.5)
    draws = [sampler.sample(np.random.default_rng(0)) for _ in range(3)]
    assert len(set(draws)) == 1
    rng = np.random.default_rng(1)
    draws = [sampler.sample(rng) for _ in range(3000)]
    freq = np.array([sum(c == k for c, _ in draws) for k in sampler.classes]) / len(draws)
    np.testing.assert_allclose(freq, sampler.probs, atol=0.03)
    assert all(f in sampler.files[c] for c, f in draws)
    files_of_7 = [f for c, f in draws if c == 7]
    assert 0.4 < files_of_7.count('b_labelTrainIds.png') / len(files_of_7) < 0.6


def test_rcs_crop_check_retries_at_most_ten_times(rcs_root):
    sampler = RareClassSampler.from_data_root(str(rcs_root), min_pixels=3000, class_temp=0.01, min_crop_ratio=0.5)

    def crop(n_pixels):
        gt = torch.zeros(1, 40, 40, dtype=torch.long)
        gt.view(-1)[:n_pixels] = 5
        return gt

    failing, passing = crop(1200), crop(1520)
    assert not sampler.crop_has_class(crop(1500), 5) and sampler.crop_has_class(crop(1501), 5)

    def loader(sequence):
        calls = []

        def load():
            calls.append(None)
            return sequence[len(calls) - 1]
        return load, calls

    load, calls = loader([failing, failing, passing, failing])
    assert sampler.select_crop(load, lambda gt: gt, 5) is passing and len(calls) == 3
    last = crop(0)
    load, calls = loader([failing] * 10 + [last])
    assert sampler.select_crop(load, lambda gt: gt, 5) is last and len(calls) == 11
    no_check = RareClassSampler([5], np.array([1.0]), {'5': [['x.png', 4000]]}, 3000, 0)
    load, calls = loader([failing, passing])
    assert no_check.select_crop(load, lambda gt: gt, 5) is failing and len(calls) == 1


def test_rcs_missing_file_names_the_converter(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'sample_class_stats\.json.*tools/convert_datasets'):
        get_rcs_class_probs(str(tmp_path), 0.01)
    (tmp_path / 'sample_class_stats.json').write_text(json.dumps([{'file': 'f.png', '3': 5000}]))
    with pytest.raises(FileNotFoundError, match=r'samples_with_class\.json.*tools/convert_datasets'):
        RareClassSampler.from_data_root(str(tmp_path), 3000, 0.01, 0.5)


def test_rcs_class_without_candidate_file_is_an_error():
    with pytest.raises(ValueError, match='class 3'):
        RareClassSampler([3], np.array([1.0], dtype=np.float32), {'3': [['f.png', 3000]]}, 3000, 0.5)


# ---------------------------------------------------------------- optimiser and schedule

class _Segmentor(nn.Module):
    """Parameter names as in a segmentor: backbone.{proj,norm}.*, decode_head.{proj,norm}.*."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.ModuleDict(dict(proj=nn.Linear(4, 4), norm=nn.LayerNorm(4)))
        self.decode_head = nn.ModuleDict(dict(proj=nn.Linear(4, 2), norm=nn.BatchNorm1d(2)))

    def forward(self, x):
        x = self.backbone['norm'](self.backbone['proj'](x))
        return self.decode_head['norm'](self.decode_head['proj'](x))


CUSTOM_KEYS = {'head': dict(lr_mult=10.0), 'pos_block': dict(decay_mult=0.0), 'norm': dict(decay_mult=0.0)}


def _optim_wrapper(model, per_param_groups=False):
    return OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type='ReferenceOptimWrapperConstructor',
        optim_wrapper_cfg=dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=6e-5, weight_decay=0.01)),
        paramwise_cfg=dict(custom_keys=CUSTOM_KEYS, per_param_groups=per_param_groups)))(model)


def test_param_multipliers_first_match_in_length_then_name_order():
    keys = {'ab': dict(lr_mult=2.0), 'b': dict(lr_mult=3.0), 'a': dict(lr_mult=4.0, decay_mult=0.5)}
    assert param_multipliers(['xab', 'ba', 'a', 'c'], keys) == [(2.0, 1.0), (4.0, 0.5), (4.0, 0.5), (1.0, 1.0)]
    assert param_multipliers(['decode_head.bn.norm.weight'], CUSTOM_KEYS) == [(10.0, 1.0)]


def test_constructor_merges_groups_and_skips_frozen_parameters():
    model = _Segmentor()
    model.backbone['proj'].bias.requires_grad_(False)
    merged = _optim_wrapper(model).optimizer.param_groups
    per_param = _optim_wrapper(model, per_param_groups=True).optimizer.param_groups
    assert [(g['lr'], g['weight_decay'], len(g['params'])) for g in merged] == [
        (6e-5, 0.01, 1), (6e-5, 0.0, 2), (6e-5 * 10.0, 0.01, 4)]
    assert len(per_param) == 7
    frozen = model.backbone['proj'].bias
    assert all(p is not frozen for g in merged + per_param for p in g['params'])
    with pytest.raises(ValueError, match='bias_lr_mult'):
        ReferenceOptimWrapperConstructor(dict(optimizer=dict(type='AdamW', lr=1e-3)), dict(bias_lr_mult=2.0))


def _reference_lr(base, t, max_iters, min_lr, warmup_iters, ratio):
    lr = (base - min_lr) * (1 - t / max_iters) + min_lr
    if t < warmup_iters:
        lr *= 1 - (1 - t / warmup_iters) * (1 - ratio)
    return lr


def test_scheduler_in_an_optimizer_step_loop_and_resume():
    torch.manual_seed(0)
    model = _Segmentor()
    optim_wrapper = _optim_wrapper(model)
    cfg = dict(type='PolyLRWithWarmup', power=1.0, min_lr=0.0, max_iters=20, warmup='linear', warmup_iters=5,
               warmup_ratio=0.1, by_epoch=False)
    scheduler = PARAM_SCHEDULERS.build(dict(cfg, optimizer=optim_wrapper))
    x = torch.randn(8, 4)
    seen = []
    for t in range(12):
        seen.append([g['lr'] for g in optim_wrapper.optimizer.param_groups])
        before = model.backbone['proj'].weight.detach().clone()
        optim_wrapper.update_params(model(x).square().mean())
        if t == 0:  # AdamW's first step moves each weight by about lr
            step = (model.backbone['proj'].weight.detach() - before).abs().max().item()
            assert step == pytest.approx(seen[0][0], rel=0.02)
        scheduler.step()
        if t == 6:
            state = scheduler.state_dict()
    for t, lrs in enumerate(seen):
        assert lrs == [_reference_lr(6e-5, t, 20, 0.0, 5, 0.1)] * 2 + [_reference_lr(6e-5 * 10.0, t, 20, 0.0, 5, 0.1)]
    assert seen[5][0] == pytest.approx(6e-5 * 15 / 20) and seen[4][0] < seen[5][0]

    resumed_wrapper = _optim_wrapper(_Segmentor())
    resumed_wrapper.load_state_dict(optim_wrapper.state_dict())
    resumed = PolyLRWithWarmup(resumed_wrapper, power=1.0, max_iters=20, warmup='linear', warmup_iters=5,
                               warmup_ratio=0.1)
    resumed.load_state_dict(state)
    resumed.step()
    assert resumed_wrapper.optimizer.param_groups[0]['lr'] == _reference_lr(6e-5, 8, 20, 0.0, 5, 0.1)


def test_scheduler_min_lr_is_an_absolute_floor_per_group():
    optim_wrapper = _optim_wrapper(_Segmentor())
    scheduler = PolyLRWithWarmup(optim_wrapper, power=1.0, min_lr=1e-4, max_iters=10)
    lrs = []
    for _ in range(10):
        lrs.append([g['lr'] for g in optim_wrapper.optimizer.param_groups])
        optim_wrapper.step()
        scheduler.step()
    backbone, head = [lr[0] for lr in lrs], [lr[2] for lr in lrs]
    assert backbone == sorted(backbone) and backbone[0] == 6e-5 and backbone[-1] < 1e-4
    assert head == sorted(head, reverse=True) and head[-1] > 1e-4


def test_scheduler_rejects_other_warmups_and_unbounded_schedules():
    optim_wrapper = _optim_wrapper(_Segmentor())
    with pytest.raises(ValueError, match='warmup'):
        PolyLRWithWarmup(optim_wrapper, max_iters=10, warmup='exp', warmup_iters=2)
    with pytest.raises(ValueError, match='max_iters'):
        PolyLRWithWarmup(optim_wrapper)
