# GTA -> Cityscapes at high resolution with 1024x1024 crops (HRDA, MIC): the single-domain pieces of the
# UDA data. Reference: configs/_base_/datasets/uda_gtaHR_to_cityscapesHR_1024x1024.py (HRDA); spec §4.3,
# §8.5, §5.4, §3 (test). Twice the DAFormer resolution: GTA at (2560, 1440), Cityscapes at its native
# (2048, 1024), 1024x1024 crops (4x the pixels of the 512x512 DAFormer crops).
# Normalisation (ImageNet mean/std in RGB, spec §8.6) and padding to crop_size are done by the model's
# SegDataPreProcessor, so the pipelines end with PackSegInputs (uint8 BGR CHW). No photometric
# distortion: DACS applies its strong augmentation to the mixed image only.
crop_size = (1024, 1024)  # (H, W)
source_train_pipeline = [
    dict(type='LoadImageFromFile'),  # OpenCV, BGR uint8
    # *_labelTrainIds.png, unchanged uint8. A few GTA frames have labels of another size than their
    # image; the reference resizes both on their own, which 'warn' keeps (with a warning).
    dict(type='LoadAnnotations', size_mismatch='warn'),
    dict(type='Resize', scale=(2560, 1440), keep_ratio=True),  # 1914x1052 -> 2560x1407
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),  # up to 10 re-draws
    dict(type='RandomFlip', prob=0.5),  # horizontal
    dict(type='PackSegInputs'),
]
target_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # loaded but unused by UDA (as the reference)
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),  # 2048x1024 keeps its size
    dict(type='RandomCrop', crop_size=crop_size),  # target crops never use cat_max_ratio
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
# The reference MultiScaleFlipAug(img_scale=(2048, 1024), flip=False): the native Cityscapes resolution.
# Labels are loaded after the resize: predictions are resized back to and scored at full resolution.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
source_dataset = dict(
    type='GTADataset',
    data_root='data/gta/',
    data_prefix=dict(img_path='images', seg_map_path='labels'),
    pipeline=source_train_pipeline)
target_dataset = dict(
    type='CityscapesDataset',
    data_root='data/cityscapes/',
    data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
    # Pseudo-label crop v2 ("cpl2", spec §5.4): a mask of the full 1024x2048 image with the margins
    # [top, bottom, left, right] = [30, 240, 30, 30] zeroed (rectification artefacts, ego-vehicle hood)
    # goes through the pipeline with the label, so a margin only gets pseudo-label weight 0 where the
    # 1024x1024 crop touches the image border; it replaces DAFormer's row cut (top 15 / bottom 120 rows
    # of every crop). The reference sets it in the final config (data.train.target); it is set here,
    # with the data set, so that the UDA configs take the target as a whole.
    crop_pseudo_margins=[30, 240, 30, 30],
    pipeline=target_train_pipeline)
# train_dataloader (UDADataset pairing source_dataset and target_dataset, rare class sampling, batch 2,
# 1 worker) is defined with the UDA dataset, not here.
val_dataloader = dict(
    batch_size=1,
    num_workers=1,  # workers_per_gpu (1 in HRDA / MIC)
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CityscapesDataset',
        data_root='data/cityscapes/',
        data_prefix=dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric')
test_evaluator = val_evaluator
