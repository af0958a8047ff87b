"""The two optimisers of adversarial training (AdvSeg): one for the segmentor, one for the discriminators.

mmengine's Runner builds ``optim_wrapper`` with this constructor into an ``OptimWrapperDict`` of a
``segmentor`` and a ``discriminator`` wrapper; with ``param_scheduler = dict(segmentor=[...],
discriminator=[...])`` each gets its own schedule, and checkpoints and resume carry both optimisers and
both schedules. ``AdvSeg.split_optimizers`` writes this form from a config with one optimiser.
"""
import copy
from typing import Optional

from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import nn

from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS

SEGMENTOR, DISCRIMINATOR = 'segmentor', 'discriminator'
CONFIG_KEYS = (SEGMENTOR, DISCRIMINATOR, 'discriminator_module', 'discriminator_in_segmentor_optimizer')


def build_mmseg_optim_wrapper(module: nn.Module, cfg: dict) -> OptimWrapper:
    """mmengine's ``build_optim_wrapper`` with the mmseg registry (its constructors): ``cfg`` is an
    ``optim_wrapper`` config with an optional ``constructor`` and ``paramwise_cfg``."""
    cfg = copy.deepcopy(dict(cfg))
    constructor = cfg.pop('constructor', 'DefaultOptimWrapperConstructor')
    paramwise_cfg = cfg.pop('paramwise_cfg', None)
    return OPTIM_WRAPPER_CONSTRUCTORS.build(dict(type=constructor, optim_wrapper_cfg=cfg,
                                                 paramwise_cfg=paramwise_cfg))(module)


class _ChildrenExcept(nn.Module):
    """A view of ``module``'s children without ``excluded`` (same parameter names, shared parameters)."""

    def __init__(self, module: nn.Module, excluded: str):
        super().__init__()
        for name, child in module.named_children():
            if name != excluded:
                self.add_module(name, child)


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class AdversarialOptimWrapperConstructor:
    """``optim_wrapper_cfg`` keys:
        segmentor: the segmentor's ``optim_wrapper`` config (``constructor``, ``paramwise_cfg`` inside).
        discriminator: the ``optim_wrapper`` config of the discriminators' optimiser.
        discriminator_module: the model's attribute holding the discriminators (``model_D``).
        discriminator_in_segmentor_optimizer: the segmentor's optimiser is built over the whole model, the
            discriminators included (the reference); False: over everything else.

    float16 training with loss scaling is refused (the two optimisers would need one shared scale);
    bfloat16 needs no scaling and works.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None):
        cfg = dict(optim_wrapper_cfg)
        unknown = set(cfg) - set(CONFIG_KEYS) - {'type'}
        missing = {SEGMENTOR, DISCRIMINATOR} - set(cfg)
        if unknown or missing or paramwise_cfg:
            raise ValueError(f'AdversarialOptimWrapperConstructor: optim_wrapper keys {sorted(cfg)}; expected '
                             f'{list(CONFIG_KEYS)} ({SEGMENTOR!r} and {DISCRIMINATOR!r} required, each with its own '
                             'paramwise_cfg)')
        self.segmentor_cfg = cfg[SEGMENTOR]
        self.discriminator_cfg = cfg[DISCRIMINATOR]
        self.discriminator_module = cfg.get('discriminator_module', 'model_D')
        self.discriminator_in_segmentor_optimizer = cfg.get('discriminator_in_segmentor_optimizer', True)

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        if is_model_wrapper(model):
            model = model.module
        discriminator = getattr(model, self.discriminator_module, None)
        if not isinstance(discriminator, nn.Module):
            raise ValueError(f'AdversarialOptimWrapperConstructor: {type(model).__name__} has no discriminator '
                             f'module {self.discriminator_module!r}')
        scope = model if self.discriminator_in_segmentor_optimizer else _ChildrenExcept(model,
                                                                                        self.discriminator_module)
        segmentor = build_mmseg_optim_wrapper(scope, self.segmentor_cfg)
        if getattr(segmentor, 'loss_scaler', None) is not None:
            raise ValueError('adversarial training with float16 loss scaling is not supported; train in float32 or '
                             'with --amp bfloat16')
        return OptimWrapperDict(**{SEGMENTOR: segmentor,
                                   DISCRIMINATOR: build_mmseg_optim_wrapper(discriminator, self.discriminator_cfg)})
