# Poly decay (power 1, to 0) with a 1500-iteration linear warm-up that multiplies the already
# decaying poly value (spec §9, §13.11). Reference: configs/_base_/schedules/poly10warm.py.
max_iters = 40000
param_scheduler = [
    dict(type='PolyLRWithWarmup', power=1.0, min_lr=0.0, max_iters=max_iters, warmup='linear',
         warmup_iters=1500, warmup_ratio=1e-6, by_epoch=False, begin=0, end=max_iters)
]
