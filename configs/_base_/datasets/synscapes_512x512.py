# Synscapes, DDB's second source (reference configs/_base_/datasets/*syns*): the pipeline of GTA (resize to fit
# 1280x720, 512x512 crop keeping at most 75 % of one class, flip), plain and with PhotoMetricDistortion (the CKD
# source). New names only, so that a config can add this file to the bases of a GTA -> Cityscapes config and
# concatenate the sources: ConcatDataset(datasets=[source_dataset, synscapes_dataset]).
synscapes_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # img/class/<id>_gt_labelTrainIds.png (tools/convert_datasets/synscapes.py)
    dict(type='Resize', scale=(1280, 720), keep_ratio=True),  # 1440x720 -> 1280x640
    dict(type='RandomCrop', crop_size=(512, 512), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
synscapes_train_pipeline_caug = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=(1280, 720), keep_ratio=True),
    dict(type='RandomCrop', crop_size=(512, 512), cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),  # the CKD source pipelines (_pmd in the reference)
    dict(type='PackSegInputs'),
]
synscapes_dataset = dict(
    type='SynscapesDataset',
    data_root='data/synscapes/',
    data_prefix=dict(img_path='img/rgb', seg_map_path='img/class'),
    pipeline=synscapes_train_pipeline)
synscapes_dataset_caug = dict(synscapes_dataset, pipeline=synscapes_train_pipeline_caug)
