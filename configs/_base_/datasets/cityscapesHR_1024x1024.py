# Cityscapes at full resolution with 1024x1024 crops: the HRDA target-only / oracle data set (HRDA
# experiment 43), as cityscapes_half_512x512.py is for DAFormer. Reference:
# configs/_base_/datasets/cityscapesHR_1024x1024.py (HRDA); spec §7 (target-only), §8.5, §3 (test).
# Normalisation (ImageNet mean/std in RGB, spec §8.6) and padding to crop_size are done by the model's
# SegDataPreProcessor, so the pipelines end with PackSegInputs (uint8 BGR CHW).
dataset_type = 'CityscapesDataset'
data_root = 'data/cityscapes/'
crop_size = (1024, 1024)  # (H, W)
train_pipeline = [
    dict(type='LoadImageFromFile'),  # OpenCV, BGR uint8
    dict(type='LoadAnnotations'),  # *_gtFine_labelTrainIds.png, unchanged uint8
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),  # 2048x1024 keeps its size
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),  # up to 10 re-draws
    dict(type='RandomFlip', prob=0.5),  # horizontal
    dict(type='PhotoMetricDistortion'),  # only in target-only / source-only / CAug pipelines
    dict(type='PackSegInputs'),
]
# The reference MultiScaleFlipAug(img_scale=(2048, 1024), flip=False): the native resolution.
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=2,  # samples_per_gpu
    num_workers=2,  # 1 in HRDA / MIC; a sample takes a worker about 70 ms (benchmarks/README.md, input
    # pipeline): 2 deliver the batch of 2 in a 90 ms iteration
    persistent_workers=True,
    pin_memory=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=True),  # re-shuffled each pass, cycled by the iteration loop
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric')
test_evaluator = val_evaluator
