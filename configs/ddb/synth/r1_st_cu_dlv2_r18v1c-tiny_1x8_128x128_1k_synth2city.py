# DDB on the embedded synthetic pair (CPU), Round 1, step 1, the coarse region path: ST on cross-domain CutMix bridges
# of the synthetic GTA -> Cityscapes pair with the CNN of the synthetic CNN ladder (experiment 202: quarter-width
# ResNetV1c-18, from scratch) and DDB's adapter head, 1000 iterations of batch 8, the optimiser of the ladder (AdamW
# 6e-4, no head multiplier: nothing pretrained to protect). A stage of configs/ddb/synth_gta2cs_ddb.py.
_base_ = [
    '../../_base_/synth_runtime.py',
    '../../_base_/models/dlv2adapter_r18v1c_tiny.py',
    '../../_base_/datasets/uda_synthetic_gta_to_cityscapes_128x128.py',
    '../../_base_/uda/st.py',
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
        type='DomainBridgingDataset',
        source={{_base_.source_dataset}},
        target={{_base_.target_dataset}},
        mode='cut',
        post_pmd=True,
        post_blur=True))
_iters = 1000  # per stage; the ladder's DACS trains 2000
param_scheduler = [
    dict(type='PolyLRWithWarmup', power=1.0, min_lr=0.0, max_iters=_iters, warmup='linear', warmup_iters=50,
         warmup_ratio=1e-6, by_epoch=False, begin=0, end=_iters)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=_iters, val_interval=_iters)
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=_iters // 4, max_keep_ckpts=1))  # resumable stages
name = 'r1_st_cu_dlv2_r18v1c-tiny_1x8_128x128_1k_synth2city'
exp = 'ddb-synth'
