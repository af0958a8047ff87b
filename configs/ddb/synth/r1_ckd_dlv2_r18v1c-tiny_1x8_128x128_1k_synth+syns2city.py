# DDB on the embedded synthetic pair, multi-source, Round 1, CKD: the synth2city config with the synthetic GTA and
# Synscapes styles concatenated as the source (with PhotoMetricDistortion, the CKD source).
_base_ = [
    'r1_ckd_dlv2_r18v1c-tiny_1x8_128x128_1k_synth2city.py',
    '../../_base_/datasets/synthetic_synscapes_128x128.py',
]
train_dataloader = dict(
    dataset=dict(
        source=dict(
            _delete_=True,
            type='ConcatDataset',
            datasets=[{{_base_.source_dataset}}, {{_base_.synscapes_dataset_caug}}])))
uda = dict(
    cu_model_load_from='checkpoints/synth+syns2city_round1/synth+syns2city_st-cu_dlv2.pth',
    ca_model_load_from='checkpoints/synth+syns2city_round1/synth+syns2city_st-ca_dlv2.pth',
    cu_proto_path='prototypes/synth+syns2city_round1/synth+syns2city_st-cu_dlv2.pth',
    ca_proto_path='prototypes/synth+syns2city_round1/synth+syns2city_st-ca_dlv2.pth')
name = 'r1_ckd_dlv2_r18v1c-tiny_1x8_128x128_1k_synth+syns2city'
