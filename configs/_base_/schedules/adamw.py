# AdamW of DAFormer (reference configs/_base_/schedules/adamw.py). Decoupled weight decay, eps 1e-8.
# The constructor applies the reference paramwise_cfg rule (first substring match of the keys
# sorted by length wins); the experiment configs set custom_keys (head: lr x10, norm: no decay).
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='ReferenceOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=6e-05, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(custom_keys=dict()))
