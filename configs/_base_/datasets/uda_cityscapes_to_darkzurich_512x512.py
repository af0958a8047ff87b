# Cityscapes -> Dark Zurich with 512x512 crops (DAFormer): the Cityscapes -> ACDC pieces with the
# Dark Zurich target (night images, no train labels; test at 960x540). Reference:
# configs/_base_/datasets/uda_cityscapes_to_darkzurich_512x512.py; spec §8.1, §8.5, §3 (test).
_base_ = ['uda_cityscapes_to_acdc_512x512.py']
target_dataset = dict(
    type='DarkZurichDataset',
    data_root='data/dark_zurich/',
    data_prefix=dict(_delete_=True, img_path='rgb_anon/train/night/'))  # night images only
val_dataloader = dict(dataset=dict(type='DarkZurichDataset', data_root='data/dark_zurich/'))
test_dataloader = val_dataloader
