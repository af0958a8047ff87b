# A DAFormer small enough to train from scratch on a laptop CPU, for the embedded synthetic benchmark
# (configs/synth/): the DAFormer decoder (MLP embeddings, fusion at 1/4 resolution) on a four-stage MiT
# with widths 16-128 and one or two blocks per stage (0.54M parameters), output stride 4 as MiT-B5.
# The fusion is the decoder study's 1x1 convolution (daformer_conv1): on a CPU the backward pass of
# the dilated depthwise convolutions of the separable ASPP costs twice the whole 1x1 model
# (0.28 vs 0.13 s per source-only iteration of batch 8 on one core).
# No ImageNet weights exist for it (pretrained=None): it starts from the MiT initialisation.
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
        type='MixVisionTransformer',
        embed_dims=[16, 32, 64, 128],
        num_heads=[1, 2, 4, 8],
        mlp_ratios=[4, 4, 4, 4],
        depths=[1, 2, 2, 1],
        sr_ratios=[8, 4, 2, 1],
        qkv_bias=True,
        drop_path_rate=0.1),
    decode_head=dict(
        type='DAFormerHead',
        in_channels=[16, 32, 64, 128],
        in_index=[0, 1, 2, 3],
        channels=32,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        decoder_params=dict(
            embed_dims=32,
            embed_cfg=dict(type='mlp', act_cfg=None, norm_cfg=None),
            embed_neck_cfg=dict(type='mlp', act_cfg=None, norm_cfg=None),
            fusion_cfg=dict(type='conv', kernel_size=1, act_cfg=dict(type='ReLU'), norm_cfg=norm_cfg)),
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
