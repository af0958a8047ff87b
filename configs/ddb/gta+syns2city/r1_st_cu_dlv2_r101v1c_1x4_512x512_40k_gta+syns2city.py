# DDB Round 1, step 1, the coarse region path, multi-source: the gta2city r1_st_cu config with GTA and
# Synscapes concatenated as the source (a uniform draw over both: about half of the crops from each).
# Reference: configs/gta+syns2city/r1_st_cu_dlv2_r101v1c_1x4_512x512_40k_gta+syns2city.py
_base_ = [
    '../gta2city/r1_st_cu_dlv2_r101v1c_1x4_512x512_40k_gta2city.py',
    '../../_base_/datasets/synscapes_512x512.py',
]
train_dataloader = dict(
    dataset=dict(
        source=dict(
            _delete_=True,
            type='ConcatDataset',
            datasets=[{{_base_.source_dataset}}, {{_base_.synscapes_dataset}}])))
name = 'r1_st_cu_dlv2_r101v1c_1x4_512x512_40k_gta+syns2city'
