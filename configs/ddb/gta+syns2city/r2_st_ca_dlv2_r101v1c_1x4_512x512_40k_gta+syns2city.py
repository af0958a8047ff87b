# DDB Round 2, step 1, the fine class path: Round-2 ST-cu with cross-domain ClassMix bridges (half of the
# classes of each source crop, 255 included, pasted onto the target crop).
# Reference: configs/gta+syns2city/r2_st_ca_dlv2_r101v1c_1x4_512x512_40k_gta+syns2city.py.
_base_ = ['r2_st_cu_dlv2_r101v1c_1x4_512x512_40k_gta+syns2city.py']
train_dataloader = dict(dataset=dict(mode='class'))
name = 'r2_st_ca_dlv2_r101v1c_1x4_512x512_40k_gta+syns2city'
