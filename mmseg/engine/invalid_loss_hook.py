"""Stop training on a NaN or infinite loss before anything (a checkpoint) is written from it."""
from typing import Dict, Optional, Sequence

import torch
from mmengine.hooks import Hook

from mmseg.registry import HOOKS


@HOOKS.register_module()
class InvalidLossHook(Hook):
    """Check the loss values every ``interval`` iterations; raise naming the iteration(s) and the loss.

    The finiteness flags are combined on the device and read on the host once per ``interval``
    iterations (one synchronisation per check). It runs before the CheckpointHook of the same
    iteration, so with ``interval=1`` (default), or a checkpoint interval that is a multiple of it,
    no checkpoint is written after a non-finite loss.

    ``ignore_keys``: values that may be NaN by design. By default the ImageNet feature distance,
    which the reference logs as NaN when a batch has no thing-class cell (its gradient is then
    zero); a NaN that did reach the weights shows in the other losses one iteration later.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, interval: int = 1, ignore_keys: Sequence[str] = ('src.loss_imnet_feat_dist', )):
        if interval < 1:
            raise ValueError(f'InvalidLossHook interval={interval}; expected >= 1')
        self.interval = interval
        self.ignore_keys = set(ignore_keys)
        self._window_finite: Optional[torch.Tensor] = None
        self._last_losses: Dict[str, torch.Tensor] = {}

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs: Optional[dict] = None) -> None:
        losses = {k: v.detach() for k, v in (outputs or {}).items()
                  if 'loss' in k and k not in self.ignore_keys and torch.is_tensor(v)}
        if losses:
            finite = torch.stack([torch.isfinite(v).all() for v in losses.values()]).all()
            self._window_finite = finite if self._window_finite is None else self._window_finite & finite
            self._last_losses = losses
        if self._window_finite is None or not self.every_n_train_iters(runner, self.interval):
            return
        if not bool(self._window_finite):
            end = runner.iter + 1
            where = f'iteration {end}' if self.interval == 1 else f'iterations {end - self.interval + 1}-{end}'
            bad = [f'{k}={float(v.float().mean())}' for k, v in self._last_losses.items()
                   if not bool(torch.isfinite(v).all())]
            raise RuntimeError(f'Non-finite loss in {where}: {", ".join(bad) or "an earlier iteration of the window"}; '
                               'training stopped before writing a checkpoint')
        self._window_finite = None
