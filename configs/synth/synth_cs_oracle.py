# Embedded synthetic benchmark: target-only (oracle) model, trained on the labelled synthetic Cityscapes
# train split with the same model, schedule and batch size: the upper bound of adaptation.
_base_ = [
    '../_base_/synth_runtime.py',
    '../_base_/models/daformer_conv1_mit_tiny.py',
    '../_base_/datasets/uda_synthetic_gta_to_cityscapes_128x128.py',
    '../_base_/schedules/synth_adamw_2k.py',
]
randomness = dict(seed=0)
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset={{_base_.target_dataset}})
name = 'synth_cs_oracle'
exp = 'synth'
