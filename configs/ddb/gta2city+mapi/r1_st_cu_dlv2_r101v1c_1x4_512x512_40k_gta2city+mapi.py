# DDB Round 1, step 1, the coarse region path, multi-target: the gta2city r1_st_cu config with Cityscapes and
# Mapillary concatenated as the target (a uniform draw over both: Mapillary, about 18k images, about 6 times as often
# as Cityscapes' 2975), each evaluated on its own validation set (Mapillary at half resolution).
# Reference: configs/gta2city+mapi/r1_st_cu_dlv2_r101v1c_1x4_512x512_40k_gta2city+mapi.py
_base_ = [
    '../gta2city/r1_st_cu_dlv2_r101v1c_1x4_512x512_40k_gta2city.py',
    '../../_base_/datasets/mapillary_512x512.py',
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
name = 'r1_st_cu_dlv2_r101v1c_1x4_512x512_40k_gta2city+mapi'
