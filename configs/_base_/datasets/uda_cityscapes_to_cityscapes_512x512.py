# Cityscapes -> Cityscapes with 512x512 crops: supervised Cityscapes training in the UDA framework (MIC
# experiment 85, `dacs_srconly` with masked image consistency on the source). The GTA -> Cityscapes data
# (uda_gta_to_cityscapes_512x512.py) with the labelled Cityscapes train split as the source, at the DAFormer
# resolution (1024, 512) as the target and the validation; the target is loaded but not trained on.
_base_ = ['uda_gta_to_cityscapes_512x512.py']
crop_size = (512, 512)  # (H, W)
source_train_pipeline = [
    dict(type='LoadImageFromFile'),  # OpenCV, BGR uint8
    dict(type='LoadAnnotations'),  # *_gtFine_labelTrainIds.png, unchanged uint8
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),  # 2048x1024 -> 1024x512
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),  # up to 10 re-draws
    dict(type='RandomFlip', prob=0.5),  # horizontal
    dict(type='PackSegInputs'),
]
source_dataset = dict(
    _delete_=True,
    type='CityscapesDataset',
    data_root='data/cityscapes/',
    data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
    pipeline=source_train_pipeline)
