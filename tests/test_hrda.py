"""HRDA behaviour beyond the golden case: config errors, the crop-box draw and its scope, fixed attention,
slide batching, per-scale features."""
import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData

from mmseg.models.segmentors import HRDAEncoderDecoder
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

NORM = dict(type='BN', requires_grad=True)
MLP = dict(type='mlp', act_cfg=None, norm_cfg=None)


def hrda_cfg(head: dict = None, **kwargs) -> dict:
    """A small HRDA (mit_b0, 64-channel decoders): detail crop 32, test windows 64 with stride 32."""
    decode_head = dict(
        type='HRDAHead', single_scale_head='DAFormerHead', attention_classwise=True, hr_loss_weight=0.1,
        attention_embed_dim=32, in_channels=[32, 64, 160, 256], in_index=[0, 1, 2, 3], channels=64,
        dropout_ratio=0.1, num_classes=19, norm_cfg=NORM, align_corners=False,
        decoder_params=dict(embed_dims=64, embed_cfg=MLP, embed_neck_cfg=MLP,
                            fusion_cfg=dict(type='aspp', sep=True, dilations=(1, 6, 12, 18), pool=False,
                                            act_cfg=dict(type='ReLU'), norm_cfg=NORM)),
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0))
    decode_head.update(head or {})
    cfg = dict(type='HRDAEncoderDecoder', backbone=dict(type='mit_b0'), decode_head=decode_head, scales=[1, 0.5],
               hr_crop_size=[32, 32], feature_scale=0.5, crop_coord_divisible=8,
               test_cfg=dict(mode='slide', batched_slide=True, crop_size=[64, 64], stride=[32, 32]))
    cfg.update(kwargs)
    return cfg


def build(seed: int = 0, **kwargs) -> torch.nn.Module:
    torch.manual_seed(seed)
    return MODELS.build(hrda_cfg(**kwargs)).eval()


def batch(h: int = 64, w: int = 64, n: int = 2, seed: int = 1):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, 3, h, w, generator=gen), torch.randint(0, 19, (n, 1, h, w), generator=gen)


@pytest.mark.parametrize('kwargs, message', [
    (dict(scales=[1]), 'two positive scales'),
    (dict(scales=[1, 0.5, 0.25]), 'two positive scales'),
    (dict(scales=[0.5, 0.25]), 'detail scale must be 1'),
    (dict(feature_scale=0.25), 'not one of scales'),
    (dict(feature_scale='both'), "expected a scale or 'all'"),
    (dict(crop_coord_divisible=0), 'crop_coord_divisible'),
    (dict(hr_crop_size=[32]), 'hr_crop_size'),
    (dict(head=dict(single_scale_head='SegFormerHead')), 'single_scale_head'),
])
def test_bad_config_is_rejected_with_the_key(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MODELS.build(hrda_cfg(**kwargs))


def test_head_needs_two_sorted_scales():
    head = dict(hrda_cfg()['decode_head'], scales=[1])
    with pytest.raises(ValueError, match=r'scales=\[1\]; expected \[context scale, detail scale\]'):
        MODELS.build(head)


def test_detail_crop_larger_than_training_crop_is_named():
    model = build(hr_crop_size=[96, 64])
    img, gt = batch(64, 80)
    with pytest.raises(ValueError, match=r'hr_crop_size \[96, 64\] is larger than the training image 64x80'):
        model.forward_train(img, None, gt)


def test_no_divisible_crop_offset_is_named():
    model = build(hr_crop_size=[60, 60])
    img, gt = batch()
    with pytest.raises(ValueError, match='crop_coord_divisible=8'):
        model.forward_train(img, None, gt)


def test_crop_box_is_drawn_with_numpy_as_the_reference():
    """randint(0, (margin + 1) // 8) * 8 per axis from numpy's global RNG; one box for the batch."""
    model = build(hr_crop_size=[32, 40])
    img, gt = batch(64, 128)
    np.random.seed(3)
    with torch.no_grad():
        model.forward_train(img, None, gt)
    rng = np.random.RandomState(3)
    y1, x1 = rng.randint(0, 33 // 8) * 8, rng.randint(0, 89 // 8) * 8
    assert model.last_train_crop_box == (y1, y1 + 32, x1, x1 + 40)


def test_crop_box_is_per_instance_and_reset_in_the_head():
    model, other = build(), build()
    assert isinstance(model, HRDAEncoderDecoder)
    seen = []
    forward = model.decode_head.forward
    model.decode_head.forward = lambda inputs: seen.append(model.decode_head.hr_crop_box) or forward(inputs)
    img, gt = batch()
    with torch.no_grad():
        model.forward_train(img, None, gt)
    assert seen == [model.last_train_crop_box] and model.last_train_crop_box is not None
    assert model.decode_head.hr_crop_box is None
    assert other.last_train_crop_box is None and other.decode_head.hr_crop_box is None
    assert not hasattr(type(model), 'last_train_crop_box')


def test_training_losses_and_gradients():
    model = build().train()
    img, gt = batch()
    weight = torch.rand(2, 64, 64)
    losses = model.forward_train(img, None, gt, seg_weight=weight, return_logits=True)
    assert set(losses) == {'decode.loss_seg', 'decode.acc_seg', 'decode.hr.loss_seg', 'decode.hr.acc_seg',
                           'decode.logits'}
    assert losses['decode.logits'].shape == (2, 19, 16, 16)
    (losses['decode.loss_seg'] + losses['decode.hr.loss_seg']).backward()
    for module in (model.backbone.patch_embed1.proj, model.decode_head.head.conv_seg,
                   model.decode_head.scale_attention.conv_seg):
        assert module.weight.grad.abs().sum() > 0


def test_mmengine_loss_interface():
    model = build()
    img, gt = batch()
    samples = []
    for i in range(2):
        sample = SegDataSample(metainfo=dict(img_shape=(64, 64), ori_shape=(64, 64)))
        sample.gt_sem_seg = PixelData(data=gt[i])
        samples.append(sample)
    with torch.no_grad():
        losses = model(img, samples, mode='loss')
    assert 'decode.hr.loss_seg' in losses and model.decode_head.hr_crop_box is None


def _lr_logits(model, img):
    lr = model.decode_head.head(model.extract_unscaled_feat(F.interpolate(img, scale_factor=0.5, mode='bilinear',
                                                                               align_corners=False)))
    return F.interpolate(lr, scale_factor=2, mode='bilinear', align_corners=False)


def _hr_slide_logits(model, img):
    """HR logits averaged over 32² crops with stride 16, one crop at a time."""
    logits = torch.zeros(img.shape[0], 19, img.shape[2] // 4, img.shape[3] // 4)
    count = torch.zeros(1, 1, *logits.shape[2:])
    for y in range(0, img.shape[2] - 16, 16):
        for x in range(0, img.shape[3] - 16, 16):
            crop_logits = model.decode_head.head(model.extract_unscaled_feat(img[:, :, y:y + 32, x:x + 32]))
            logits[:, :, y // 4:y // 4 + 8, x // 4:x // 4 + 8] += crop_logits
            count[:, :, y // 4:y // 4 + 8, x // 4:x // 4 + 8] += 1
    return logits / count


@pytest.mark.parametrize('fixed, reference', [(0., _lr_logits), (1., _hr_slide_logits)])
def test_fixed_attention_gives_lr_only_or_hr_only(fixed, reference):
    model = build(head=dict(fixed_attention=fixed))
    assert model.decode_head.scale_attention is None
    assert not any('scale_attention' in key for key in model.state_dict())
    img, _ = batch(64, 96)
    with torch.no_grad():
        out = model.encode_decode(img, upscale_pred=False)
        torch.testing.assert_close(out, reference(model, img), atol=1e-5, rtol=1e-5)


def test_debug_output_attention_is_one_channel_in_unit_range():
    model = build(head=dict(debug_output_attention=True))
    img, _ = batch()
    with torch.no_grad():
        att = model.encode_decode(img)
    assert att.shape == (2, 1, 64, 64) and 0 <= float(att.min()) and float(att.max()) <= 1


def test_non_batched_slide_equals_batched_slide():
    model = build()
    img, _ = batch(64, 96)
    unbatched = copy.deepcopy(model)
    unbatched.test_cfg['batched_slide'] = False
    with torch.no_grad():
        torch.testing.assert_close(unbatched.slide_inference(img, None, rescale=False),
                                   model.slide_inference(img, None, rescale=False), atol=1e-5, rtol=1e-5)


def test_feature_scale_all_returns_both_scales_and_extract_feat_reuses_the_box():
    model, other = build(feature_scale='all', hr_crop_size=[32, 48]), build(feature_scale='all', hr_crop_size=[32, 48])
    img, gt = batch()
    with pytest.raises(ValueError, match='needs the detail-crop box'):
        other.extract_feat(img)
    with torch.no_grad():
        feats = model.forward_train(img, None, gt, return_feat=True)['features']
        assert [f[0].shape for f in feats] == [(2, 32, 8, 8), (2, 32, 8, 12)]
        for again in (model.extract_feat(img), model.extract_feat(img, crop_box=model.last_train_crop_box)):
            for scale_feats, scale_again in zip(feats, again):
                for feat, feat_again in zip(scale_feats, scale_again):
                    torch.testing.assert_close(feat_again, feat)


def test_feature_scale_returns_that_scales_features():
    model = build()
    img, gt = batch()
    with torch.no_grad():
        feats = model.forward_train(img, None, gt, return_feat=True)['features']
        assert feats[0].shape == (2, 32, 8, 8)
        for feat, again in zip(feats, model.extract_feat(img)):
            torch.testing.assert_close(again, feat)
