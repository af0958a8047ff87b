"""MIC (spec §6): block masks, masked-batch selection, colour augmentation, loss weighting, own teacher."""
import copy
import math
import random

import pytest
import torch
import torch.nn.functional as F

from mmseg.models.uda.masking_consistency_module import MASK_MODES, MaskingConsistencyModule
from mmseg.models.uda.pseudo_label import pseudo_label_and_weight
from mmseg.models.utils.block_mask_generator import BlockMaskGenerator
from mmseg.models.utils.dacs_transforms import strong_transform
from mmseg.models.utils.resize import resize
from mmseg.registry import MODELS
from tests.test_dacs import TINY_MODEL, _seed

SIZE = 64
MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]
GENERATOR = dict(type='block', mask_ratio=0.5, mask_block_size=16)


class RecordingStudent:
    """Records the arguments of ``forward_train`` and returns fixed losses (an HRDA-like detail term included)."""

    def __init__(self):
        self.calls = []

    def forward_train(self, img, img_metas, gt_semantic_seg, seg_weight=None):
        self.calls.append(dict(img=img.clone(), gt=gt_semantic_seg.clone(),
                               seg_weight=None if seg_weight is None else seg_weight.clone()))
        return {'decode.loss_seg': torch.tensor(2.), 'decode.acc_seg': torch.tensor(50.),
                'decode.hr.loss_seg': torch.tensor(3.)}


def _mic(require_teacher=False, **cfg):
    return MaskingConsistencyModule(require_teacher, dict(dict(mask_mode='separatetrgaug', mask_lambda=1,
                                                               mask_generator=GENERATOR), **cfg))


def _inputs(batch_size=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    metas = [dict(img_norm_cfg=dict(mean=MEAN, std=STD, to_rgb=True), ori_shape=(SIZE, SIZE), img_shape=(SIZE, SIZE),
                  pad_shape=(SIZE, SIZE), flip=False) for _ in range(batch_size)]
    gt = torch.randint(0, 19, (batch_size, 1, SIZE, SIZE), generator=g)
    gt[:, :, :4] = 255
    pseudo_weight = torch.full((batch_size, SIZE, SIZE), 0.6)
    pseudo_weight[:, :8] = 0
    return dict(img=torch.randn(batch_size, 3, SIZE, SIZE, generator=g), img_metas=metas, gt_semantic_seg=gt,
                target_img=torch.randn(batch_size, 3, SIZE, SIZE, generator=g), target_img_metas=metas,
                valid_pseudo_mask=None, pseudo_label=torch.randint(0, 19, (batch_size, SIZE, SIZE), generator=g),
                pseudo_weight=pseudo_weight)


def _tiny_student(deterministic=False):
    cfg = copy.deepcopy(TINY_MODEL)
    if deterministic:
        cfg['backbone']['drop_path_rate'] = 0.0
        cfg['decode_head']['dropout_ratio'] = 0.0
    _seed()
    return MODELS.build(cfg).train()


def test_block_masks_are_constant_per_block_and_keep_one_minus_ratio():
    generator = BlockMaskGenerator(mask_ratio=0.7, mask_block_size=16)
    imgs = torch.randn(200, 3, 64, 96, requires_grad=True)
    torch.manual_seed(0)
    mask = generator.generate_mask(imgs)
    torch.manual_seed(0)
    grid = torch.rand(200, 1, 4, 6)  # the draw: one U(0, 1) per block, torch's global RNG
    assert mask.shape == (200, 1, 64, 96)
    blocks = mask.view(200, 1, 4, 16, 6, 16)
    assert torch.equal(blocks, blocks[:, :, :, :1, :, :1].expand_as(blocks))
    assert torch.equal(blocks[:, :, :, 0, :, 0], (grid > 0.7).float())
    n_blocks = 200 * 4 * 6
    assert abs(mask.mean().item() - 0.3) < 4 * math.sqrt(0.3 * 0.7 / n_blocks)
    torch.manual_seed(1)
    masked = generator.mask_image(imgs)
    torch.manual_seed(1)
    assert torch.equal(masked, imgs.detach() * generator.generate_mask(imgs)) and not masked.requires_grad


@pytest.mark.parametrize('mode', ['separatetrgaug', 'separatetrg'])
def test_masked_image_is_the_augmented_image_where_kept_and_the_mean_colour_elsewhere(mode):
    mic, student, inputs = _mic(mask_mode=mode), RecordingStudent(), _inputs()
    _seed(0)  # python draws 0.844 > 0.2 (jitter) and 0.758 > 0.5 (blur): both augmentations run
    mic(student, **inputs)
    seen = student.calls[0]['img']

    _seed(0)  # replay: jitter/blur switches, jitter factors (torch), blur sigma (numpy), then the mask (torch)
    expected = inputs['target_img']
    if mode.endswith('aug'):
        mean, std = torch.tensor(MEAN).view(1, 3, 1, 1), torch.tensor(STD).view(1, 3, 1, 1)
        params = dict(mix=None, color_jitter=random.uniform(0, 1), color_jitter_s=0.2, color_jitter_p=0.2,
                      blur=random.uniform(0, 1), mean=mean, std=std)
        expected, _ = strong_transform(params, data=expected)
        assert (expected - inputs['target_img']).abs().max() > 0.1
    mask = mic.mask_gen.generate_mask(expected).expand_as(expected).bool()
    assert 0 < mask.float().mean() < 1
    torch.testing.assert_close(seen[mask], expected[mask], rtol=0, atol=0)
    assert torch.equal(seen[~mask], torch.zeros_like(seen[~mask]))  # 0 = the dataset mean in normalised space


def test_mask_lambda_scales_only_the_fused_segmentation_loss():
    losses = _mic(mask_lambda=0.5)(RecordingStudent(), **_inputs())
    assert {k: v.item() for k, v in losses.items()} == {'decode.loss_seg': 1., 'decode.acc_seg': 50.,
                                                         'decode.hr.loss_seg': 3.}
    student = _tiny_student()
    results = {}
    for mask_lambda in (1, 0.25):
        _seed(3)
        results[mask_lambda] = _mic(mask_lambda=mask_lambda)(student, **_inputs())
    torch.testing.assert_close(results[0.25]['decode.loss_seg'], 0.25 * results[1]['decode.loss_seg'])
    torch.testing.assert_close(results[0.25]['decode.acc_seg'], results[1]['decode.acc_seg'])


@pytest.mark.parametrize('mode', MASK_MODES)
def test_each_mode_masks_its_batch_with_its_labels_and_weights(mode):
    student, inputs = RecordingStudent(), _inputs()
    _mic(mask_mode=mode)(student, **inputs)
    call = student.calls[0]
    img, gt, pl, pw = inputs['img'], inputs['gt_semantic_seg'], inputs['pseudo_label'], inputs['pseudo_weight']
    if 'trg' in mode:
        source = inputs['target_img']
        assert torch.equal(call['gt'], pl.unsqueeze(1))
        assert torch.equal(call['seg_weight'], pw)
    elif 'src' in mode:
        source = img
        assert torch.equal(call['gt'], gt) and call['seg_weight'] is None
    else:
        source = torch.stack([img[0], inputs['target_img'][0]])
        assert torch.equal(call['gt'], torch.stack([gt[0], pl[0].unsqueeze(0)]))
        assert torch.equal(call['seg_weight'], torch.stack([torch.ones(SIZE, SIZE), pw[0]]))
    kept = call['img'] != 0
    if not mode.endswith('aug'):
        assert torch.equal(call['img'][kept], source[kept])


def test_source_only_masks_the_source_whatever_the_mode():
    student, inputs = RecordingStudent(), _inputs()
    _mic(mask_mode='separatetrg', source_only=True)(student, **dict(inputs, pseudo_label=None, pseudo_weight=None))
    assert torch.equal(student.calls[0]['gt'], inputs['gt_semantic_seg']) and student.calls[0]['seg_weight'] is None


def test_target_loss_is_the_pseudo_weighted_cross_entropy_of_the_masked_image():
    student = _tiny_student(deterministic=True)
    inputs = _inputs()
    seen = []
    original = student.forward_train
    student.forward_train = lambda img, *args, **kwargs: seen.append(img.detach().clone()) or original(
        img, *args, **kwargs)
    _seed(1)
    losses = _mic(mask_mode='separatetrgaug')(student, **inputs)
    logits = resize(student.decode_head(student.extract_feat(seen[0])), size=(SIZE, SIZE), mode='bilinear',
                    align_corners=False)
    ce = F.cross_entropy(logits, inputs['pseudo_label'], reduction='none', ignore_index=255)
    torch.testing.assert_close(losses['decode.loss_seg'], (ce * inputs['pseudo_weight']).mean())
    losses['decode.loss_seg'].backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in student.parameters() if p.requires_grad)


def test_same_settings_share_the_host_pseudo_labels_and_build_no_teacher():
    mic = _mic()
    assert mic.teacher is None and not mic.state_dict()
    with pytest.raises(ValueError, match='needs the pseudo_label and pseudo_weight'):
        mic(RecordingStudent(), **dict(_inputs(), pseudo_label=None, pseudo_weight=None))


def test_own_teacher_follows_the_ema_rule_and_makes_the_pseudo_labels():
    student = _tiny_student()
    mic = _mic(mask_mode='separatetrg', mask_alpha=0.9, model=TINY_MODEL, pseudo_threshold=0.5).train()
    teacher = mic.teacher.ema_model
    assert all(k.startswith('teacher.ema_model.') for k in mic.state_dict())
    assert not any(p.requires_grad for p in mic.parameters())
    mic.update_weights(student, 0)
    for t, s in zip(teacher.parameters(), student.parameters()):
        assert torch.equal(t, s)
    history = [[p.detach().clone() for p in teacher.parameters()]]
    for iteration, alpha_t in ((1, 0.5), (50, 0.9)):  # min(1 - 1/(t+1), mask_alpha)
        with torch.no_grad():
            for p in student.parameters():
                p.add_(0.1)
        mic.update_weights(student, iteration)
        for t, t0, s in zip(teacher.parameters(), history[-1], student.parameters()):
            torch.testing.assert_close(t, alpha_t * t0 + (1 - alpha_t) * s)
        history.append([p.detach().clone() for p in teacher.parameters()])

    recorder, inputs = RecordingStudent(), _inputs()
    valid = torch.ones(2, 1, SIZE, SIZE, dtype=torch.uint8)
    valid[:, :, -10:] = 0
    mic(recorder, **dict(inputs, valid_pseudo_mask=valid, pseudo_label=None, pseudo_weight=None))
    assert not teacher.decode_head.dropout.training and teacher.backbone.block1[0].norm1.training
    with torch.no_grad():
        expected = pseudo_label_and_weight(teacher.encode_decode(inputs['target_img']), 0.5, valid_mask=valid)
    assert torch.equal(recorder.calls[0]['gt'], expected.label.unsqueeze(1))
    torch.testing.assert_close(recorder.calls[0]['seg_weight'], expected.weight)


def test_teacher_threshold_none_weights_every_valid_pixel_one_and_require_teacher_uses_the_host_alpha():
    mic = _mic(mask_mode='separatetrg', mask_pseudo_threshold=None, model=TINY_MODEL)
    valid = torch.ones(2, 1, SIZE, SIZE, dtype=torch.uint8)
    valid[:, :, :5] = 0
    recorder = RecordingStudent()
    mic(recorder, **dict(_inputs(), valid_pseudo_mask=valid))
    assert torch.equal(recorder.calls[0]['seg_weight'], valid.squeeze(1).float())
    required = _mic(True, model=TINY_MODEL, alpha=0.999, pseudo_threshold=0.9)
    assert (required.teacher.alpha, required.teacher.pseudo_threshold) == (0.999, 0.9)


@pytest.mark.parametrize('height, width, block', [(64, 64, 24), (50, 70, 16), (40, 56, 16)])
def test_block_size_that_does_not_divide_the_image_rounds_the_grid_as_the_reference(height, width, block):
    """The reference draws a round(H/b) x round(W/b) grid (half to even) and stretches it to the image."""
    torch.manual_seed(3)
    mask = BlockMaskGenerator(0.5, block).generate_mask(torch.zeros(2, 3, height, width))
    torch.manual_seed(3)
    grid = torch.rand(2, 1, round(height / block), round(width / block))
    expected = F.interpolate((grid > 0.5).float(), size=(height, width), mode='nearest')
    assert torch.equal(mask, expected)


def test_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="mask_mode='separatemix'; expected one of separate, separatesrc"):
        _mic(mask_mode='separatemix')
    with pytest.raises(ValueError, match='mask_ratio=1.0'):
        BlockMaskGenerator(1.0, 16)
    with pytest.raises(ValueError, match="mask_generator type='grid'"):
        _mic(mask_generator=dict(type='grid', mask_ratio=0.7, mask_block_size=16))
    with pytest.raises(ValueError, match='needs the segmentor config'):
        _mic(mask_alpha=0.9)
    with pytest.raises(ValueError, match=r"MIC cfg: unknown keys \['mask_ratio'\]"):
        _mic(mask_ratio=0.7)
    with pytest.raises(ValueError, match="mask_mode='separate' masks .* needs batch size 2; got 3"):
        _mic(mask_mode='separate')(RecordingStudent(), **_inputs(batch_size=3))
