# Cityscapes at full resolution with 256x256 crops: a target-only member of the HRDA crop-size study
# (experiment 43, HRDA Fig. 4 right), cityscapesHR_1024x1024.py with smaller crops.
_base_ = ['cityscapesHR_1024x1024.py']
crop_size = (256, 256)  # (H, W)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
