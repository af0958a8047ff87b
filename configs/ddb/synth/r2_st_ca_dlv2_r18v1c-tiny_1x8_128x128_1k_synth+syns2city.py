# DDB on the embedded synthetic pair, Round 2, step 1, the fine class path: Round-2 ST-cu with ClassMix bridges.
_base_ = ['r2_st_cu_dlv2_r18v1c-tiny_1x8_128x128_1k_synth+syns2city.py']
train_dataloader = dict(dataset=dict(mode='class'))
name = 'r2_st_ca_dlv2_r18v1c-tiny_1x8_128x128_1k_synth+syns2city'
