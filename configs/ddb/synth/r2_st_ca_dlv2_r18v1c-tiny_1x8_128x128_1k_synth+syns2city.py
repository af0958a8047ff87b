# DDB on the embedded synthetic pair, multi-source, Round 2, ST-ca: the synth2city config with the synthetic GTA and
# Synscapes styles concatenated as the source.
_base_ = [
    'r2_st_ca_dlv2_r18v1c-tiny_1x8_128x128_1k_synth2city.py',
    '../../_base_/datasets/synthetic_synscapes_128x128.py',
]
train_dataloader = dict(
    dataset=dict(
        source=dict(
            _delete_=True,
            type='ConcatDataset',
            datasets=[{{_base_.source_dataset}}, {{_base_.synscapes_dataset}}])))
uda = dict(distilled_model_path='checkpoints/synth+syns2city_round1/synth+syns2city_ckd-pro_dlv2.pth')
name = 'r2_st_ca_dlv2_r18v1c-tiny_1x8_128x128_1k_synth+syns2city'
