# SYNTHIA -> Cityscapes with 512x512 crops (DAFormer): the GTA -> Cityscapes pieces with the
# SYNTHIA source. Reference: configs/_base_/datasets/uda_synthia_to_cityscapes_512x512.py; spec §8.1, §8.5.
_base_ = ['uda_gta_to_cityscapes_512x512.py']
crop_size = (512, 512)  # (H, W)
source_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=(1280, 760), keep_ratio=True),  # 1280x760 frames keep their size
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
source_dataset = dict(
    _delete_=True,
    type='SynthiaDataset',
    data_root='data/synthia/',
    data_prefix=dict(img_path='RGB', seg_map_path='GT/LABELS'),
    pipeline=source_train_pipeline)
# mIoU over the 19 classes as the reference logs it, plus mIoU16 (SYNTHIA has no terrain, truck, train;
# spec §13.20).
val_evaluator = dict(type='IoUMetric', with_miou16=True)
test_evaluator = val_evaluator
