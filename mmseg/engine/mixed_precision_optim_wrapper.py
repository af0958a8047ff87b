"""Mixed-precision training on CPU and GPU (``--amp``): autocast around the training step.

mmengine's ``AmpOptimWrapper`` refuses to run without CUDA; this wrapper autocasts on the device
the parameters live on, in bfloat16 where the device has it (every CPU, CUDA from Ampere on) and
otherwise in float16 with a dynamic gradient scaler. Parameters, optimiser state, the EMA teacher
and the metrics stay in float32; the losses, softmax and entropy terms cast their inputs to
float32 themselves. The DACS wrapper's several backward passes per iteration each scale their
loss; the optimiser step unscales once.
"""
from contextlib import contextmanager
from typing import Optional

import torch
from mmengine.optim import OptimWrapper
from torch import nn

from mmseg.registry import OPTIM_WRAPPERS

AMP_DTYPES = ('auto', 'bfloat16', 'float16')


def resolve_amp_dtype(dtype: str, device_type: str) -> torch.dtype:
    """``'auto'``: bfloat16 on CPU and on GPUs that support it, else float16."""
    if dtype not in AMP_DTYPES:
        raise ValueError(f'mixed-precision dtype={dtype!r}; expected one of {AMP_DTYPES}')
    if dtype == 'auto':
        bf16 = device_type == 'cpu' or (device_type == 'cuda' and torch.cuda.is_bf16_supported())
        return torch.bfloat16 if bf16 else torch.float16
    return getattr(torch, dtype)


@OPTIM_WRAPPERS.register_module()
class MixedPrecisionOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose ``optim_context`` autocasts to ``dtype`` (see :data:`AMP_DTYPES`).

    float16 adds a dynamic loss scaler (``loss_scale``: ``'dynamic'`` or a fixed float), saved in
    the checkpoint; bfloat16 needs none.
    """

    def __init__(self, dtype: str = 'auto', loss_scale='dynamic', **kwargs):
        super().__init__(**kwargs)
        self.device_type = self._parameter_device_type()
        self.cast_dtype = resolve_amp_dtype(dtype, self.device_type)
        self.loss_scaler: Optional[torch.amp.GradScaler] = None
        if self.cast_dtype == torch.float16:
            if loss_scale == 'dynamic':
                self.loss_scaler = torch.amp.GradScaler(self.device_type)
            elif isinstance(loss_scale, (int, float)):
                self.loss_scaler = torch.amp.GradScaler(self.device_type, init_scale=float(loss_scale),
                                                        growth_interval=2**31 - 1)
            else:
                raise ValueError(f'MixedPrecisionOptimWrapper loss_scale={loss_scale!r}; expected "dynamic" or a '
                                 'number')

    def _parameter_device_type(self) -> str:
        for group in self.optimizer.param_groups:
            for param in group['params']:
                return param.device.type
        return 'cuda' if torch.cuda.is_available() else 'cpu'

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        if self.loss_scaler is not None:
            loss = self.loss_scaler.scale(loss)
        loss.backward(**kwargs)
        self._inner_count += 1

    def step(self, **kwargs) -> None:
        if self.loss_scaler is None:
            super().step(**kwargs)
            return
        if self.clip_grad_kwargs:
            self.loss_scaler.unscale_(self.optimizer)
            self._clip_grad()
        self.loss_scaler.step(self.optimizer, **kwargs)
        self.loss_scaler.update()

    def state_dict(self) -> dict:
        state = self.optimizer.state_dict()
        if self.loss_scaler is not None:
            state['loss_scaler'] = self.loss_scaler.state_dict()
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        scaler_state = state_dict.pop('loss_scaler', None)
        if scaler_state is not None and self.loss_scaler is not None:
            self.loss_scaler.load_state_dict(scaler_state)
        self.optimizer.load_state_dict(state_dict)

    @contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model), torch.autocast(self.device_type, dtype=self.cast_dtype):
            yield
