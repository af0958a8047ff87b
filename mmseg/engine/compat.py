"""The one place where we work around torch / mmengine incompatibilities and unsafe defaults.

1. mmengine 0.10 loads checkpoints (resume, ``load_from``, ``init_cfg``) with a bare ``torch.load``, which
   runs code from a crafted file where torch defaults to ``weights_only=False`` (torch < 2.6), and with
   ``weights_only=True`` fails on the message hub it pickles itself. Its loaders of local files and URLs
   are replaced by :func:`mmseg.engine.checkpoint_io.load_local_checkpoint` / ``load_url_checkpoint``
   (``weights_only=True``, the message hub's classes allowed only during the load, never process-wide).
2. mmengine's ``pytorch`` launcher calls ``torch.cuda.set_device`` and gives DDP
   ``device_ids=[LOCAL_RANK]``, which fails without CUDA. :func:`init_distributed`
   creates the process group itself (gloo on CPU, nccl on GPU) before mmengine looks
   at it, and :func:`ddp_wrapper_cfg` gives DDP ``device_ids=None`` on CPU.
3. mmengine's ``save_checkpoint`` writes the file in place, so a run killed while saving leaves a truncated
   ``iter_N.pth`` that resume would pick, and it pickles objects that ``weights_only`` loads refuse. The
   Runner saves with :func:`mmseg.engine.checkpoint_io.save_checkpoint_atomically` instead (plain data,
   temporary file, rename), and ``--resume`` finds its checkpoint with
   :func:`mmseg.engine.checkpoint_hook.find_resumable_checkpoint` (the newest readable one).
"""
import os
from typing import Optional

import torch
import torch.distributed as torch_dist

_APPLIED = False


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


def apply_compat() -> None:
    """Apply the process-wide fixes once (idempotent)."""
    global _APPLIED
    if not _APPLIED:
        from mmengine.runner import runner as mmengine_runner
        from mmengine.runner.checkpoint import CheckpointLoader

        from .checkpoint_hook import find_resumable_checkpoint
        from .checkpoint_io import load_local_checkpoint, load_url_checkpoint, save_checkpoint_atomically
        CheckpointLoader.register_scheme('', load_local_checkpoint, force=True)
        CheckpointLoader.register_scheme(('http://', 'https://'), load_url_checkpoint, force=True)
        mmengine_runner.save_checkpoint = save_checkpoint_atomically
        mmengine_runner.find_latest_checkpoint = find_resumable_checkpoint
        _APPLIED = True
