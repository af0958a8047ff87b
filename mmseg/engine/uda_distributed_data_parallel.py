"""Data-parallel wrapper for the UDA wrappers (DACS), whose training step runs several backward passes.

PyTorch's DDP reduces gradients during the one backward pass that follows its own forward; a DACS
iteration calls the student several times (source, mixed, masked images) and back-propagates each
loss separately. This wrapper therefore keeps DDP's set-up (parameters and buffers broadcast from
rank 0 when it is built, so every process starts from the same student, teacher and ImageNet
model) but calls the wrapped module's ``train_step`` directly: DDP's gradient hooks stay idle, and
the UDA wrapper averages the accumulated gradients over the processes right before its single
optimiser step (:func:`mmseg.utils.gradient_sync.average_gradients`). Every process then applies
the same update, so the students stay identical and so do the teachers that follow them.
"""
from typing import Dict

import torch
from mmengine.model import MMDistributedDataParallel

from mmseg.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class UDADistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that delegates ``train_step`` to the wrapped UDA model."""

    def train_step(self, data: dict, optim_wrapper) -> Dict[str, torch.Tensor]:
        return self.module.train_step(data, optim_wrapper)
