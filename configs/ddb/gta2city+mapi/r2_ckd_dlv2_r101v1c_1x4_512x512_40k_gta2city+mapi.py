# DDB Round 2, step 2: CKD as in Round 1 (a fresh ImageNet student) from the Round-2 ST students and their prototypes;
# its student is DDB's final model.
# Reference: configs/gta2city+mapi/r2_ckd_dlv2_r101v1c_1x4_512x512_40k_gta2city+mapi.py
# (the DDB pipeline passes the actual checkpoints and prototypes).
# Only Round 1 is released; Round 2 is cloned from configs/gta2city (README numbers are of Round 2).
_base_ = ['r1_ckd_dlv2_r101v1c_1x4_512x512_40k_gta2city+mapi.py']
uda = dict(
    cu_model_load_from='checkpoints/gta2city+mapi_round2/gta2city+mapi_st-cu_dlv2.pth',
    ca_model_load_from='checkpoints/gta2city+mapi_round2/gta2city+mapi_st-ca_dlv2.pth',
    cu_proto_path='prototypes/gta2city+mapi_round2/gta2city+mapi_st-cu_dlv2.pth',
    ca_proto_path='prototypes/gta2city+mapi_round2/gta2city+mapi_st-ca_dlv2.pth')
name = 'r2_ckd_dlv2_r101v1c_1x4_512x512_40k_gta2city+mapi'
