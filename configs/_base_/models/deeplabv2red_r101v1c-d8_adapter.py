# DDB's model (reference: configs/_base_/models/deeplabv2red_r101v1c-d8_adapter.py): ResNetV1c-101 with output
# stride 8 and DLV2AdapterHead, whose 256-d bottleneck feature is the feature of DDB's class prototypes.
# SyncBN in the reference, which reverts it to BN on one GPU: BN here (the 2x2 configs of two GPUs set SyncBN).
norm_cfg = dict(type='BN', requires_grad=True)
find_unused_parameters = True
model = dict(
    type='UDAEncoderDecoder',  # EncoderDecoder with encode_decode(..., return_feature=True)
    # ImageNet weights of open-mmlab, read from pretrained/resnet101_v1c-e67eebb6.pth (README "Pretrained weights")
    pretrained='open-mmlab://resnet101_v1c',
    # ImageNet mean/std in RGB, images read as BGR; padding 0 (normalised) / 255 (labels), as Normalize -> Pad
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255),
    backbone=dict(
        type='ResNetV1c',  # deep stem of three 3x3 convs
        depth=101,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4),  # stages 3 and 4 dilated instead of strided: output stride 8
        strides=(1, 2, 1, 1),
        norm_cfg=norm_cfg,
        norm_eval=False,  # BatchNorm trains (batch statistics)
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='DLV2AdapterHead',
        in_channels=2048,
        channels=256,  # two ASPP branches of 128, concatenated; the 256-d bottleneck is the prototype feature
        in_index=3,
        dilations=(6, 12),
        dropout_ratio=0.1,
        num_classes=19,
        align_corners=False,
        norm_cfg=norm_cfg,
        act_cfg=dict(type='ReLU'),
        # replaces the decode head's default init (conv_seg keeps PyTorch's); every weight of the ASPP branches,
        # their BN gammas included, is drawn from N(0, 0.01) (a reference quirk)
        init_cfg=dict(type='Normal', std=0.01, override=dict(name='aspp_modules')),
        # mean over all pixels, ignored ones included; logged as loss_ce (mmseg 0.22's name)
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
