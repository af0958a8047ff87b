# DDB Round 1, step 2: cross-path knowledge distillation into a fresh student (ImageNet weights) from the frozen
# ST-cu and ST-ca students, with prototype-rectified ensemble pseudo-labels; GTA -> Cityscapes, 1 GPU x batch 4, 40k.
# The source crops get PhotoMetricDistortion (the reference's _pmd data), the student sees the target crop after
# colour jitter and blur (bridging mode 'zero'), the teachers the clean crop.
# Reference: configs/gta2city/r1_ckd_dlv2_r101v1c_1x4_512x512_40k_gta2city.py.
# The checkpoint and prototype paths are the reference's folders; the DDB pipeline (configs/ddb/gta2cs_ddb.py)
# passes the files it made instead.
_base_ = [
    '../../_base_/default_runtime.py',
    '../../_base_/models/deeplabv2red_r101v1c-d8_adapter.py',
    '../../_base_/datasets/uda_gtaCAug_to_cityscapes_512x512.py',
    '../../_base_/uda/ckd.py',
    '../../_base_/schedules/adamw.py',
    '../../_base_/schedules/poly10warm.py',
]
randomness = dict(seed=0)
train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='DomainBridgingDataset',
        source={{_base_.source_dataset}},
        target={{_base_.target_dataset}},
        mode='zero',  # the target crop itself, then jitter and blur: the student's view
        post_pmd=True,
        post_blur=True))
uda = dict(
    proto_rectify=True,
    cu_model_load_from='checkpoints/gta2city_round1/gta2city_st-cu_dlv2.pth',
    ca_model_load_from='checkpoints/gta2city_round1/gta2city_st-ca_dlv2.pth',
    cu_proto_path='prototypes/gta2city_round1/gta2city_st-cu_dlv2.pth',
    ca_proto_path='prototypes/gta2city_round1/gta2city_st-ca_dlv2.pth')
optim_wrapper = dict(optimizer=dict(lr=6e-05), paramwise_cfg=dict(custom_keys=dict(head=dict(lr_mult=10.0))))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40000, val_interval=4000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=4000, max_keep_ckpts=1))
name = 'r1_ckd_dlv2_r101v1c_1x4_512x512_40k_gta2city'
exp = 'ddb'
