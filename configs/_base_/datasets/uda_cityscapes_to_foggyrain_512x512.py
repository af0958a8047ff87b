# Cityscapes -> Foggy Cityscapes + Rain Cityscapes with 512x512 crops: EBDA's second benchmark. The EBDA repository
# names this setting only (spec ebda-cdda-ddb.md §1.3: no data set class, config or numbers), so everything here is
# our choice, made as the CS -> ACDC and GTA -> Cityscapes data configs of DAFormer: the source and both targets
# are Cityscapes frames (2048x1024) resized to 1024x512, random 512x512 crops (cat_max_ratio on the source only),
# horizontal flips; validation on each target's val split at 1024x512, whole image, scored per target.
# Layout: data/cityscapes/leftImg8bit_foggy (the leftImg8bit_trainvaltest_foggy download) and
# data/cityscapes/leftImg8bit_rain (leftImg8bit_trainval_rain) next to leftImg8bit and the converted gtFine.
crop_size = (512, 512)  # (H, W)
source_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),  # *_gtFine_labelTrainIds.png
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
target_train_pipeline = [
    dict(type='LoadImageFromFile'),  # no labels for the targets
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),
    dict(type='LoadAnnotations'),  # scored at full resolution
    dict(type='PackSegInputs'),
]
source_dataset = dict(
    type='CityscapesDataset',
    data_root='data/cityscapes/',
    data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
    pipeline=source_train_pipeline)
# The targets: Foggy Cityscapes at β = 0.02 (the densest fog, as UDA papers use; 2975 train images) and every
# Rain Cityscapes rendering (36 per frame: 9432 train images of 262 frames). They are the same frames as the source
# under fog or rain: the clear frame of each must be in leftImg8bit (clear_img_dir).
foggy_train = dict(
    type='FoggyCityscapesDataset',
    data_root='data/cityscapes/',
    data_prefix=dict(img_path='leftImg8bit_foggy/train'),
    beta=0.02,
    clear_img_dir='leftImg8bit/train')
rain_train = dict(
    type='RainCityscapesDataset',
    data_root='data/cityscapes/',
    data_prefix=dict(img_path='leftImg8bit_rain/train'),
    clear_img_dir='leftImg8bit/train')
# One training set of both targets, drawn uniformly over the union of their images (so about 3 of 4 target images
# are rainy); sampling='balanced' draws each target half of the time instead.
target_dataset = dict(
    type='MultiTargetDataset',
    targets=dict(foggy=foggy_train, rain=rain_train),
    sampling='union',
    pipeline=target_train_pipeline)
# train_dataloader (UDADataset of source_dataset and target_dataset) is defined by the configs.
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='MultiTargetDataset',
        targets=dict(
            foggy=dict(foggy_train, data_prefix=dict(img_path='leftImg8bit_foggy/val', seg_map_path='gtFine/val'),
                       clear_img_dir='leftImg8bit/val'),  # 500 images
            rain=dict(rain_train, data_prefix=dict(img_path='leftImg8bit_rain/val', seg_map_path='gtFine/val'),
                      clear_img_dir='leftImg8bit/val')),  # 1188 images of 33 frames
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# mIoU per target (foggy/mIoU, rain/mIoU, per-class tables) and their mean as mIoU (save_best='mIoU' uses it).
val_evaluator = dict(type='MultiTargetIoUMetric')
test_evaluator = val_evaluator
