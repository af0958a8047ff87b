# DDB Round 2, step 2, multi-source: the gta2city r2_ckd config with GTA and Synscapes (both with
# PhotoMetricDistortion) concatenated as the source.
# Reference: configs/gta+syns2city/r2_ckd_dlv2_r101v1c_1x4_512x512_40k_gta+syns2city.py
# Only Round 1 is released; Round 2 is cloned from configs/gta2city (README numbers are of Round 2).
_base_ = [
    '../gta2city/r2_ckd_dlv2_r101v1c_1x4_512x512_40k_gta2city.py',
    '../../_base_/datasets/synscapes_512x512.py',
]
train_dataloader = dict(
    dataset=dict(
        source=dict(
            _delete_=True,
            type='ConcatDataset',
            datasets=[{{_base_.source_dataset}}, {{_base_.synscapes_dataset_caug}}])))
uda = dict(
    cu_model_load_from='checkpoints/gta+syns2city_round2/gta+syns2city_st-cu_dlv2.pth',
    ca_model_load_from='checkpoints/gta+syns2city_round2/gta+syns2city_st-ca_dlv2.pth',
    cu_proto_path='prototypes/gta+syns2city_round2/gta+syns2city_st-cu_dlv2.pth',
    ca_proto_path='prototypes/gta+syns2city_round2/gta+syns2city_st-ca_dlv2.pth')
name = 'r2_ckd_dlv2_r101v1c_1x4_512x512_40k_gta+syns2city'
