# DDB Round 1 ST-ca on 2 GPUs x batch 2 (the reference's DDP variant; torchrun, e.g. `run_experiments.py --config <this>
# --gpus 2`), with SyncBN as the reference.
# Reference: configs/gta2city/r1_st_ca_dlv2_r101v1c_2x2_512x512_40k_gta2city.py.
_base_ = ['r1_st_ca_dlv2_r101v1c_1x4_512x512_40k_gta2city.py']
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(backbone=dict(norm_cfg=norm_cfg), decode_head=dict(norm_cfg=norm_cfg))
train_dataloader = dict(batch_size=2)
name = 'r1_st_ca_dlv2_r101v1c_2x2_512x512_40k_gta2city'
