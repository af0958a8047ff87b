# The source of the embedded synthetic pair with its labels, validated on its target: the source-only data set of
# `run_experiments.py --exp ID --data synth`, as gta_to_cityscapes_512x512.py is for the benchmark (random crop,
# flip and photometric distortion; no resize, the images already have the crop size).
_base_ = ['./uda_synthetic_gta_to_cityscapes_128x128.py']
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomCrop', crop_size={{_base_.crop_size}}, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=2,
    num_workers=1,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='GTADataset',
        data_root='data/synthetic/gta/',
        data_prefix=dict(img_path='images', seg_map_path='labels'),
        pipeline=train_pipeline))
