# DANet (position + channel attention) on the d8 ResNetV1c-50 (DAFormer Table 1). Reference:
# configs/_base_/models/danet_r50-d8.py, with BatchNorm and without auxiliary head as DAFormer uses it.
# experiments.py runs it on ResNet-101 without decoder BN ('da_nodbn': decode_head.norm_cfg=None). Training has a
# cross-entropy on each of the head's three logits (decode.pam_cam.*, decode.pam.*, decode.cam.*).
_base_ = ['deeplabv2red_r50-d8.py']  # the backbone, weights and data preprocessor
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    decode_head=dict(
        _delete_=True,
        type='DAHead',
        in_channels=2048,
        in_index=3,
        channels=512,
        pam_channels=64,  # keys and queries of the position attention
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
