# A DeepLabV2 small enough to train from scratch on a laptop CPU, for the CNN ladder of the embedded synthetic
# benchmark (experiment 201): DAFormer's `dlv2red` classifier (dilations 6 and 12) on a ResNetV1c-18 of a
# quarter of the width (stem and first stage 16 channels, stages 16-32-64-128), with the d8 strides and
# dilations of the DeepLabV2 configs (output stride 8). About as costly per iteration as the tiny DAFormer of
# configs/synth/. No ImageNet weights exist for it (pretrained=None): ResNet's random initialisation.
norm_cfg = dict(type='BN', requires_grad=True)
find_unused_parameters = True
model = dict(
    type='EncoderDecoder',
    pretrained=None,
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255),
    backbone=dict(
        type='ResNetV1c',
        depth=18,
        stem_channels=16,
        base_channels=16,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        strides=(1, 2, 1, 1),
        dilations=(1, 1, 2, 4),
        contract_dilation=True,
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch'),
    decode_head=dict(
        type='DLV2Head',
        in_channels=128,
        in_index=3,
        dilations=(6, 12),
        num_classes=19,
        align_corners=False,
        init_cfg=dict(type='Normal', std=0.01, override=dict(name='aspp_modules')),
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
