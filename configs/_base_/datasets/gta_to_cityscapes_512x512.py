# GTA -> Cityscapes without adaptation ("source-only", DAFormer experiments 1 and 3): a plain segmentor trained on
# GTA with 512x512 crops and photometric distortion, validated on Cityscapes. Reference:
# configs/_base_/datasets/gta_to_cityscapes_512x512.py; spec §7 (source-only), §8.5. Validation and test come from
# the UDA data set base.
_base_ = ['uda_gta_to_cityscapes_512x512.py']
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', size_mismatch='warn'),  # as the UDA source (a few GTA labels have another size)
    dict(type='Resize', scale=(1280, 720), keep_ratio=True),  # 1914x1052 -> 1280x704
    dict(type='RandomCrop', crop_size={{_base_.crop_size}}, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),  # only in target-only / source-only / CAug pipelines
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=2,  # samples_per_gpu
    num_workers=4,  # workers_per_gpu
    persistent_workers=True,
    pin_memory=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),  # re-shuffled each pass, cycled by the iteration loop
    dataset=dict(
        type='GTADataset',
        data_root='data/gta/',
        data_prefix=dict(img_path='images', seg_map_path='labels'),
        pipeline=train_pipeline))
