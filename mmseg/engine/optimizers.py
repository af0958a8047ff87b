"""Reference parameter-wise optimiser rules: mmcv 1.3.7 ``DefaultOptimizerConstructor`` custom keys.

Each parameter name is tested against the custom keys sorted by length (longest first), then by
name; the first key that is a substring of the name sets both multipliers (unset ones are 1),
and a name that matches none keeps (1, 1). With DAFormer's keys the decode head, BatchNorm
included, gets lr×10 and full weight decay, and backbone norms get no decay (spec §9, §13.10).
"""
from typing import Dict, List, Optional, Sequence, Tuple

from mmengine.optim import DefaultOptimWrapperConstructor
from torch import nn

from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS


def sorted_custom_keys(custom_keys: Dict[str, dict]) -> List[str]:
    """Keys in matching order: by length, longest first, ties alphabetically."""
    return sorted(sorted(custom_keys), key=len, reverse=True)


def param_multipliers(names: Sequence[str], custom_keys: Dict[str, dict]) -> List[Tuple[float, float]]:
    """(lr_mult, decay_mult) for each parameter name under the reference first-match rule."""
    keys = sorted_custom_keys(custom_keys)
    result = []
    for name in names:
        key = next((k for k in keys if k in name), None)
        cfg = custom_keys[key] if key is not None else {}
        result.append((cfg.get('lr_mult', 1.), cfg.get('decay_mult', 1.)))
    return result


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class ReferenceOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Optimiser wrapper constructor with the reference ``paramwise_cfg.custom_keys`` rule.

    ``paramwise_cfg`` accepts ``custom_keys`` and ``per_param_groups``. Each group gets
    ``lr = base_lr·lr_mult`` and ``weight_decay = base_wd·decay_mult``. By default the trainable
    parameters with the same multipliers share one group, in order of first appearance (same
    updates, fewer groups for the fused optimiser kernels); ``per_param_groups=True`` gives one
    group per parameter in ``named_parameters()`` order, the layout of mmcv 1.3.7. Parameters with
    ``requires_grad=False`` (a frozen teacher) are left out.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None):
        paramwise_cfg = dict(paramwise_cfg or {})
        self.per_param_groups = paramwise_cfg.pop('per_param_groups', False)
        unknown = set(paramwise_cfg) - {'custom_keys'}
        if unknown:
            raise ValueError(f'{type(self).__name__} supports paramwise_cfg custom_keys and per_param_groups only, '
                             f'got {sorted(unknown)}')
        super().__init__(optim_wrapper_cfg, paramwise_cfg)

    def add_params(self, params: List[dict], module: nn.Module, prefix: str = '', **kwargs) -> None:
        """Append the parameter groups of ``module`` to ``params``."""
        named = [(name, p) for name, p in module.named_parameters(prefix=prefix) if p.requires_grad]
        custom_keys = self.paramwise_cfg.get('custom_keys', {})
        multipliers = param_multipliers([name for name, _ in named], custom_keys)
        groups: Dict[Tuple[float, float], dict] = {}
        for (_, param), mults in zip(named, multipliers):
            if not self.per_param_groups and mults in groups:
                groups[mults]['params'].append(param)
                continue
            group = {'params': [param], 'lr': self.base_lr * mults[0]}
            if self.base_wd is not None:
                group['weight_decay'] = self.base_wd * mults[1]
            params.append(group)
            groups[mults] = group
