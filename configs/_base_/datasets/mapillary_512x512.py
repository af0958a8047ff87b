# Mapillary Vistas in the Cityscapes classes, DDB's second target (reference configs/_base_/datasets/*mapi*):
# training images with their converted labels (tools/convert_datasets/mapillary2cityscape.py --train_id), resized
# with the short side to 512 whatever the aspect ratio (mmseg 0.22's min_size) and cropped to 512x512; validation at
# half resolution (tools/convert_datasets/mapillary_resize.py) with the Cityscapes test resize. New names only, so
# that a config can add this file to the bases of a GTA -> Cityscapes config and use
# MultiTargetDataset(targets=dict(cityscapes=target_dataset, mapillary=mapillary_train_dataset)).
mapillary_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # loaded but unused by UDA (as the reference)
    dict(type='Resize', scale=(1024, 512), keep_ratio=True, min_size=512),
    dict(type='RandomCrop', crop_size=(512, 512)),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
mapillary_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
mapillary_train_dataset = dict(
    type='MapillaryDataset',
    data_root='data/mapillary/',
    data_prefix=dict(img_path='training/images', seg_map_path='cityscapes_trainIdLabel/train/label'),
    pipeline=mapillary_train_pipeline)
mapillary_val_dataset = dict(
    type='MapillaryDataset',
    data_root='data/mapillary/',
    data_prefix=dict(img_path='half/val_img', seg_map_path='half/val_label'),
    pipeline=mapillary_test_pipeline)
