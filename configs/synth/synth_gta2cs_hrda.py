# Embedded synthetic benchmark: HRDA on the synthetic GTA -> Cityscapes pair. The tiny DAFormer of
# synth_gta2cs_dacs_rcs.py inside HRDA (configs/_base_/models/daformer_conv1_mit_tiny_hrda.py): per
# 128x128 training crop a context crop (the whole crop at 64x64) and a 64x64 detail crop at full
# resolution, fused by a class-wise scale attention, detail loss weight 0.1; the teacher's pseudo-labels
# and the test use the overlapping detail slide (3x3 crops of 64x64 per 128x128 window). Self-training as
# synth_gta2cs_dacs_rcs.py (DACS, EMA 0.99, rare class sampling, no feature distance: no ImageNet model
# exists for the tiny network), 2000 iterations of 8 source + 8 target images.
# Differences from the HRDA recipe (configs/hrda/gtaHR2csHR_hrda.py, spec §4.4) forced by the synthetic
# data: no high-resolution version of the images exists, so the crops keep the image resolution and RCS
# keeps min_crop_ratio 0.5 (the reference's 2.0 compensates for 4x the pixels per crop); no pseudo-label
# margins (the synthetic target has no rectification artefacts or ego-vehicle, as
# synth_gta2cs_dacs_rcs.py has no row cut).
_base_ = [
    '../_base_/synth_runtime.py',
    '../_base_/models/daformer_conv1_mit_tiny_hrda.py',
    '../_base_/datasets/uda_synthetic_gta_to_cityscapes_128x128.py',
    '../_base_/uda/dacs.py',
    '../_base_/schedules/synth_adamw_2k.py',
]
randomness = dict(seed=0)
uda = dict(debug_img_interval=500)  # class_mix_debug/ panels at iterations 1, 501, 1001, 1501
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='UDADataset',
        source={{_base_.source_dataset}},
        target={{_base_.target_dataset}},
        # min_pixels scaled from 3000 of a 1914x1052 GTA frame to a 128x128 image
        rare_class_sampling=dict(min_pixels=30, class_temp=0.01, min_crop_ratio=0.5)))
name = 'synth_gta2cs_hrda'
exp = 'synth'
