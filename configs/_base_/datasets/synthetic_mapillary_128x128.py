# The Mapillary style of the embedded synthetic pair (tools/make_synthetic_data.py, data/synthetic/mapillary/, images
# of twice the size), DDB's second target on CPU: training images resized with the short side to 128 and cropped to
# 128x128; validation on the half-resolution images (128x128) without resize. New names only (see
# mapillary_512x512.py).
mapillary_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=(256, 128), keep_ratio=True, min_size=128),
    dict(type='RandomCrop', crop_size=(128, 128)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
mapillary_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
mapillary_train_dataset = dict(
    type='MapillaryDataset',
    data_root='data/synthetic/mapillary/',
    data_prefix=dict(img_path='training/images', seg_map_path='cityscapes_trainIdLabel/train/label'),
    pipeline=mapillary_train_pipeline)
mapillary_val_dataset = dict(
    type='MapillaryDataset',
    data_root='data/synthetic/mapillary/',
    data_prefix=dict(img_path='half/val_img', seg_map_path='half/val_label'),
    pipeline=mapillary_test_pipeline)
