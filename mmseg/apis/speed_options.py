"""Config switches for the fast training paths (mixed precision, fused kernels, no per-iteration host sync).

None of them changes the method: ``reference`` mode is the reference's execution (float32,
explicit attention, an EMA loop over parameters, log values and the NaN check read on the host
every iteration, the default AdamW); ``fast`` mode turns on every fast path. The configs' defaults
sit in between: SDPA attention, the multi-tensor EMA update, device-side logging and a NaN check
every 50 iterations, float32 unless ``--amp``.
"""
from typing import Optional

from mmengine.config import Config, ConfigDict

from mmseg.engine.mixed_precision_optim_wrapper import AMP_DTYPES

SPEED_MODES = ('reference', 'fast')


def _node(cfg: Config, key: str) -> ConfigDict:
    node = cfg.get(key)
    if node is None:
        raise ValueError(f'config {cfg.filename}: no {key!r}, which the speed options change')
    return node


def enable_amp(cfg: Config, dtype: str = 'auto') -> None:
    """Train under autocast (``MixedPrecisionOptimWrapper``): bfloat16 where the device has it, else float16."""
    if dtype not in AMP_DTYPES:
        raise ValueError(f'--amp {dtype!r}; expected one of {AMP_DTYPES}')
    wrapper = _node(cfg, 'optim_wrapper')
    if wrapper.get('type', 'OptimWrapper') not in ('OptimWrapper', 'MixedPrecisionOptimWrapper'):
        raise ValueError(f"--amp: optim_wrapper.type={wrapper['type']!r}; expected 'OptimWrapper'")
    wrapper['type'] = 'MixedPrecisionOptimWrapper'
    wrapper['dtype'] = dtype


def _set_backbone(cfg: Config, **values) -> None:
    backbone = _node(cfg, 'model').get('backbone')
    if backbone is None or not str(backbone.get('type', '')).lower().startswith(('mit', 'mixvision')):
        raise ValueError(f'config {cfg.filename}: model.backbone is not a MiT ({backbone and backbone.get("type")}); '
                         'the speed modes switch its attention')
    backbone.update(values)


def _set_hook(cfg: Config, hook_type: str, **values) -> None:
    for hook in cfg.get('custom_hooks', []):
        if hook.get('type') == hook_type:
            hook.update(values)


def apply_speed_mode(cfg: Config, mode: str, amp: Optional[str] = 'auto', compile_model: bool = False) -> None:
    """Set ``cfg`` (in place) to the ``reference`` or ``fast`` execution.

    ``fast``: SDPA attention, fused EMA, logging and the NaN check on the device until the log
    interval, fused AdamW, mixed precision with ``amp`` (None: float32) and, with
    ``compile_model``, ``torch.compile`` of backbone and decode head. ``reference``: explicit
    attention, the EMA loop, stock mmengine logging (host copy every iteration), the NaN check
    every iteration, AdamW's loop over parameters, float32.
    """
    if mode not in SPEED_MODES:
        raise ValueError(f'speed mode {mode!r}; expected one of {SPEED_MODES}')
    fast = mode == 'fast'
    _set_backbone(cfg, attn_impl='sdpa' if fast else 'math')
    if cfg.get('uda') is not None:
        cfg.uda['fused_ema'] = fast
    hooks = cfg.setdefault('default_hooks', ConfigDict())
    hooks['runtime_info'] = dict(type='DeferredRuntimeInfoHook' if fast else 'RuntimeInfoHook')
    log_interval = hooks.get('logger', {}).get('interval', 50)
    _set_hook(cfg, 'InvalidLossHook', interval=log_interval if fast else 1)
    optimizer = _node(cfg, 'optim_wrapper')['optimizer']
    for key in ('fused', 'foreach'):
        optimizer.pop(key, None)
    if optimizer.get('type') in ('AdamW', 'Adam', 'SGD'):
        optimizer['fused' if fast else 'foreach'] = fast  # reference: torch 1.7's loop over parameters
    if fast and amp is not None:
        enable_amp(cfg, amp)
    if fast and compile_model:
        cfg.model['compile_cfg'] = dict()
