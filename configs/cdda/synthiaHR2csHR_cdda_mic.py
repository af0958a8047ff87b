# CDDA on MIC(HRDA), SYNTHIA-HR -> Cityscapes-HR, 1024x1024 crops, masked image consistency on the target, seed 2
# (68.7 mIoU16 reported, CDDA README; MIC(HRDA) 67.3): ../mic/synHR2csHR_mic_hrda.py
# plus the depth-distribution guidance of gta2cs_cdda_daformer.py. The guidance loss uses the fused HRDA logits of
# a training forward (context everywhere, detail in a random 512x512 crop); the target depth maps stay at full
# resolution (Cityscapes-HR 2048x1024 is not resized, so its depth values stay integer).
# MIC's masked loss uses the same CDDA-reweighted, cropped pseudo-label weights (mask_pseudo_threshold='same').
# Before training: python tools/cdda_preprocess.py configs/cdda/synthiaHR2csHR_cdda_mic.py (9400 crops of 1024x1024).
# Reference: CDDA configs/cdda/synthiaHR2csHR_cdda_mic.py; spec ebda-cdda-ddb §2.
_base_ = ['../mic/synHR2csHR_mic_hrda.py']
uda = dict(
    cdda=dict(
        dataset='synthia',  # the reweighting skips terrain, truck and train (no SYNTHIA pixels)
        reweight_threshold=0.49,  # -> 0.43 after 30 decrements at 10k, 11k, ..., 39k
        relabel_threshold=0.47,  # -> 0.41
        threshold_decay=0.002,
        decay_start=10000,
        decay_interval=1000,
        decay_end=40000,
        guidance_weight=0.1,
        legacy_row0_mask=True,
        legacy_exact_depth_gate=True,
        legacy_last_class_flag=True))
train_dataloader = dict(
    dataset=dict(
        # data/synthia/depth_any/<image name>.png and data/cityscapes/depth_any/train/<city>/<stem>_depth.png
        source=dict(data_prefix=dict(depth_path='depth_any')),
        target=dict(data_prefix=dict(depth_path='depth_any/train'))))
train_cfg = dict(val_interval=1000)  # evaluation every 1000 iterations, best-mIoU checkpoint kept (reference)
default_hooks = dict(checkpoint=dict(save_best='mIoU', rule='greater'))
name = 'synthiaHR2csHR_cdda_mic'
