# DDB Round 1, step 2, multi-target: the gta2city r1_ckd config with Cityscapes and Mapillary concatenated as
# the target (the prototypes of each teacher are computed over both), each evaluated on its own validation set.
# Reference: configs/gta2city+mapi/r1_ckd_dlv2_r101v1c_1x4_512x512_40k_gta2city+mapi.py
# The reference leaves the teacher and prototype paths empty (""); here they follow the gta2city scheme. The DDB
# pipeline (configs/ddb/gta2csmapi_ddb.py) passes the files it made.
_base_ = [
    '../gta2city/r1_ckd_dlv2_r101v1c_1x4_512x512_40k_gta2city.py',
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
    cu_model_load_from='checkpoints/gta2city+mapi_round1/gta2city+mapi_st-cu_dlv2.pth',
    ca_model_load_from='checkpoints/gta2city+mapi_round1/gta2city+mapi_st-ca_dlv2.pth',
    cu_proto_path='prototypes/gta2city+mapi_round1/gta2city+mapi_st-cu_dlv2.pth',
    ca_proto_path='prototypes/gta2city+mapi_round1/gta2city+mapi_st-ca_dlv2.pth')
name = 'r1_ckd_dlv2_r101v1c_1x4_512x512_40k_gta2city+mapi'
