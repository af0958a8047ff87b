# GTA -> Cityscapes with 512x512 crops (DAFormer): the single-domain pieces of the UDA data.
# Reference: configs/_base_/datasets/uda_gta_to_cityscapes_512x512.py; spec §8.1, §8.5, §3 (test).
# Normalisation (ImageNet mean/std in RGB, spec §8.6) and padding to crop_size are done by the model's
# SegDataPreProcessor, so the pipelines end with PackSegInputs (uint8 BGR CHW). No photometric
# distortion: DACS applies its strong augmentation to the mixed image only.
crop_size = (512, 512)  # (H, W)
source_train_pipeline = [
    dict(type='LoadImageFromFile'),  # OpenCV, BGR uint8
    # *_labelTrainIds.png, unchanged uint8. A few GTA frames have labels of another size than their
    # image; the reference resizes both on their own, which 'warn' keeps (with a warning).
    dict(type='LoadAnnotations', size_mismatch='warn'),
    dict(type='Resize', scale=(1280, 720), keep_ratio=True),  # 1914x1052 -> 1280x704
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),  # up to 10 re-draws
    dict(type='RandomFlip', prob=0.5),  # horizontal
    dict(type='PackSegInputs'),
]
target_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # loaded but unused by UDA (as the reference)
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),  # 2048x1024 -> 1024x512
    dict(type='RandomCrop', crop_size=crop_size),  # target crops never use cat_max_ratio
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
# The reference MultiScaleFlipAug(img_scale=(1024, 512), flip=False) is a single keep-ratio resize.
# Labels are loaded after the resize: predictions are resized back to and scored at full resolution.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),
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
    pipeline=target_train_pipeline)
# train_dataloader (UDADataset pairing source_dataset and target_dataset, rare class sampling, batch 2,
# 4 workers) is defined with the UDA dataset, not here.
val_dataloader = dict(
    batch_size=1,
    num_workers=4,  # workers_per_gpu
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
