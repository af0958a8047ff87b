# DDB Round 2, step 2, multi-target: the gta2city r2_ckd config with Cityscapes and Mapillary concatenated as
# the target (the prototypes of each teacher are computed over both), each evaluated on its own validation set.
# Reference: configs/gta2city+mapi/r2_ckd_dlv2_r101v1c_1x4_512x512_40k_gta2city+mapi.py
# Only Round 1 is released; Round 2 is cloned from configs/gta2city (README numbers are of Round 2).
_base_ = [
    '../gta2city/r2_ckd_dlv2_r101v1c_1x4_512x512_40k_gta2city.py',
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
uda = dict(
    cu_model_load_from='checkpoints/gta2city+mapi_round2/gta2city+mapi_st-cu_dlv2.pth',
    ca_model_load_from='checkpoints/gta2city+mapi_round2/gta2city+mapi_st-ca_dlv2.pth',
    cu_proto_path='prototypes/gta2city+mapi_round2/gta2city+mapi_st-cu_dlv2.pth',
    ca_proto_path='prototypes/gta2city+mapi_round2/gta2city+mapi_st-ca_dlv2.pth')
name = 'r2_ckd_dlv2_r101v1c_1x4_512x512_40k_gta2city+mapi'
