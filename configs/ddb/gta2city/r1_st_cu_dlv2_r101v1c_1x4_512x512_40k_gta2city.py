# DDB Round 1, step 1, the coarse region path: ST (mean teacher, alpha 0.99) on cross-domain CutMix bridges,
# GTA -> Cityscapes, ResNetV1c-101 + DLV2AdapterHead from ImageNet weights, 1 GPU x batch 4, 40k iterations.
# Reference: configs/gta2city/r1_st_cu_dlv2_r101v1c_1x4_512x512_40k_gta2city.py.
_base_ = [
    '../../_base_/default_runtime.py',
    '../../_base_/models/deeplabv2red_r101v1c-d8_adapter.py',
    '../../_base_/datasets/uda_gta_to_cityscapes_512x512.py',
    '../../_base_/uda/st.py',
    '../../_base_/schedules/adamw.py',
    '../../_base_/schedules/poly10warm.py',
]
randomness = dict(seed=0)
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),  # a shuffled source index, the target drawn uniformly
    dataset=dict(
        type='DomainBridgingDataset',
        source={{_base_.source_dataset}},
        target={{_base_.target_dataset}},
        mode='cut',  # CutMix, one box of 40 % of the crop (the coarse region path); 'class': ClassMix
        post_pmd=True,  # colour jitter of the bridged image (applied 80 % of the time)
        post_blur=True))  # Gaussian blur (50 %), horizontal only as the reference (reference_blur=True)
optim_wrapper = dict(optimizer=dict(lr=6e-05), paramwise_cfg=dict(custom_keys=dict(head=dict(lr_mult=10.0))))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40000, val_interval=4000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=4000, max_keep_ckpts=1))
name = 'r1_st_cu_dlv2_r101v1c_1x4_512x512_40k_gta2city'
exp = 'ddb'
