# The DACS control of DDB on the embedded synthetic pair (CPU): DACS + RCS as the DACS member of the CNN ladder
# (experiment 202), but with the model and schedule of one DDB training stage (DDB's DLV2AdapterHead on the
# quarter-width ResNetV1c-18 from scratch, 1000 iterations of batch 8, warm-up 50), so that ST-cu and ST-ca of
# configs/ddb/synth/ differ from it by the method alone: ClassMix with the EMA teacher's pseudo-labels and rare
# class sampling instead of training on the loader's bridges.
_base_ = [
    '../../_base_/synth_runtime.py',
    '../../_base_/models/dlv2adapter_r18v1c_tiny.py',
    '../../_base_/datasets/uda_synthetic_gta_to_cityscapes_128x128.py',
    '../../_base_/uda/dacs.py',
    '../../_base_/schedules/synth_adamw_2k.py',
]
randomness = dict(seed=0)
uda = dict(debug_img_interval=500)  # class_mix_debug/ panels at iterations 1 and 501
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='UDADataset',
        source={{_base_.source_dataset}},
        target={{_base_.target_dataset}},
        # min_pixels scaled from 3000 of a 1914x1052 GTA frame to a 128x128 image (configs/synth/)
        rare_class_sampling=dict(min_pixels=30, class_temp=0.01, min_crop_ratio=0.5)))
_iters = 1000  # one DDB stage; the ladder's DACS trains 2000
param_scheduler = [
    dict(type='PolyLRWithWarmup', power=1.0, min_lr=0.0, max_iters=_iters, warmup='linear', warmup_iters=50,
         warmup_ratio=1e-6, by_epoch=False, begin=0, end=_iters)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=_iters, val_interval=_iters)
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=_iters // 4, max_keep_ckpts=1))
name = 'dacs_rcs_dlv2_r18v1c-tiny_1x8_128x128_1k_synth2city'
exp = 'ddb-synth'
