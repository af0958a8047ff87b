# SYNTHIA -> Cityscapes at high resolution with 1024x1024 crops (HRDA, MIC): the GTA-HR -> Cityscapes-HR
# pieces with the SYNTHIA source at (2560, 1520), twice the DAFormer (1280, 760). Reference:
# configs/_base_/datasets/uda_synthiaHR_to_cityscapesHR_1024x1024.py (HRDA); spec §4.3, §8.5. The
# Cityscapes target keeps the pseudo-label margins [30, 240, 30, 30] (HRDA experiment 40, plcrop v2).
_base_ = ['uda_gtaHR_to_cityscapesHR_1024x1024.py']
crop_size = (1024, 1024)  # (H, W)
source_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=(2560, 1520), keep_ratio=True),  # 1280x760 -> 2560x1520
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
# spec §13.20), the reported one.
val_evaluator = dict(type='IoUMetric', with_miou16=True)
test_evaluator = val_evaluator
