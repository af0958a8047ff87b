# DDB on the embedded synthetic pair, Round 1, step 1, the fine class path: ST-cu with ClassMix bridges.
_base_ = ['r1_st_cu_dlv2_r18v1c-tiny_1x8_128x128_1k_synth2city+mapi.py']
train_dataloader = dict(dataset=dict(mode='class'))
name = 'r1_st_ca_dlv2_r18v1c-tiny_1x8_128x128_1k_synth2city+mapi'
