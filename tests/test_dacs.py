"""One DACS iteration on a tiny model: logs, teacher, optimiser scope, gradient accumulation."""
import copy
import random

import numpy as np
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.structures import PixelData

import mmseg.models  # noqa: F401
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

TINY_MODEL = dict(
    type='EncoderDecoder',
    backbone=dict(type='MixVisionTransformer', embed_dims=[8, 16, 32, 64], num_heads=[1, 1, 2, 4],
                  depths=[1, 1, 1, 1], qkv_bias=True, drop_path_rate=0.1),
    decode_head=dict(
        type='DAFormerHead', in_channels=[8, 16, 32, 64], in_index=[0, 1, 2, 3], channels=16, dropout_ratio=0.1,
        num_classes=19, norm_cfg=dict(type='BN', requires_grad=True), align_corners=False,
        decoder_params=dict(
            embed_dims=16, embed_cfg=dict(type='mlp', act_cfg=None, norm_cfg=None),
            embed_neck_cfg=dict(type='mlp', act_cfg=None, norm_cfg=None),
            fusion_cfg=dict(type='aspp', sep=True, dilations=(1, 6, 12, 18), pool=False, act_cfg=dict(type='ReLU'),
                            norm_cfg=dict(type='BN', requires_grad=True)))),
    test_cfg=dict(mode='whole'))
DACS_CFG = dict(type='DACS', model=TINY_MODEL, max_iters=10, alpha=0.999, pseudo_threshold=0.968,
                pseudo_weight_ignore_top=4, pseudo_weight_ignore_bottom=8, imnet_feature_dist_lambda=0.005,
                imnet_feature_dist_classes=[6, 7, 11, 12, 13, 14, 15, 16, 17, 18],
                imnet_feature_dist_scale_min_ratio=0.75, mix='class', blur=True, color_jitter_strength=0.2,
                color_jitter_probability=0.2)


def _batch(seed: int = 0, size: int = 64):
    g = torch.Generator().manual_seed(seed)

    def sample(with_label):
        s = SegDataSample(metainfo=dict(ori_shape=(size, size), flip=False))
        if with_label:
            label = torch.full((1, size, size), 13, dtype=torch.long)  # a thing class, so FD has cells
            label[:, :size // 2] = torch.randint(0, 19, (1, size // 2, size), generator=g)
            s.gt_sem_seg = PixelData(data=label)
        return s

    images = lambda: [torch.randint(0, 256, (3, size, size), generator=g, dtype=torch.uint8) for _ in range(2)]  # noqa
    return dict(inputs=images(), data_samples=[sample(True), sample(True)], target_inputs=images(),
                target_data_samples=[sample(False), sample(False)])


def _seed(seed=0):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _build(**overrides):
    _seed()
    dacs = MODELS.build(dict(copy.deepcopy(DACS_CFG), **overrides))
    dacs.train()
    return dacs


def _optim(dacs):
    return OptimWrapper(torch.optim.AdamW([p for p in dacs.parameters() if p.requires_grad], lr=1e-3))


def test_iteration_logs_the_reference_losses():
    dacs = _build()
    logs = dacs.train_step(_batch(), _optim(dacs))
    assert set(logs) == {'decode.loss_seg', 'decode.acc_seg', 'src.loss_imnet_feat_dist', 'mix.decode.loss_seg',
                         'mix.decode.acc_seg'}
    assert all(torch.isfinite(v) and not v.requires_grad for v in logs.values())
    assert dacs.local_iter == 1


def test_only_the_student_is_trainable():
    dacs = _build()
    trainable = {n for n, p in dacs.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith('model.') for n in trainable)
    assert len(trainable) == len(list(dacs.model.parameters()))


def test_teacher_copies_then_averages_the_student():
    dacs = _build()
    optim = _optim(dacs)
    student_before = [p.detach().clone() for p in dacs.model.parameters()]
    dacs.train_step(_batch(0), optim)
    for t, s in zip(dacs.ema_model.parameters(), student_before):
        torch.testing.assert_close(t, s)  # iteration 0: a copy of the student before its first step
    teacher_before = [p.detach().clone() for p in dacs.ema_model.parameters()]
    student_before = [p.detach().clone() for p in dacs.model.parameters()]
    assert any(not torch.equal(a, b) for a, b in zip(student_before, teacher_before))
    dacs.train_step(_batch(1), optim)
    for t, t0, s0 in zip(dacs.ema_model.parameters(), teacher_before, student_before):
        torch.testing.assert_close(t, 0.5 * t0 + 0.5 * s0)  # iteration 1: alpha_t = min(1 - 1/2, 0.999)


def test_teacher_batchnorm_runs_in_training_mode_without_dropout():
    dacs = _build()
    bn = dacs.ema_model.decode_head.fuse_layer.bottleneck.bn
    before = bn.running_mean.clone()
    dacs.train_step(_batch(), _optim(dacs))
    assert not torch.equal(bn.running_mean, before)
    assert not dacs.ema_model.decode_head.dropout.training
    assert dacs.ema_model.backbone.block1[0].norm1.training


def test_separate_backward_passes_equal_the_summed_loss_gradient():
    """The reference back-propagates each loss on its own; the accumulated gradient is that of the sum."""
    data = _batch()

    def gradients(accumulate_separately):
        dacs = _build()
        source = dacs.data_preprocessor(dict(inputs=data['inputs'], data_samples=copy.deepcopy(data['data_samples'])),
                                        True)
        target = dacs.data_preprocessor(
            dict(inputs=data['target_inputs'], data_samples=copy.deepcopy(data['target_data_samples'])), True)
        gt = torch.stack([s.gt_sem_seg.data for s in source['data_samples']]).long()
        losses = []
        backward = torch.Tensor.backward if accumulate_separately else (lambda loss, **kw: losses.append(loss))
        _seed(1)
        dacs.forward_train(source['inputs'], [s.metainfo for s in source['data_samples']], gt, target['inputs'],
                           [s.metainfo for s in target['data_samples']], backward)
        if losses:
            assert len(losses) == 3  # source, feature distance, mixed
            sum(losses).backward()
        return [p.grad.clone() for p in dacs.model.parameters()]

    for separate, summed in zip(gradients(True), gradients(False)):
        torch.testing.assert_close(separate, summed, atol=1e-6, rtol=1e-5)


def test_without_feature_distance_there_is_no_imagenet_model():
    dacs = _build(imnet_feature_dist_lambda=0)
    assert dacs.imnet_model is None
    logs = dacs.train_step(_batch(), _optim(dacs))
    assert 'src.loss_imnet_feat_dist' not in logs


def test_bad_hyper_parameters_are_rejected():
    with pytest.raises(ValueError, match="mix='cut'"):
        MODELS.build(dict(copy.deepcopy(DACS_CFG), mix='cut'))
    with pytest.raises(ValueError, match='alpha=1.5'):
        MODELS.build(dict(copy.deepcopy(DACS_CFG), alpha=1.5))


def test_source_only_trains_the_student_on_the_source_alone():
    dacs = _build(source_only=True, imnet_feature_dist_lambda=0)
    assert dacs.ema_model is None
    student_before = [p.detach().clone() for p in dacs.model.parameters()]
    logs = dacs.train_step(_batch(), _optim(dacs))
    assert set(logs) == {'decode.loss_seg', 'decode.acc_seg'}
    assert any(not torch.equal(a, b) for a, b in zip(student_before, dacs.model.parameters()))


def test_source_only_augment_gives_the_source_the_strong_augmentation_of_dacs():
    from mmseg.models.utils.dacs_transforms import get_mean_std, strong_transform
    with pytest.raises(ValueError, match='needs source_only=True'):
        _build(source_only_augment=True)
    dacs = _build(source_only=True, source_only_augment=True, imnet_feature_dist_lambda=0)
    seen = []
    original = dacs.model.forward_train
    dacs.model.forward_train = lambda img, *args, **kwargs: seen.append(img.detach().clone()) or original(
        img, *args, **kwargs)
    data = _batch()
    source = dacs.data_preprocessor(dict(inputs=data['inputs'], data_samples=copy.deepcopy(data['data_samples'])),
                                    True)
    _seed(5)
    dacs.train_step(data, _optim(dacs))
    _seed(5)  # replay the draws of the iteration: jitter and blur switches, then per image the jitter and sigma
    means, stds = get_mean_std([s.metainfo for s in source['data_samples']], 'cpu')
    params = dict(mix=None, color_jitter=random.uniform(0, 1), color_jitter_s=0.2, color_jitter_p=0.2,
                  blur=random.uniform(0, 1), mean=means[0].unsqueeze(0), std=stds[0].unsqueeze(0))
    assert params['color_jitter'] > 0.2 or params['blur'] > 0.5  # seed 5 augments
    img = source['inputs']
    expected = torch.cat([strong_transform(params, data=img[i:i + 1])[0] for i in range(img.shape[0])])
    torch.testing.assert_close(seen[0], expected)
    assert not torch.allclose(seen[0], img)


def test_an_unknown_uda_key_is_named():
    with pytest.raises(TypeError, match="unexpected keyword argument 'pseudo_treshold'"):
        MODELS.build(dict(copy.deepcopy(DACS_CFG), pseudo_treshold=0.9))


def _accumulated_gradients(dacs, data, capture=None):
    """Run one forward_train (no optimiser step) from a fixed RNG state; return the student's gradients."""
    source = dacs.data_preprocessor(dict(inputs=data['inputs'], data_samples=copy.deepcopy(data['data_samples'])),
                                    True)
    target = dacs.data_preprocessor(
        dict(inputs=data['target_inputs'], data_samples=copy.deepcopy(data['target_data_samples'])), True)
    gt = torch.stack([s.gt_sem_seg.data for s in source['data_samples']]).long()
    if capture is not None:
        original = dacs.model.forward_train

        def recording(img, *args, **kwargs):
            capture.append(img.detach().clone())
            return original(img, *args, **kwargs)

        dacs.model.forward_train = recording
    _seed(1)
    logs = dacs.forward_train(source['inputs'], [s.metainfo for s in source['data_samples']], gt, target['inputs'],
                              [s.metainfo for s in target['data_samples']])
    return [p.grad.clone() for p in dacs.model.parameters()], logs


@pytest.mark.parametrize('second_forward', [False, True])
def test_entropy_balance_adds_exactly_the_gradient_of_its_formula(second_forward):
    deterministic = copy.deepcopy(DACS_CFG)
    deterministic['model']['backbone']['drop_path_rate'] = 0.0
    deterministic['model']['decode_head']['dropout_ratio'] = 0.0
    data = _batch()
    _seed()
    plain = MODELS.build(copy.deepcopy(deterministic)).train()
    _seed()
    balanced = MODELS.build(dict(copy.deepcopy(deterministic),
                                 entropy_balance=dict(target=0.4, weight=0.1, second_forward=second_forward))).train()
    without, _ = _accumulated_gradients(plain, data)
    mixed = []
    with_eb, logs = _accumulated_gradients(balanced, data, capture=mixed)
    assert 'mix.entropy' in logs

    reference = MODELS.build(copy.deepcopy(deterministic['model'])).train()
    reference.load_state_dict(plain.model.state_dict())
    logits = reference.encode_decode(mixed[-1])
    p = torch.softmax(logits, dim=1)
    entropy = -(p * torch.log(p)).sum(dim=1)
    eb_loss = 0.1 * ((entropy - 0.4)**2).mean()
    eb_loss.backward()
    torch.testing.assert_close(logs['mix.entropy'], eb_loss.detach(), atol=1e-6, rtol=1e-5)
    for g_with, g_without, param in zip(with_eb, without, reference.parameters()):
        torch.testing.assert_close(g_with - g_without, param.grad, atol=1e-6, rtol=1e-4)


def test_entropy_balance_rejects_unknown_keys():
    with pytest.raises(ValueError, match=r"entropy_balance: unknown keys \['lambda'\]"):
        MODELS.build(dict(copy.deepcopy(DACS_CFG), entropy_balance=dict(target=0.4, **{'lambda': 0.1})))


MIC = dict(mask_mode='separatetrg', mask_lambda=1, mask_generator=dict(type='block', mask_ratio=0.7,
                                                                      mask_block_size=16))


def _recorded_student_calls(dacs, data):
    """One train_step; the (image, label, seg_weight) of each student forward_train, in call order."""
    calls = []
    original = dacs.model.forward_train

    def recording(img, img_metas, gt, seg_weight=None, **kwargs):
        calls.append((img.detach().clone(), gt.detach().clone(), None if seg_weight is None else seg_weight.clone()))
        return original(img, img_metas, gt, seg_weight, **kwargs)

    dacs.model.forward_train = recording
    logs = dacs.train_step(data, _optim(dacs))
    return calls, logs


def test_mic_trains_the_masked_target_with_the_unmixed_pseudo_labels():
    dacs = _build(imnet_feature_dist_lambda=0, **MIC)
    assert dacs.mic is not None and dacs.mic.teacher is None  # 'same' settings: DACS's teacher is shared
    data = _batch()
    calls, logs = _recorded_student_calls(dacs, data)
    assert {'masked.decode.loss_seg', 'masked.decode.acc_seg'} <= set(logs)
    assert torch.isfinite(logs['masked.decode.loss_seg'])
    (_, _, _), (_, _, mixed_weight), (masked_img, masked_lbl, masked_weight) = calls
    target = dacs.data_preprocessor(dict(inputs=data['target_inputs'], data_samples=data['target_data_samples']),
                                    True)['inputs']
    kept = (masked_img == target).all(dim=1)
    assert ((masked_img == 0).all(dim=1) | kept).all() and 0 < kept.float().mean() < 1  # blocks of the target, or 0
    with torch.no_grad():
        teacher_logits = dacs.ema_model.encode_decode(target, [s.metainfo for s in data['target_data_samples']])
    confidence, teacher_label = torch.softmax(teacher_logits, dim=1).max(dim=1)
    assert torch.equal(masked_lbl[:, 0], teacher_label)
    for image_weight in masked_weight:  # the un-mixed weight: one q per image, not the mixed weight's source ones
        assert torch.equal(image_weight, torch.full_like(image_weight, float(image_weight.flatten()[0])))
    assert not torch.equal(masked_weight, mixed_weight)


def test_mic_on_source_only_masks_the_source():
    dacs = _build(imnet_feature_dist_lambda=0, source_only=True, **dict(MIC, mask_mode='separatesrc'))
    calls, logs = _recorded_student_calls(dacs, _batch())
    assert len(calls) == 2 and 'masked.decode.loss_seg' in logs
    (_, source_lbl, _), (_, masked_lbl, masked_weight) = calls
    assert torch.equal(masked_lbl, source_lbl) and masked_weight is None
