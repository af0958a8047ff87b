"""HRDA around DeepLabV2 (``hrda1-512-0.1_dlv2red`` of HRDA 41 and MIC 81): HRDAHead with DLV2Head branches, on a tiny
ResNet."""
import torch

from mmseg.registry import MODELS

HRDA_DLV2 = dict(
    type='HRDAEncoderDecoder', scales=[1, 0.5], hr_crop_size=[32, 32], feature_scale=0.5, crop_coord_divisible=8,
    backbone=dict(type='ResNetV1c', depth=18, stem_channels=16, base_channels=16, strides=(1, 2, 1, 1),
                  dilations=(1, 1, 2, 4), contract_dilation=True),
    decode_head=dict(type='HRDAHead', single_scale_head='DLV2Head', attention_classwise=True, hr_loss_weight=0.1,
                     in_channels=128, in_index=3, dilations=(6, 12), num_classes=19, align_corners=False,
                     init_cfg=dict(type='Normal', std=0.01, override=dict(name='aspp_modules'))),
    test_cfg=dict(mode='slide', batched_slide=True, stride=[32, 32], crop_size=[64, 64]))


def test_both_branches_and_the_attention_are_deeplabv2_classifiers_at_output_stride_8():
    torch.manual_seed(0)
    model = MODELS.build(HRDA_DLV2).train()
    head = model.decode_head
    assert type(head.head).__name__ == type(head.scale_attention).__name__ == 'DLV2Head'
    assert head.head.dilations == head.scale_attention.dilations == (6, 12) and head.os == 8
    assert [k for k in model.state_dict() if k.startswith('decode_head.')] == [
        f'decode_head.{part}.aspp_modules.{i}.conv.{p}' for part in ('head', 'scale_attention') for i in (0, 1)
        for p in ('weight', 'bias')]
    img, gt = torch.randn(2, 3, 64, 64), torch.randint(0, 19, (2, 1, 64, 64))
    losses = model.forward_train(img, None, gt, return_logits=True)
    assert set(losses) == {'decode.loss_seg', 'decode.acc_seg', 'decode.hr.loss_seg', 'decode.hr.acc_seg',
                           'decode.logits'}
    assert losses['decode.logits'].shape == (2, 19, 8, 8)  # the fused logits at 1/8 of the detail scale
    with torch.no_grad():
        assert model.eval().encode_decode(img, None).shape == (2, 19, 64, 64)
