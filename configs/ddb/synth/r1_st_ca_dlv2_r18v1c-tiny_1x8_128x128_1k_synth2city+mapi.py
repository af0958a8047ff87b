# DDB on the embedded synthetic pair, multi-target, Round 1, ST-ca: the synth2city config with the synthetic Cityscapes
# and Mapillary styles concatenated as the target, each evaluated on its own validation set.
_base_ = [
    'r1_st_ca_dlv2_r18v1c-tiny_1x8_128x128_1k_synth2city.py',
    '../../_base_/datasets/synthetic_mapillary_128x128.py',
]
train_dataloader = dict(
    dataset=dict(
        target=dict(
            _delete_=True,
            type='MultiTargetDataset',
            targets=dict(cityscapes={{_base_.target_dataset}}, mapillary={{_base_.mapillary_train_dataset}}),
            sampling='union')))
_multi_target_val = dict(
    type='MultiTargetDataset',
    targets=dict(cityscapes={{_base_.val_dataloader.dataset}}, mapillary={{_base_.mapillary_val_dataset}}))
val_dataloader = dict(dataset=dict(_multi_target_val, _delete_=True))
test_dataloader = dict(dataset=dict(_multi_target_val, _delete_=True))
val_evaluator = dict(type='MultiTargetIoUMetric')  # mIoU per target (<target>/mIoU) and their mean
test_evaluator = dict(type='MultiTargetIoUMetric')
name = 'r1_st_ca_dlv2_r18v1c-tiny_1x8_128x128_1k_synth2city+mapi'
