# The embedded synthetic pair with colour-augmented source images ("CAug"), the synthetic stand-in of the
# gtaCAug data sets of AdvSeg and MinEnt: uda_synthetic_gta_to_cityscapes_128x128.py with
# PhotoMetricDistortion on the source.
_base_ = ['uda_synthetic_gta_to_cityscapes_128x128.py']
source_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomCrop', crop_size=(128, 128), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),  # brightness, contrast, saturation, hue, each with probability 0.5
    dict(type='PackSegInputs'),
]
source_dataset = dict(pipeline=source_train_pipeline)
