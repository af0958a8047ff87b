# SGD of the reference (configs/_base_/schedules/sgd.py): lr 0.01, momentum 0.9, weight decay 5e-4 on every
# parameter. The AdvSeg / MinEnt experiments (HRDA 41, MIC 81) set lr 0.0025 and no head multiplier; the
# schedule (poly10warm) comes from its own file.
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='ReferenceOptimWrapperConstructor',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0005),
    paramwise_cfg=dict(custom_keys=dict()))
