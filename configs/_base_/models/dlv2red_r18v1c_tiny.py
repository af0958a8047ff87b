# A DeepLabV2 small enough to train from scratch on a laptop CPU, for the CNN ladder of the embedded synthetic
# benchmark (experiment 202): DAFormer's `dlv2red` classifier (dilations 6 and 12) on a ResNetV1c-18 of a
# quarter of the width (stem and first stage 16 channels, stages 16-32-64-128), with the d8 strides and
# dilations of the DeepLabV2 configs (output stride 8). About as costly per iteration as the tiny DAFormer of
# configs/synth/. No ImageNet weights exist for it (pretrained=None): ResNet's random initialisation.
_base_ = ['deeplabv2red_r50-d8.py']
find_unused_parameters = True
model = dict(
    pretrained=None,
    backbone=dict(depth=18, stem_channels=16, base_channels=16),
    decode_head=dict(in_channels=128))
