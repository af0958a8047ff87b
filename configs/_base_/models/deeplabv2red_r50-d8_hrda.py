# HRDA around DAFormer's DeepLabV2 (HRDA Table 2, MIC Table 1; architecture `hrda1-512-0.1_dlv2red` of
# experiments.py, spec §4.1, §10.2): the dlv2red classifier (dilations 6 and 12) on ResNetV1c-50 d8 runs on the
# context crop (the whole crop at scale 0.5) and a detail crop (512x512 at scale 1), fused by a learned
# class-wise scale attention, which is a second dlv2red classifier on the context features (as the reference's
# HRDAHead builds it for a DLV2Head). experiments.py sets the backbone (ResNet-101 for 'r101v1c').
_base_ = ['deeplabv2red_r50-d8.py']
model = dict(
    type='HRDAEncoderDecoder',
    decode_head=dict(
        type='HRDAHead',
        single_scale_head='DLV2Head',  # logits at 1/8 of each branch's input
        attention_classwise=True,  # one attention channel per class
        hr_loss_weight=0.1,  # loss = 0.9 * L_fused + 0.1 * L_detail
        lr_loss_weight=0,
        fixed_attention=None,  # tools/test.py --hrda-out LR / HR set 0 / 1
        debug_output_attention=False),  # tools/test.py --hrda-out ATT
    scales=[1, 0.5],  # detail crop at scale 1, context at 0.5 (sorted internally)
    hr_crop_size=[512, 512],  # detail crop of the 1024x1024 training crops; also the HR slide window
    feature_scale=0.5,  # the feature distance uses the context features
    crop_coord_divisible=8,
    hr_slide_inference=True,
    hr_slide_overlapping=True,
    blur_hr_crop=False,
    # test time: overlapping 1024x1024 windows with stride 512 (each window: context + 3x3 detail crops)
    test_cfg=dict(mode='slide', batched_slide=True, stride=[512, 512], crop_size=[1024, 1024]))
