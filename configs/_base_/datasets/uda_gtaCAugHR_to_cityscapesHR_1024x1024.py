# GTA-HR -> Cityscapes-HR with 1024x1024 crops and colour-augmented source images ("CAug"): the HRDA data
# (uda_gtaHR_to_cityscapesHR_1024x1024.py) with PhotoMetricDistortion on the source, as the reference's
# uda_gtaCAugHR_to_cityscapesHR_1024x1024.py that AdvSeg and MinEnt train on with HRDA (HRDA 41; spec §8.5).
_base_ = ['uda_gtaHR_to_cityscapesHR_1024x1024.py']
source_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', size_mismatch='warn'),
    dict(type='Resize', scale=(2560, 1440), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(1024, 1024), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),  # brightness, contrast, saturation, hue, each with probability 0.5
    dict(type='PackSegInputs'),
]
source_dataset = dict(pipeline=source_train_pipeline)
