# UPerNet (pyramid pooling + FPN) on MiT-B5, DAFormer's decoder study (Table 7, 'upernet'). Reference:
# configs/_base_/models/upernet_mit.py. Train mode needs batches of 2 or more (the 1x1 pooling branch has BatchNorm).
_base_ = ['daformer_sepaspp_mitb5.py']  # MiT-B5, its ImageNet weights and the data preprocessor
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='UPerHead',
        in_channels=[64, 128, 320, 512],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=512,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
