"""Change a config's training length so that everything tied to it follows: ``--iters N`` of
``run_experiments.py`` and ``--cfg-options train_cfg.max_iters=N`` of ``tools/train.py``.

With ``factor = N / old max_iters``, the overrides set:

- ``train_cfg.max_iters`` = N; ``train_cfg.val_interval`` and ``val_begin`` scaled (an interval of the whole
  schedule, e.g. one evaluation at the end, stays the whole schedule);
- every iteration-based ``param_scheduler``: ``begin``, ``end``, ``max_iters``, ``warmup_iters``, ``T_max`` and
  ``milestones`` scaled (an end at the old length becomes N), so warm-up and poly decay keep their shape;
- ``default_hooks.checkpoint.interval`` scaled, ``default_hooks.logger.interval`` at most N;
- the NaN check interval (``InvalidLossHook``) a divisor of the new checkpoint interval;
- ``uda.debug_img_interval`` scaled (0, off, stays 0).

Scaled values are rounded and at least 1. A schedule that cannot be scaled this way (epoch-based, or a
scheduler whose iteration arguments are not known here) is refused with a message naming it and what to set.
Keys the user sets explicitly are left as given.
"""
import math
from typing import Dict, Iterable, List, Optional, Tuple

from mmengine.config import Config

SCALED_SCHEDULER_KEYS = ('begin', 'end', 'max_iters', 'warmup_iters', 'T_max')
KNOWN_SCHEDULERS = ('PolyLRWithWarmup', 'PolyLR', 'LinearLR', 'ConstantLR', 'CosineAnnealingLR', 'MultiStepLR',
                    'ExponentialLR', 'PolyParamScheduler', 'LinearParamScheduler', 'ConstantParamScheduler',
                    'CosineAnnealingParamScheduler', 'MultiStepParamScheduler')


class ScheduleScalingError(ValueError):
    """The config's schedule cannot follow a new ``max_iters``."""


def _plain(value):
    """ConfigDicts and lists of them as plain dicts and lists."""
    if hasattr(value, 'to_dict'):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _scaled(value: int, old: int, new: int) -> int:
    """``value`` of an ``old``-iteration schedule in one of ``new`` iterations: the whole stays the whole."""
    if value >= old:
        return new
    return max(1, int(round(value * new / old)))


def _scaled_schedulers(schedulers: List[dict], old: int, new: int) -> List[dict]:
    scaled = []
    for index, scheduler in enumerate(schedulers):
        name = scheduler.get('type', '?')
        by_epoch = scheduler.get('by_epoch', name != 'PolyLRWithWarmup')  # mmengine's default: True
        if by_epoch:
            raise ScheduleScalingError(
                f'param_scheduler[{index}] ({name}) counts epochs (by_epoch=True); cannot scale it to '
                f'{new} iterations: set param_scheduler yourself, e.g. --cfg-options param_scheduler.{index}.end={new}')
        if name not in KNOWN_SCHEDULERS:
            raise ScheduleScalingError(
                f'param_scheduler[{index}] has type {name!r}, whose iteration arguments are not known to the scaling '
                f'(known: {", ".join(KNOWN_SCHEDULERS)}); set its begin/end and other iteration counts yourself '
                f'with --cfg-options param_scheduler.{index}.<key>=<value>')
        scheduler = dict(scheduler)
        for key in SCALED_SCHEDULER_KEYS:
            if isinstance(scheduler.get(key), int) and scheduler[key] > 0:
                scheduler[key] = _scaled(scheduler[key], old, new)
        if scheduler.get('milestones'):
            scheduler['milestones'] = [_scaled(m, old, new) for m in scheduler['milestones']]
        scaled.append(scheduler)
    return scaled


def schedule_overrides(cfg: Config, max_iters: int, explicit: Iterable[str] = ()) -> Tuple[Dict, List[str]]:
    """The overrides (a nested dict for ``Config.merge_from_dict`` after flattening, see
    :func:`flat_overrides`) that move ``cfg`` to ``max_iters`` iterations, and one line per changed value.

    ``explicit``: dotted keys the user sets (``--cfg-options``); they and the keys below them are not touched.
    ``ScheduleScalingError`` when the schedule cannot be scaled.
    """
    if not isinstance(max_iters, int) or max_iters < 1:
        raise ScheduleScalingError(f'max_iters={max_iters!r}: expected a positive integer')
    train_cfg = cfg.get('train_cfg') or {}
    old = train_cfg.get('max_iters')
    if not isinstance(old, int) or old < 1:
        raise ScheduleScalingError(f'{cfg.filename}: train_cfg has no max_iters (epoch-based training?): '
                                   'cannot scale it; set train_cfg and param_scheduler yourself')
    explicit = set(explicit)

    def free(key: str) -> bool:
        return not any(key == e or key.startswith(e + '.') or e.startswith(key + '.') for e in explicit)

    flat: Dict[str, object] = {}
    notes: List[str] = []

    def put(key: str, before, after) -> None:
        if free(key) and before != after:
            flat[key] = after
            notes.append(f'{key}: {before} -> {after}')

    put('train_cfg.max_iters', old, max_iters)
    for key in ('val_interval', 'val_begin'):
        if isinstance(train_cfg.get(key), int) and train_cfg[key] > 0:
            put(f'train_cfg.{key}', train_cfg[key], _scaled(train_cfg[key], old, max_iters))
    schedulers = cfg.get('param_scheduler')
    if schedulers is not None and free('param_scheduler'):
        schedulers = _plain([schedulers] if isinstance(schedulers, dict) else schedulers)
        scaled = _scaled_schedulers(schedulers, old, max_iters)
        if scaled != schedulers:
            flat['param_scheduler'] = scaled if isinstance(cfg.param_scheduler, (list, tuple)) else scaled[0]
            for index, (before, after) in enumerate(zip(schedulers, scaled)):
                notes += [f'param_scheduler.{index}.{k}: {before[k]} -> {after[k]}' for k in after
                          if before.get(k) != after[k]]
    hooks = cfg.get('default_hooks') or {}
    checkpoint_interval = None
    if isinstance((hooks.get('checkpoint') or {}).get('interval'), int):
        checkpoint_interval = _scaled(hooks['checkpoint']['interval'], old, max_iters)
        put('default_hooks.checkpoint.interval', hooks['checkpoint']['interval'], checkpoint_interval)
    if isinstance((hooks.get('logger') or {}).get('interval'), int):
        put('default_hooks.logger.interval', hooks['logger']['interval'], min(hooks['logger']['interval'], max_iters))
    custom_hooks = _plain(cfg.get('custom_hooks') or [])
    nan_check = _nan_check_hooks(custom_hooks, checkpoint_interval)
    if nan_check is not None and free('custom_hooks'):
        flat['custom_hooks'] = nan_check[0]
        notes.append(nan_check[1])
    uda = cfg.get('uda') or {}
    if isinstance(uda.get('debug_img_interval'), int) and uda['debug_img_interval'] > 0:
        put('uda.debug_img_interval', uda['debug_img_interval'], _scaled(uda['debug_img_interval'], old, max_iters))
    return flat, notes


def _nan_check_hooks(custom_hooks: List[dict], checkpoint_interval: Optional[int]) -> Optional[Tuple[list, str]]:
    """``custom_hooks`` with the ``InvalidLossHook`` interval cut to a divisor of the checkpoint interval (so the
    check runs before every save), and the note; None when nothing changes."""
    if checkpoint_interval is None:
        return None
    for index, hook in enumerate(custom_hooks):
        interval = hook.get('interval')
        if hook.get('type') == 'InvalidLossHook' and isinstance(interval, int) and checkpoint_interval % interval:
            hooks = [dict(h) for h in custom_hooks]
            hooks[index]['interval'] = math.gcd(interval, checkpoint_interval)
            return hooks, f'custom_hooks.{index} (InvalidLossHook).interval: {interval} -> {hooks[index]["interval"]}'
    return None


def nested(flat: Dict[str, object]) -> dict:
    """``{'a.b': v}`` as ``{'a': {'b': v}}`` (for writing a config file)."""
    tree: dict = {}
    for key, value in flat.items():
        node = tree
        *parents, last = key.split('.')
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return tree
