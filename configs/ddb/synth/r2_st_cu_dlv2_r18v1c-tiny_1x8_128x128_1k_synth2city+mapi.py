# DDB on the embedded synthetic pair, Round 2, step 1, the coarse region path: ST-cu of Round 1 started from the
# Round-1 CKD student at a tenth of the learning rate (the reference's 6e-5 -> 6e-6).
_base_ = ['r1_st_cu_dlv2_r18v1c-tiny_1x8_128x128_1k_synth2city+mapi.py']
# the reference's hand-over folder; the pipeline passes its own checkpoint
uda = dict(distilled_model_path='checkpoints/synth2city+mapi_round1/synth2city+mapi_ckd-pro_dlv2.pth')
optim_wrapper = dict(optimizer=dict(lr=6e-05))
name = 'r2_st_cu_dlv2_r18v1c-tiny_1x8_128x128_1k_synth2city+mapi'
