"""mmengine's ``RuntimeInfoHook`` without a host synchronisation per training iteration.

The stock hook turns every logged value (loss, accuracy, pseudo-label share) into a Python float
right after the iteration, so the host waits for the GPU every iteration. This hook keeps the
values on the device and hands them to the message hub together every ``interval`` iterations
(one copy), before validation and at the end of training. The logged numbers are the same; they
only reach the message hub later (a checkpoint written between two flushes lacks the pending
values in its log history).
"""
from typing import Dict, List, Optional

import torch
from mmengine.hooks import LoggerHook, RuntimeInfoHook

from mmseg.registry import HOOKS


@HOOKS.register_module()
class DeferredRuntimeInfoHook(RuntimeInfoHook):
    """Args: ``interval``, iterations between flushes (None: the LoggerHook's interval)."""

    def __init__(self, interval: Optional[int] = None):
        if interval is not None and interval < 1:
            raise ValueError(f'DeferredRuntimeInfoHook interval={interval}; expected >= 1 or None')
        self.interval = interval
        self._pending: List[Dict[str, object]] = []

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if self.interval is None:
            loggers = [hook for hook in runner.hooks if isinstance(hook, LoggerHook)]
            self.interval = loggers[0].interval if loggers else 1

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs: Optional[dict] = None) -> None:
        if outputs is not None:
            self._pending.append({k: v.detach() if torch.is_tensor(v) else v for k, v in outputs.items()})
        if self.every_n_train_iters(runner, self.interval) or self.is_last_train_iter(runner):
            self.flush(runner)

    def before_val(self, runner) -> None:
        self.flush(runner)
        super().before_val(runner)

    def flush(self, runner) -> None:
        """Copy the pending values to the host at once and record them, oldest first."""
        if not self._pending:
            return
        tensors = [v.float().mean() for record in self._pending for v in record.values() if torch.is_tensor(v)]
        host = iter(torch.stack(tensors).cpu().tolist()) if tensors else iter(())
        for record in self._pending:
            for key, value in record.items():
                runner.message_hub.update_scalar(f'train/{key}', next(host) if torch.is_tensor(value) else value)
        self._pending = []
