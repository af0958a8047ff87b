# HRDA with the final DAFormer (HRDA paper, Table 1; architecture `hrda1-512-0.1_daformer_sepaspp` of
# experiments.py, spec §10.1): MiT-B5 and the DAFormer decoder (sep-ASPP fusion) run on two scales of each
# training crop, a low-resolution context crop (the whole crop at scale 0.5) and a high-resolution
# detail crop (512x512 at scale 1), fused by a learned class-wise scale attention.
# Reference: the model of configs/hrda/gtaHR2csHR_hrda.py on top of configs/_base_/models/
# daformer_sepaspp_mitb5.py (the reference writes these keys into the final config). Spec §4.1, §4.2, §4.4
# (the fully merged config), §3 (test_cfg).
_base_ = ['daformer_sepaspp_mitb5.py']
model = dict(
    type='HRDAEncoderDecoder',
    decode_head=dict(
        type='HRDAHead',
        # The segmentation head of each scale is the DAFormer head of the base (sep-ASPP fusion, 256
        # channels, dropout 0.1); the scale-attention head is a second DAFormerHead with a 1x1 fusion.
        single_scale_head='DAFormerHead',
        # One attention channel per class.
        attention_classwise=True,
        attention_embed_dim=256,
        # Detail loss weight lambda_d = 0.1: loss = 0.9 * L_fused + 0.1 * L_detail. No direct
        # supervision of the (attention-scaled) context prediction.
        hr_loss_weight=0.1,
        lr_loss_weight=0,
        fixed_attention=None,  # tools/test.py --hrda-out LR / HR set 0 / 1
        debug_output_attention=False),  # tools/test.py --hrda-out ATT
    # Scale 1 for the detail crop, 0.5 for the context crop (sorted internally: [0.5, 1]).
    scales=[1, 0.5],
    # Detail crop of 512x512 full-resolution pixels out of each 1024x1024 training crop; also the crop
    # of the detail branch's slide inference (stride 256).
    hr_crop_size=[512, 512],
    # The ImageNet feature distance uses the context (LR) features, as the original DAFormer.
    feature_scale=0.5,
    # Detail-crop offsets are multiples of 8 (output stride 4 x downscale factor 2), so that the crop
    # aligns with the context prediction when fused.
    crop_coord_divisible=8,
    # Outside training (test and the teacher's pseudo-labels) the detail branch slides over the whole
    # image with overlapping 512x512 crops.
    hr_slide_inference=True,
    hr_slide_overlapping=True,
    blur_hr_crop=False,
    # Test time: overlapping 1024x1024 windows with stride 512, all windows in one batch; each window is
    # one HRDA encode_decode (context: the window at 512x512; detail: 3x3 crops of 512x512).
    test_cfg=dict(mode='slide', batched_slide=True, stride=[512, 512], crop_size=[1024, 1024]))
