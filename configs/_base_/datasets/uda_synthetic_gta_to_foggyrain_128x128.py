# The fog + rain variant of the embedded synthetic pair (`python tools/make_synthetic_data.py`, which renders each
# target image under fog of three β and under one rain setting from the scene's depth): the synthetic GTA source of
# uda_synthetic_gta_to_cityscapes_128x128.py with two targets in the Foggy / Rain Cityscapes layouts, as
# uda_cityscapes_to_foggyrain_512x512.py is for the benchmark: Foggy at β = 0.02 and Rain, one training set
# uniform over their union, validation on each target's val split, scored per target.
_base_ = ['./uda_synthetic_gta_to_cityscapes_128x128.py']
target_train_pipeline = [
    dict(type='LoadImageFromFile'),  # no labels for the targets
    dict(type='RandomCrop', crop_size={{_base_.crop_size}}),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
foggy_train = dict(
    type='FoggyCityscapesDataset',
    data_root='data/synthetic/cityscapes/',
    data_prefix=dict(img_path='leftImg8bit_foggy/train'),
    beta=0.02,
    clear_img_dir='leftImg8bit/train')
rain_train = dict(
    type='RainCityscapesDataset',
    data_root='data/synthetic/cityscapes/',
    data_prefix=dict(img_path='leftImg8bit_rain/train'),
    clear_img_dir='leftImg8bit/train')
target_dataset = dict(
    _delete_=True,
    type='MultiTargetDataset',
    targets=dict(foggy=foggy_train, rain=rain_train),
    sampling='union',
    pipeline=target_train_pipeline)
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='MultiTargetDataset',
        targets=dict(
            foggy=dict(foggy_train, data_prefix=dict(img_path='leftImg8bit_foggy/val', seg_map_path='gtFine/val'),
                       clear_img_dir='leftImg8bit/val'),
            rain=dict(rain_train, data_prefix=dict(img_path='leftImg8bit_rain/val', seg_map_path='gtFine/val'),
                      clear_img_dir='leftImg8bit/val')),
        pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader
val_evaluator = dict(type='MultiTargetIoUMetric')
test_evaluator = val_evaluator
