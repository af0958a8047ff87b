# Training schedule of the embedded synthetic benchmark (CPU, minutes): AdamW 6e-4 for a model trained
# from scratch (no head multiplier: there is no pretrained encoder to protect), linear warm-up of 100
# iterations times poly decay, 2000 iterations of batch 8, one evaluation at the end (checkpointing: configs/_base_/synth_runtime.py).
max_iters = 2000
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='ReferenceOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=6e-4, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(custom_keys=dict(pos_block=dict(decay_mult=0.0), norm=dict(decay_mult=0.0))))
param_scheduler = [
    dict(type='PolyLRWithWarmup', power=1.0, min_lr=0.0, max_iters=max_iters, warmup='linear',
         warmup_iters=100, warmup_ratio=1e-6, by_epoch=False, begin=0, end=max_iters)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
