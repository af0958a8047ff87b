# Poly decay without warm-up (DAFormer's no-warm-up ablation). min_lr=1e-4 is an absolute floor
# of every group, so the backbone lr (6e-5) rises towards 1e-4, as in the reference.
max_iters = 40000
param_scheduler = [
    dict(type='PolyLRWithWarmup', power=1.0, min_lr=1e-4, max_iters=max_iters, by_epoch=False, begin=0,
         end=max_iters)
]
