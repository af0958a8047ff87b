# GTA -> Cityscapes with 512x512 crops and colour-augmented source images ("CAug"): the DAFormer data
# (uda_gta_to_cityscapes_512x512.py) with PhotoMetricDistortion on the source, as the reference's
# uda_gtaCAug_to_cityscapes_512x512.py that AdvSeg and MinEnt train on (HRDA 41, MIC 81; spec §8.5).
_base_ = ['uda_gta_to_cityscapes_512x512.py']
source_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', size_mismatch='warn'),
    dict(type='Resize', scale=(1280, 720), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(512, 512), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),  # brightness, contrast, saturation, hue, each with probability 0.5
    dict(type='PackSegInputs'),
]
source_dataset = dict(pipeline=source_train_pipeline)
