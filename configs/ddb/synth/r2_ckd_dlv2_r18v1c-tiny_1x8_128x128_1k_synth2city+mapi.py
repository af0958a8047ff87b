# DDB on the embedded synthetic pair, Round 2, step 2: CKD from the Round-2 ST students (the final model).
_base_ = ['r1_ckd_dlv2_r18v1c-tiny_1x8_128x128_1k_synth2city+mapi.py']
uda = dict(
    cu_model_load_from='checkpoints/synth2city+mapi_round2/synth2city+mapi_st-cu_dlv2.pth',
    ca_model_load_from='checkpoints/synth2city+mapi_round2/synth2city+mapi_st-ca_dlv2.pth',
    cu_proto_path='prototypes/synth2city+mapi_round2/synth2city+mapi_st-cu_dlv2.pth',
    ca_proto_path='prototypes/synth2city+mapi_round2/synth2city+mapi_st-ca_dlv2.pth')
name = 'r2_ckd_dlv2_r18v1c-tiny_1x8_128x128_1k_synth2city+mapi'
