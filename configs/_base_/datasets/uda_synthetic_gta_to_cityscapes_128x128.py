# The embedded synthetic pair (tools/make_synthetic_data.py): a rendered-looking source in the GTA layout
# and a photographed-looking target in the Cityscapes layout, 128x128 images with Cityscapes label ids,
# converted by the real tools/convert_datasets/{gta,cityscapes}.py. Same pipeline steps as the GTA ->
# Cityscapes benchmark, without the resize (the images already have the crop size).
crop_size = (128, 128)  # (H, W)
source_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # *_labelTrainIds.png
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
target_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # used only by the target-only (oracle) model
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
source_dataset = dict(
    type='GTADataset',
    data_root='data/synthetic/gta/',
    data_prefix=dict(img_path='images', seg_map_path='labels'),
    pipeline=source_train_pipeline)
target_dataset = dict(
    type='CityscapesDataset',
    data_root='data/synthetic/cityscapes/',
    data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
    pipeline=target_train_pipeline)
val_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CityscapesDataset',
        data_root='data/synthetic/cityscapes/',
        data_prefix=dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric')
test_evaluator = val_evaluator
