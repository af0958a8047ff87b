# SegFormer's all-MLP decoder on ResNetV1c-101 (DAFormer Table 2, ('segformer', 'r101v1c')): the head of
# segformer_mitb5.py (Linear(C_i -> 768) per level, 1x1 fusion, BN) with the ResNet stage widths as in_channels.
# The reference's configs/_base_/models/segformer_r101.py was not available and no golden case covers this model;
# the backbone is the d8 ResNetV1c-101 of the other ResNet-101 models of DAFormer's Tables 1 and 2 (stage maps at
# 1/4, 1/8, 1/8, 1/8), the head is the reference SegFormer head. The base head's conv_seg is unused, hence
# find_unused_parameters.
_base_ = ['deeplabv2red_r50-d8.py']  # the backbone, weights and data preprocessor
norm_cfg = dict(type='BN', requires_grad=True)
find_unused_parameters = True
model = dict(
    pretrained='open-mmlab://resnet101_v1c',
    backbone=dict(depth=101),
    decode_head=dict(
        _delete_=True,
        type='SegFormerHead',
        in_channels=[256, 512, 1024, 2048],
        in_index=[0, 1, 2, 3],
        channels=128,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        decoder_params=dict(embed_dim=768, conv_kernel_size=1),
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
