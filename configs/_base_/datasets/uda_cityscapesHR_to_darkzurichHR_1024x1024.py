# Cityscapes -> Dark Zurich at high resolution with 1024x1024 crops (HRDA, MIC): the Cityscapes-HR ->
# ACDC-HR pieces with the Dark Zurich target (night images at their native 1920x1080, no train labels;
# test at (1920, 1080)). Reference: configs/_base_/datasets/uda_cityscapesHR_to_darkzurichHR_1024x1024.py
# (HRDA); spec §8.1, §8.5, §3 (test). No pseudo-label margins (plcrop False, spec §5.4, §10.2).
_base_ = ['uda_cityscapesHR_to_acdcHR_1024x1024.py']
target_dataset = dict(
    type='DarkZurichDataset',
    data_root='data/dark_zurich/',
    data_prefix=dict(_delete_=True, img_path='rgb_anon/train/night/'))  # night images only
val_dataloader = dict(dataset=dict(type='DarkZurichDataset', data_root='data/dark_zurich/'))
test_dataloader = val_dataloader
