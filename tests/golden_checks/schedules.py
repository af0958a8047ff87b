"""Checkers for the ``schedule_*`` and ``optim_groups_*`` golden cases (mmcv 1.3.7 lr schedule and param groups)."""
import torch
from torch import nn

from tests.golden_utils import assert_matches


class _BackboneAndHead(nn.Module):
    """One backbone parameter and one decode-head parameter: the two lr groups of the schedule cases."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(2, 2, bias=False)
        self.decode_head = nn.Linear(2, 2, bias=False)


def _build_optim_wrapper(model, optimizer_cfg, per_param_groups=False):
    from mmseg.engine.optimizers import ReferenceOptimWrapperConstructor
    optimizer_cfg = dict(optimizer_cfg)
    paramwise_cfg = dict(optimizer_cfg.pop('paramwise_cfg', {}), per_param_groups=per_param_groups)
    constructor = ReferenceOptimWrapperConstructor(dict(type='OptimWrapper', optimizer=optimizer_cfg), paramwise_cfg)
    return constructor(model)


def check_schedule(case):
    """Run the scheduler through every iteration up to the last listed one, reading each group's lr."""
    import mmseg.engine.schedulers  # noqa: F401  (registers PolyLRWithWarmup)
    from mmseg.registry import PARAM_SCHEDULERS
    cfg = case['config']
    lr_cfg = cfg['lr_config']
    assert lr_cfg['policy'] == 'poly' and not lr_cfg['by_epoch']
    optim_wrapper = _build_optim_wrapper(_BackboneAndHead(), cfg['optimizer'])
    scheduler = PARAM_SCHEDULERS.build(dict(
        type='PolyLRWithWarmup', optimizer=optim_wrapper, power=lr_cfg['power'], min_lr=lr_cfg['min_lr'],
        max_iters=cfg['max_iters'], warmup=lr_cfg['warmup'], warmup_iters=lr_cfg['warmup_iters'],
        warmup_ratio=lr_cfg['warmup_ratio'], by_epoch=False))
    iters = list(case['inputs']['iters'])
    wanted = set(iters)
    lr_backbone, lr_head = {}, {}
    for t in range(max(iters) + 1):
        if t in wanted:
            lr_backbone[t], lr_head[t] = (group['lr'] for group in optim_wrapper.optimizer.param_groups)
        optim_wrapper.step()
        scheduler.step()
    actual = {'iters': iters, 'lr_backbone': [lr_backbone[t] for t in iters], 'lr_head': [lr_head[t] for t in iters]}
    assert_matches(actual, case['outputs'], case['atol'], case['rtol'])


def _module_with_params(names):
    """An nn.Module tree whose ``named_parameters()`` are exactly ``names``, in order."""
    root = nn.Module()
    for name in names:
        *path, leaf = name.split('.')
        module = root
        for part in path:
            if not hasattr(module, part):
                module.add_module(part, nn.Module())
            module = getattr(module, part)
        module.register_parameter(leaf, nn.Parameter(torch.zeros(1)))
    assert [n for n, _ in root.named_parameters()] == list(names)
    return root


def check_optim_groups(case):
    """The pure multiplier rule and the constructor's per-parameter groups against the reference multipliers."""
    from mmseg.engine.optimizers import param_multipliers
    cfg, names = case['config'], list(case['inputs']['param_names'])
    mults = param_multipliers(names, cfg['custom_keys'])
    assert_matches({'lr_mult': [m[0] for m in mults], 'decay_mult': [m[1] for m in mults]}, case['outputs'],
                   case['atol'], case['rtol'])
    optimizer_cfg = dict(type='AdamW', lr=cfg['base_lr'], weight_decay=cfg['base_wd'],
                         paramwise_cfg=dict(custom_keys=cfg['custom_keys']))
    optim_wrapper = _build_optim_wrapper(_module_with_params(names), optimizer_cfg, per_param_groups=True)
    groups = optim_wrapper.optimizer.param_groups
    assert len(groups) == len(names)
    expected = case['outputs']
    assert_matches({'lr_mult': [g['lr'] for g in groups], 'decay_mult': [g['weight_decay'] for g in groups]},
                   {'lr_mult': [cfg['base_lr'] * m for m in expected['lr_mult']],
                    'decay_mult': [cfg['base_wd'] * m for m in expected['decay_mult']]}, 0.0, 0.0)
