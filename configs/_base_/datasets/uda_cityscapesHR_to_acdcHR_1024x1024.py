# Cityscapes -> ACDC at high resolution with 1024x1024 crops (HRDA, MIC): the single-domain pieces of the
# UDA data. Reference: configs/_base_/datasets/uda_cityscapesHR_to_acdcHR_1024x1024.py (HRDA); spec §4.3,
# §8.5, §3 (test). Twice the DAFormer resolution: Cityscapes at its native (2048, 1024), ACDC at its
# native (1920, 1080). No pseudo-label margins: ACDC has no rectification artefacts (HRDA experiment 49
# and MIC experiment 80 use plcrop False, spec §5.4, §10.2).
# Normalisation (ImageNet mean/std in RGB, spec §8.6) and padding to crop_size are done by the model's
# SegDataPreProcessor, so the pipelines end with PackSegInputs (uint8 BGR CHW). No photometric
# distortion: DACS applies its strong augmentation to the mixed image only.
crop_size = (1024, 1024)  # (H, W)
source_train_pipeline = [
    dict(type='LoadImageFromFile'),  # OpenCV, BGR uint8
    dict(type='LoadAnnotations'),  # *_gtFine_labelTrainIds.png, unchanged uint8
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),  # 2048x1024 keeps its size
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),  # up to 10 re-draws
    dict(type='RandomFlip', prob=0.5),  # horizontal
    dict(type='PackSegInputs'),
]
target_train_pipeline = [
    dict(type='LoadImageFromFile'),  # no LoadAnnotations for the ACDC target
    dict(type='Resize', scale=(1920, 1080), keep_ratio=True),  # 1920x1080 keeps its size
    dict(type='RandomCrop', crop_size=crop_size),  # target crops never use cat_max_ratio
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
# The reference MultiScaleFlipAug(img_scale=(1920, 1080), flip=False): the native ACDC resolution (2x3
# slide windows of 1024x1024). Labels are loaded after the resize: predictions are resized back to and
# scored at full resolution.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1920, 1080), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
source_dataset = dict(
    type='CityscapesDataset',
    data_root='data/cityscapes/',
    data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
    pipeline=source_train_pipeline)
target_dataset = dict(
    type='ACDCDataset',
    data_root='data/acdc/',
    data_prefix=dict(img_path='rgb_anon/train'),  # images only: the target labels are not used
    pipeline=target_train_pipeline)
# train_dataloader (UDADataset pairing source_dataset and target_dataset, rare class sampling, batch 2,
# 1 worker) is defined with the UDA dataset, not here.
val_dataloader = dict(
    batch_size=1,
    num_workers=1,  # workers_per_gpu (1 in HRDA / MIC)
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='ACDCDataset',
        data_root='data/acdc/',
        data_prefix=dict(img_path='rgb_anon/val', seg_map_path='gt/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric')
test_evaluator = val_evaluator
