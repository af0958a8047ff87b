# SegFormer ("MLP all") on MiT-B5, as DAFormer's configs/_base_/models/segformer_b5.py:
# Linear(C_i -> 768) per level, 1x1 ConvModule fusion (BN, ReLU), Dropout2d, linear_pred.
# The base head's conv_seg (128 -> 19) exists but is unused, hence find_unused_parameters.
_base_ = ['daformer_sepaspp_mitb5.py']
norm_cfg = dict(type='BN', requires_grad=True)
find_unused_parameters = True
model = dict(
    decode_head=dict(
        _delete_=True,
        type='SegFormerHead',
        in_channels=[64, 128, 320, 512],
        in_index=[0, 1, 2, 3],
        channels=128,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        decoder_params=dict(embed_dim=768, conv_kernel_size=1),
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
