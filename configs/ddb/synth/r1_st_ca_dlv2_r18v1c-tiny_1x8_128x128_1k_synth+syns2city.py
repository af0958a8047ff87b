# DDB on the embedded synthetic pair, multi-source, Round 1, ST-ca: the synth2city config with the synthetic GTA and
# Synscapes styles concatenated as the source.
_base_ = [
    'r1_st_ca_dlv2_r18v1c-tiny_1x8_128x128_1k_synth2city.py',
    '../../_base_/datasets/synthetic_synscapes_128x128.py',
]
train_dataloader = dict(
    dataset=dict(
        source=dict(
            _delete_=True,
            type='ConcatDataset',
            datasets=[{{_base_.source_dataset}}, {{_base_.synscapes_dataset}}])))
name = 'r1_st_ca_dlv2_r18v1c-tiny_1x8_128x128_1k_synth+syns2city'
