# DDB's model at the size of the CNN ladder of the embedded synthetic benchmark (dlv2red_r18v1c_tiny.py, experiment
# 202): the same quarter-width ResNetV1c-18 (stages 16-32-64-128, output stride 8) with DDB's DLV2AdapterHead scaled
# by the same factor as the backbone (2048 -> 128 input channels; 256 -> 64: two ASPP branches of 32, a 64-d
# prototype feature). Trained from scratch (no ImageNet weights exist for it).
_base_ = ['deeplabv2red_r101v1c-d8_adapter.py']
model = dict(
    pretrained=None,
    backbone=dict(depth=18, stem_channels=16, base_channels=16),
    decode_head=dict(in_channels=128, channels=64))
