"""The NaN guard: stop on a non-finite loss, and never write a checkpoint that holds a non-finite tensor."""
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import torch
from mmengine.hooks import Hook

from mmseg.registry import HOOKS
from .checkpoint_hook import checkpoint_due


def floating_tensors(value, prefix: str = '') -> Iterator[Tuple[str, torch.Tensor]]:
    """(dotted key, tensor) of every floating-point tensor in nested dicts / lists / tuples."""
    if isinstance(value, torch.Tensor):
        if value.is_floating_point() or value.is_complex():
            yield prefix, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from floating_tensors(item, f'{prefix}.{key}' if prefix else str(key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from floating_tensors(item, f'{prefix}.{index}' if prefix else str(index))


def all_finite(tensors: Sequence[torch.Tensor]) -> bool:
    """Whether every tensor is finite: the flags are combined per device, one host synchronisation per device."""
    by_device: Dict[torch.device, List[torch.Tensor]] = {}
    for tensor in tensors:
        by_device.setdefault(tensor.device, []).append(torch.isfinite(tensor).all())
    return all(bool(torch.stack(flags).all()) for flags in by_device.values())


@HOOKS.register_module()
class InvalidLossHook(Hook):
    """Raise on a NaN / infinite loss naming its iteration and value, and before saving a non-finite tensor.

    Each iteration's finiteness flag stays on the device; the flags are read on the host (one
    synchronisation) every ``interval`` iterations, after every iteration on which a CheckpointHook
    saves, and after the last iteration, so no checkpoint follows an unchecked loss whatever the
    intervals. The error names the first non-finite iteration of the window, its non-finite losses, and
    the last checkpoint this process wrote. Before each save every floating-point tensor of the
    checkpoint (student, teacher, optimiser state) is checked as well; a non-finite one stops the run
    without writing the file. The hook runs before the CheckpointHook of the same iteration.

    ``ignore_keys``: values that may be NaN by design. By default the ImageNet feature distance,
    which the reference logs as NaN when a batch has no thing-class cell (its gradient is then
    zero); a NaN that did reach the weights shows in the other losses one iteration later.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self, interval: int = 1, ignore_keys: Sequence[str] = ('src.loss_imnet_feat_dist', )):
        if not isinstance(interval, int) or isinstance(interval, bool) or interval < 1:
            raise ValueError(f'InvalidLossHook interval={interval!r}; expected an integer >= 1')
        self.interval = interval
        self.ignore_keys = set(ignore_keys)
        self._window: List[Tuple[int, torch.Tensor, Dict[str, torch.Tensor]]] = []
        self._last_saved: Optional[str] = None

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs: Optional[dict] = None) -> None:
        losses = {k: v.detach() for k, v in (outputs or {}).items()
                  if 'loss' in k and k not in self.ignore_keys and torch.is_tensor(v)}
        if losses:
            finite = torch.stack([torch.isfinite(v).all() for v in losses.values()]).all()
            self._window.append((runner.iter + 1, finite, losses))
        due = (self.every_n_train_iters(runner, self.interval) or checkpoint_due(runner)
               or self.is_last_train_iter(runner))
        if not (due and self._window):
            return
        window, self._window = self._window, []
        flags = torch.stack([finite.to(window[0][1].device) for _, finite, _ in window]).cpu()
        if bool(flags.all()):
            return
        iteration, _, losses = window[int((~flags).nonzero()[0])]
        bad = ', '.join(f'{k}={float(v.float().mean())}' for k, v in losses.items()
                        if not bool(torch.isfinite(v).all()))
        raise RuntimeError(f'Non-finite loss in iteration {iteration}: {bad}; training stopped. {self._saved_note()}')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        named = list(floating_tensors({k: v for k, v in checkpoint.items() if k != 'message_hub'}))
        iteration = checkpoint.get('meta', {}).get('iter', runner.iter + 1)
        if not all_finite([tensor for _, tensor in named]):
            bad = [name for name, tensor in named if not bool(torch.isfinite(tensor).all())]
            raise RuntimeError(f'Non-finite values in {len(bad)} tensor(s) of the checkpoint of iteration {iteration} '
                               f'(e.g. {", ".join(bad[:3])}); training stopped without writing it. '
                               f'{self._saved_note()}')
        last = runner.message_hub.get_info('last_ckpt')
        self._last_saved = f'{last} (iteration {iteration})' if last else f'the checkpoint of iteration {iteration}'

    def _saved_note(self) -> str:
        if self._last_saved is None:
            return 'This process wrote no checkpoint.'
        return f'The last checkpoint written is {self._last_saved}; all its tensors are finite.'
