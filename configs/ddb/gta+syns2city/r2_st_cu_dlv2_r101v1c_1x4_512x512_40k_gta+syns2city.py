# DDB Round 2, step 1, the coarse region path, multi-source: the gta2city r2_st_cu config with GTA and
# Synscapes concatenated as the source (a uniform draw over both: about half of the crops from each).
# Reference: configs/gta+syns2city/r2_st_cu_dlv2_r101v1c_1x4_512x512_40k_gta+syns2city.py
# Only Round 1 is released; Round 2 is cloned from configs/gta2city (README numbers are of Round 2).
_base_ = [
    '../gta2city/r2_st_cu_dlv2_r101v1c_1x4_512x512_40k_gta2city.py',
    '../../_base_/datasets/synscapes_512x512.py',
]
train_dataloader = dict(
    dataset=dict(
        source=dict(
            _delete_=True,
            type='ConcatDataset',
            datasets=[{{_base_.source_dataset}}, {{_base_.synscapes_dataset}}])))
uda = dict(distilled_model_path='checkpoints/gta+syns2city_round1/gta+syns2city_ckd-pro_dlv2.pth')
name = 'r2_st_cu_dlv2_r101v1c_1x4_512x512_40k_gta+syns2city'
