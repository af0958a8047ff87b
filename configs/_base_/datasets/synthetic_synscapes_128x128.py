# The Synscapes style of the embedded synthetic pair (tools/make_synthetic_data.py, data/synthetic/synscapes/),
# DDB's second source on CPU: the synthetic GTA source pipeline (128x128 crop, no resize), plain and with
# PhotoMetricDistortion (the CKD source). New names only (see synscapes_512x512.py).
synscapes_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomCrop', crop_size=(128, 128), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
synscapes_train_pipeline_caug = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomCrop', crop_size=(128, 128), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
synscapes_dataset = dict(
    type='SynscapesDataset',
    data_root='data/synthetic/synscapes/',
    data_prefix=dict(img_path='img/rgb', seg_map_path='img/class'),
    pipeline=synscapes_train_pipeline)
synscapes_dataset_caug = dict(synscapes_dataset, pipeline=synscapes_train_pipeline_caug)
