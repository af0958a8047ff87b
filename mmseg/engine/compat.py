"""The one place where we work around torch / mmengine incompatibilities.

1. torch >= 2.6 loads checkpoints with ``weights_only=True`` by default, and mmengine
   0.10 (resume, ``load_checkpoint``) calls ``torch.load`` without allow-listing the
   classes its own checkpoints contain (``HistoryBuffer`` in the message hub, numpy
   arrays and scalars in the runtime info). :func:`allow_mmengine_checkpoint_classes`
   allow-lists exactly those.
2. mmengine's ``pytorch`` launcher calls ``torch.cuda.set_device`` and gives DDP
   ``device_ids=[LOCAL_RANK]``, which fails without CUDA. :func:`init_distributed`
   creates the process group itself (gloo on CPU, nccl on GPU) before mmengine looks
   at it, and :func:`ddp_wrapper_cfg` gives DDP ``device_ids=None`` on CPU.
3. mmengine's ``save_checkpoint`` writes the file in place, so a run killed while saving leaves
   a truncated ``iter_N.pth`` that resume would pick. :func:`save_checkpoint_atomically` writes
   local checkpoints to a temporary file in the same folder and renames it.
"""
import os
from typing import Optional

import numpy as np
import torch
import torch.distributed as torch_dist

_APPLIED = False


def _numpy_checkpoint_globals() -> list:
    dtype_classes = [getattr(np.dtypes, name) for name in dir(np.dtypes) if name.endswith('DType')]
    return [np._core.multiarray._reconstruct, np._core.multiarray.scalar, np.ndarray, np.dtype] + dtype_classes


def allow_mmengine_checkpoint_classes() -> None:
    """Allow-list the classes mmengine writes into checkpoints for ``weights_only`` loads.

    ``builtins.getattr`` is needed because a pickled ``HistoryBuffer`` refers to its
    statistics methods through it; the unpickler still only reaches allow-listed objects.
    """
    from mmengine.logging import HistoryBuffer
    torch.serialization.add_safe_globals([HistoryBuffer, getattr] + _numpy_checkpoint_globals())


def init_distributed(backend: Optional[str] = None) -> None:
    """Create the default process group from torchrun's environment: ``backend`` (nccl) on GPU, gloo on CPU.

    Must run before mmengine's Runner, which then skips its own (CUDA-only) set-up.
    """
    if torch_dist.is_initialized():
        return
    for key in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT'):
        if key not in os.environ:
            raise RuntimeError(
                f'--launcher pytorch needs the environment variable {key}, which torchrun sets; '
                f'start the job with `torchrun --nproc_per_node N tools/train.py ...`')
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ['LOCAL_RANK']))
        backend = backend or 'nccl'
    else:
        backend = 'gloo'  # the only CPU backend; a configured 'nccl' cannot work without CUDA
    torch_dist.init_process_group(backend=backend)


def ddp_wrapper_cfg(find_unused_parameters: bool = False, wrapper_type: str = 'MMDistributedDataParallel') -> dict:
    """``model_wrapper_cfg`` for mmengine's Runner that also works without CUDA."""
    cfg = dict(type=wrapper_type, broadcast_buffers=False,
               find_unused_parameters=find_unused_parameters)
    if not torch.cuda.is_available():
        cfg['device_ids'] = None
    return cfg


def save_checkpoint_atomically(checkpoint: dict, filename: str, **kwargs) -> None:
    """mmengine's ``save_checkpoint``; a local file appears complete or not at all."""
    from mmengine.runner import checkpoint as mmengine_checkpoint
    if '://' in str(filename) or kwargs.get('backend_args') or kwargs.get('file_client_args'):
        mmengine_checkpoint.save_checkpoint(checkpoint, filename, **kwargs)
        return
    from mmseg.utils.label_images import atomic_path
    tmp = atomic_path(filename)
    try:
        with open(tmp, 'wb') as f:
            torch.save(checkpoint, f)
        os.replace(tmp, filename)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def apply_compat() -> None:
    """Apply the process-wide fixes once (idempotent)."""
    global _APPLIED
    if not _APPLIED:
        from mmengine.runner import runner as mmengine_runner
        allow_mmengine_checkpoint_classes()
        mmengine_runner.save_checkpoint = save_checkpoint_atomically
        _APPLIED = True
