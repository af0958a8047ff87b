# HRDA around the tiny DAFormer of the embedded synthetic benchmark (daformer_conv1_mit_tiny.py), scaled
# from the HRDA model (daformer_sepaspp_mitb5_hrda.py; spec §4.1, §4.2) to 128x128 training crops: the
# context branch sees the whole crop at 64x64 (scale 0.5), the detail branch a 64x64 crop at full
# resolution, fused by a class-wise scale attention (a second tiny DAFormer head, 32 channels, 1x1
# fusion). Detail loss weight 0.1 and crop offsets divisible by 8, as the reference.
_base_ = ['daformer_conv1_mit_tiny.py']
model = dict(
    type='HRDAEncoderDecoder',
    decode_head=dict(
        type='HRDAHead',
        single_scale_head='DAFormerHead',
        attention_classwise=True,
        attention_embed_dim=32,  # the tiny decoder's width (256 in the reference)
        hr_loss_weight=0.1,
        lr_loss_weight=0),
    scales=[1, 0.5],
    hr_crop_size=[64, 64],  # half the 128x128 training crop, as 512 of 1024
    feature_scale=0.5,
    crop_coord_divisible=8,
    hr_slide_inference=True,  # detail branch: 64x64 crops with stride 32, 3x3 per 128x128 window
    # 128x128 windows with stride 64 (one window for the 128x128 synthetic images), batched.
    test_cfg=dict(mode='slide', batched_slide=True, stride=[64, 64], crop_size=[128, 128]))
