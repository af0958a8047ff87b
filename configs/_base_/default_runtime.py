# Runtime shared by all experiments: registry scope, hooks, logging, seeds.
default_scope = 'mmseg'
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))
default_hooks = dict(
    # log values stay on the device and reach the host once per log interval (no sync per iteration)
    runtime_info=dict(type='DeferredRuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),  # the reference logs every 50 iters
    param_scheduler=dict(type='ParamSchedulerHook'),
    # mmseg's CheckpointHook: atomic files, rotation after the new file and last_checkpoint are written
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=40000, max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'))
# Exact resume: the UDA iteration counter (teacher state) and RNG states travel with checkpoints.
# reference_resume=True re-initialises the teacher on resume, as the reference does.
custom_hooks = [
    dict(type='TrainingStateHook', reference_resume=False),
    # the NaN guard: stop on a NaN/inf loss, naming its iteration; the flags are read on the host every 50
    # iterations, on every iteration that saves and on the last one, and each checkpoint's tensors are checked
    # before it is written
    dict(type='InvalidLossHook', interval=50),
]
log_processor = dict(by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)
# With N processes (torchrun) the batch of the config is per process. enable=True scales the learning rate
# linearly by N x batch / base_batch_size (the reference trains batch 2 on one GPU); off by default.
auto_scale_lr = dict(enable=False, base_batch_size=2)
