# The final DAFormer model (DAFormer paper, Table 7 last row): MiT-B5 encoder and the DAFormer
# decoder with context-aware fusion by depthwise-separable ASPP. Reference:
# configs/_base_/models/daformer_sepaspp_mitb5.py. Spec: shared/spec/daformer-hrda-mic.md §2.2.
norm_cfg = dict(type='BN', requires_grad=True)
find_unused_parameters = True
model = dict(
    type='EncoderDecoder',
    # ImageNet-1k MiT weights of SegFormer; see README "Pretrained weights".
    pretrained='pretrained/mit_b5.pth',
    # Normalisation of every domain (spec §8.6): ImageNet mean/std in RGB, images read as BGR.
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255),
    # mit_b0 ... mit_b5; b1-b5 have stage widths [64, 128, 320, 512], b0 [32, 64, 160, 256]
    # (set decode_head.in_channels accordingly).
    backbone=dict(type='mit_b5', style='pytorch'),
    decode_head=dict(
        type='DAFormerHead',
        in_channels=[64, 128, 320, 512],
        in_index=[0, 1, 2, 3],
        channels=256,  # fused feature width
        dropout_ratio=0.1,  # Dropout2d before the classifier
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        decoder_params=dict(
            embed_dims=256,  # one Linear(C_i -> 256) per level
            embed_cfg=dict(type='mlp', act_cfg=None, norm_cfg=None),
            embed_neck_cfg=dict(type='mlp', act_cfg=None, norm_cfg=None),
            # context-aware fusion: 1x1 + separable 3x3 dilated 6/12/18, no image pool, 3x3 bottleneck
            fusion_cfg=dict(
                type='aspp',
                sep=True,
                dilations=(1, 6, 12, 18),
                pool=False,
                act_cfg=dict(type='ReLU'),
                norm_cfg=norm_cfg),
        ),
        # mean over all pixels, ignored ones included (the reference normalisation, spec §2.1)
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
