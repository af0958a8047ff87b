"""The reference learning-rate schedule: mmcv 1.3.7 poly with ``min_lr`` and linear warm-up (spec §9, §13.11).

mmengine's own ``PolyLR`` is chainable (each value derived from the previous one) and has no
warm-up that multiplies the decaying value, so it cannot give the reference numbers; this
scheduler evaluates mmcv's closed form from each group's initial lr instead.
"""
from typing import Optional, Union

from mmengine.optim import BaseOptimWrapper
from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler
from torch.optim import Optimizer

from mmseg.registry import PARAM_SCHEDULERS


def poly_lr(base_lr: float, t: int, max_iters: int, power: float = 1.0, min_lr: float = 0.0,
            warmup: Optional[str] = None, warmup_iters: int = 0, warmup_ratio: float = 0.1) -> float:
    """mmcv 1.3.7 ``PolyLrUpdaterHook`` lr of iteration ``t`` (0-based, ``by_epoch=False``).

    ``(base_lr - min_lr)·(1 - t/max_iters)^power + min_lr``, so ``min_lr`` is an absolute floor
    (a group whose base is below it rises towards it). With ``warmup='linear'`` and
    ``t < warmup_iters`` that value is multiplied by ``1 - (1 - t/warmup_iters)·(1 - warmup_ratio)``.
    """
    coeff = (1 - t / max_iters)**power
    lr = (base_lr - min_lr) * coeff + min_lr
    if warmup is None or t >= warmup_iters:
        return lr
    k = (1 - t / warmup_iters) * (1 - warmup_ratio)
    return lr * (1 - k)


@PARAM_SCHEDULERS.register_module()
class PolyLRWithWarmup(_ParamScheduler):
    """Reference poly lr with an optional linear warm-up, for every parameter group.

    The value for step ``t`` (``t = last_step``, i.e. the runner iteration when ``begin=0``) is
    :func:`poly_lr` of the group's initial lr, so every group keeps its own base (head ×10) and
    ``min_lr`` is the same absolute floor for all of them.

    Args:
        optimizer: wrapped optimizer or optimizer.
        power: poly power.
        min_lr: absolute lr floor (mmcv ``min_lr``).
        max_iters: T of the poly term; defaults to ``end - begin``.
        warmup: ``'linear'`` or None.
        warmup_iters: warm-up length.
        warmup_ratio: warm-up start factor.
        begin, end, last_step, by_epoch, verbose: as in mmengine's schedulers.
    """

    def __init__(self, optimizer: Union[Optimizer, BaseOptimWrapper], power: float = 1.0, min_lr: float = 0.0,
                 max_iters: Optional[int] = None, warmup: Optional[str] = None, warmup_iters: int = 0,
                 warmup_ratio: float = 0.1, begin: int = 0, end: int = INF, last_step: int = -1,
                 by_epoch: bool = False, verbose: bool = False):
        if warmup not in (None, 'linear'):
            raise ValueError(f'warmup must be None or "linear", got {warmup!r}')
        if warmup is not None and warmup_iters <= 0:
            raise ValueError(f'a linear warm-up needs warmup_iters > 0, got {warmup_iters}')
        if max_iters is None:
            if end == INF:
                raise ValueError('PolyLRWithWarmup needs max_iters or a finite end')
            max_iters = end - begin
        self.power = power
        self.min_lr = min_lr
        self.max_iters = max_iters
        self.warmup = warmup
        self.warmup_iters = warmup_iters
        self.warmup_ratio = warmup_ratio
        super().__init__(optimizer, 'lr', begin=begin, end=end, last_step=last_step, by_epoch=by_epoch,
                         verbose=verbose)

    def _get_value(self):
        return [
            poly_lr(base, self.last_step, self.max_iters, self.power, self.min_lr, self.warmup, self.warmup_iters,
                    self.warmup_ratio) for base in self.base_values
        ]
