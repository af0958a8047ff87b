# The fog + rain variant of the embedded synthetic benchmark: DACS with rare class sampling (as
# synth_gta2cs_dacs_rcs.py: tiny DAFormer from scratch, 2000 iterations of 8 source + 8 target images at 128x128,
# no ImageNet feature distance, teacher momentum 0.99) adapting the synthetic GTA source to the synthetic Foggy
# (β 0.02) + Rain targets together; evaluated on each target's val images, mIoU = the mean of the two (ID 201).
_base_ = [
    '../_base_/synth_runtime.py',
    '../_base_/models/daformer_conv1_mit_tiny.py',
    '../_base_/datasets/uda_synthetic_gta_to_foggyrain_128x128.py',
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
name = 'synth_gta2foggyrain_dacs_rcs'
exp = 'synth'
