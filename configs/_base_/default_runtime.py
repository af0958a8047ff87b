# Runtime shared by all experiments: registry scope, hooks, logging, seeds.
default_scope = 'mmseg'
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),  # the reference logs every 50 iters
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=40000, max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'))
# Exact resume: the UDA iteration counter (teacher state) and RNG states travel with checkpoints.
# reference_resume=True re-initialises the teacher on resume, as the reference does.
custom_hooks = [
    dict(type='TrainingStateHook', reference_resume=False),
    dict(type='InvalidLossHook', interval=1),  # stop on a NaN/inf loss, naming it, before a checkpoint is written
]
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)
