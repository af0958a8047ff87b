# DDB Round 2, step 1, the coarse region path: ST-cu of Round 1 started from the Round-1 CKD student (student and
# teacher), at a tenth of the learning rate.
# Reference: configs/gta2city+mapi/r2_st_cu_dlv2_r101v1c_1x4_512x512_40k_gta2city+mapi.py
# (its distilled_model_path; the DDB pipeline passes the actual checkpoint).
# Only Round 1 is released; Round 2 is cloned from configs/gta2city (README numbers are of Round 2).
_base_ = ['r1_st_cu_dlv2_r101v1c_1x4_512x512_40k_gta2city+mapi.py']
uda = dict(distilled_model_path='checkpoints/gta2city+mapi_round1/gta2city+mapi_ckd-pro_dlv2.pth')
optim_wrapper = dict(optimizer=dict(lr=6e-06))
name = 'r2_st_cu_dlv2_r101v1c_1x4_512x512_40k_gta2city+mapi'
