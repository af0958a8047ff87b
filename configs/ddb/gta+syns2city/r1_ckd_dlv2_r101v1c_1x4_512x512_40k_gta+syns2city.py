# DDB Round 1, step 2, multi-source: the gta2city r1_ckd config with GTA and Synscapes (both with
# PhotoMetricDistortion) concatenated as the source.
# Reference: configs/gta+syns2city/r1_ckd_dlv2_r101v1c_1x4_512x512_40k_gta+syns2city.py
# The reference leaves the teacher and prototype paths empty (""); here they follow the gta2city scheme. The DDB
# pipeline (configs/ddb/gtasyns2cs_ddb.py) passes the files it made.
_base_ = [
    '../gta2city/r1_ckd_dlv2_r101v1c_1x4_512x512_40k_gta2city.py',
    '../../_base_/datasets/synscapes_512x512.py',
]
train_dataloader = dict(
    dataset=dict(
        source=dict(
            _delete_=True,
            type='ConcatDataset',
            datasets=[{{_base_.source_dataset}}, {{_base_.synscapes_dataset_caug}}])))
uda = dict(
    cu_model_load_from='checkpoints/gta+syns2city_round1/gta+syns2city_st-cu_dlv2.pth',
    ca_model_load_from='checkpoints/gta+syns2city_round1/gta+syns2city_st-ca_dlv2.pth',
    cu_proto_path='prototypes/gta+syns2city_round1/gta+syns2city_st-cu_dlv2.pth',
    ca_proto_path='prototypes/gta+syns2city_round1/gta+syns2city_st-ca_dlv2.pth')
name = 'r1_ckd_dlv2_r101v1c_1x4_512x512_40k_gta+syns2city'
