"""Gradient averaging over the processes of a distributed run, for training steps with several backward passes."""
from typing import Iterable

import torch
import torch.distributed as torch_dist
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors


def distributed_world_size() -> int:
    """Number of processes of the default group (1 when not distributed)."""
    return torch_dist.get_world_size() if torch_dist.is_available() and torch_dist.is_initialized() else 1


def average_gradients(parameters: Iterable[torch.nn.Parameter]) -> None:
    """Replace each parameter's gradient by its mean over the processes (no-op with one process).

    A parameter that has a gradient on some process but none on this one takes part with zeros,
    so every process ends with the same gradients and the same optimiser update; a parameter
    without a gradient anywhere keeps none. Gradients go in one flat buffer per dtype (one
    all-reduce each, plus one for the presence flags, whose small result the host reads).
    """
    world_size = distributed_world_size()
    if world_size == 1:
        return
    params = [p for p in parameters if p.requires_grad]
    if not params:
        return
    present = torch.tensor([p.grad is not None for p in params], dtype=torch.float32, device=params[0].device)
    torch_dist.all_reduce(present)
    synced = []
    for param, count in zip(params, present.tolist()):
        if count == 0:
            continue
        if param.grad is None:
            param.grad = torch.zeros_like(param)
        synced.append(param.grad)
    by_dtype = {}
    for grad in synced:
        by_dtype.setdefault(grad.dtype, []).append(grad)
    for grads in by_dtype.values():
        flat = _flatten_dense_tensors(grads)
        torch_dist.all_reduce(flat)
        flat /= world_size
        for grad, reduced in zip(grads, _unflatten_dense_tensors(flat, grads)):
            grad.copy_(reduced)
