# DeepLabV2 as DAFormer's ablations use it ("dlv2red", DAFormer Tables 1, 3-5): ResNetV1c-50 with output stride 8
# (d8) and the DeepLabV2 classifier reduced to dilations 6 and 12. Reference:
# configs/_base_/models/deeplabv2red_r50-d8.py (= deeplabv2_r50-d8.py with decode_head.dilations=(6, 12)).
# experiments.py sets backbone.depth=101 and the ResNet-101 weights for 'r101v1c', a ResNeSt for 's50' ... 's200'.
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    # ImageNet weights of open-mmlab (mmcv 1.x model zoo), read from pretrained/resnet50_v1c-2cccc1ad.pth;
    # see README "Pretrained weights".
    pretrained='open-mmlab://resnet50_v1c',
    # Normalisation of every domain (spec §8.6): ImageNet mean/std in RGB, images read as BGR.
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255),
    backbone=dict(
        type='ResNetV1c',  # deep stem of three 3x3 convs
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),  # stage widths 256, 512, 1024, 2048
        dilations=(1, 1, 2, 4),  # stages 3 and 4 dilated instead of strided: maps at 1/4, 1/8, 1/8, 1/8
        strides=(1, 2, 1, 1),
        norm_cfg=norm_cfg,
        norm_eval=False,  # BatchNorm trains (batch statistics)
        style='pytorch',  # stride on the 3x3 conv of the bottleneck
        contract_dilation=True),  # the first block of a dilated stage uses half the dilation
    decode_head=dict(
        type='DLV2Head',  # one 3x3 conv per dilation, stage 4 -> classes, summed (no norm, dropout or conv_seg)
        in_channels=2048,
        in_index=3,
        dilations=(6, 12),
        num_classes=19,
        align_corners=False,
        init_cfg=dict(type='Normal', std=0.01, override=dict(name='aspp_modules')),
        # mean over all pixels, ignored ones included (the reference normalisation, spec §2.1)
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
