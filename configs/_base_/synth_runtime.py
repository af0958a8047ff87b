# Runtime of the embedded synthetic benchmark: the shared runtime with a log line every 100 iterations,
# one checkpoint at the end of the 2000 iterations, and no cuDNN autotuning (CPU).
_base_ = ['default_runtime.py']
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=100, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=2000, max_keep_ckpts=1))
env_cfg = dict(cudnn_benchmark=False)
auto_scale_lr = dict(enable=False, base_batch_size=8)  # the synthetic benchmark's batch (linear scaling off)
