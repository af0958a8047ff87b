# DDB on the embedded synthetic pair (CPU), Round 1, step 2: CKD into a fresh student (the CNN of the synthetic ladder
# from scratch) from the ST-cu and ST-ca students with prototype-rectified pseudo-labels, source crops with
# PhotoMetricDistortion, 1000 iterations of batch 8. A stage of configs/ddb/synth_gta2cs_ddb.py, which passes the
# teachers and prototypes it made.
_base_ = [
    '../../_base_/synth_runtime.py',
    '../../_base_/models/dlv2adapter_r18v1c_tiny.py',
    '../../_base_/datasets/uda_synthetic_gtaCAug_to_cityscapes_128x128.py',
    '../../_base_/uda/ckd.py',
    '../../_base_/schedules/synth_adamw_2k.py',
]
randomness = dict(seed=0)
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='DomainBridgingDataset',
        source={{_base_.source_dataset}},
        target={{_base_.target_dataset}},
        mode='zero',
        post_pmd=True,
        post_blur=True))
uda = dict(
    proto_rectify=True,
    debug_img_interval=500,
    cu_model_load_from='checkpoints/synth2city_round1/synth2city_st-cu_dlv2.pth',
    ca_model_load_from='checkpoints/synth2city_round1/synth2city_st-ca_dlv2.pth',
    cu_proto_path='prototypes/synth2city_round1/synth2city_st-cu_dlv2.pth',
    ca_proto_path='prototypes/synth2city_round1/synth2city_st-ca_dlv2.pth')
_iters = 1000
param_scheduler = [
    dict(type='PolyLRWithWarmup', power=1.0, min_lr=0.0, max_iters=_iters, warmup='linear', warmup_iters=50,
         warmup_ratio=1e-6, by_epoch=False, begin=0, end=_iters)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=_iters, val_interval=_iters)
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=_iters // 4, max_keep_ckpts=1))
name = 'r1_ckd_dlv2_r18v1c-tiny_1x8_128x128_1k_synth2city'
exp = 'ddb-synth'
