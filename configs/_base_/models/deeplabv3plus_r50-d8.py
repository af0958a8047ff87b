# DeepLabV3+ on the d8 ResNetV1c-50 (DAFormer Tables 1 and 2). Reference: configs/_base_/models/
# deeplabv3plus_r50-d8.py, which DAFormer uses with BatchNorm and without auxiliary head. experiments.py runs it on
# ResNet-101 without decoder BN ('dlv3p_nodbn': decode_head.norm_cfg=None), and on MiT-B5 behind the
# SegFormerAdapter ('sfa_dlv3p_nodbn', 'mitb5-del': in_channels 512, c1_in_channels 64).
_base_ = ['deeplabv2red_r50-d8.py']  # the backbone, weights and data preprocessor
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='DepthwiseSeparableASPPHead',
        in_channels=2048,
        in_index=3,
        channels=512,
        dilations=(1, 12, 24, 36),  # 1x1 + depthwise-separable 3x3 branches, and image pooling
        c1_in_channels=256,  # the decoder's skip from stage 1 (1/4), projected to 48 channels
        c1_channels=48,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
