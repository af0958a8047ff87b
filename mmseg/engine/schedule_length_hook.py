"""On resume, give the restored learning-rate schedulers the lengths of the config (a run extended with
``train_cfg.max_iters=N``): mmengine restores every scheduler attribute from the checkpoint, ``end`` and
``max_iters`` included, so without this hook the old schedule would run on past its end."""
from typing import List

from mmengine.hooks import Hook

from mmseg.registry import HOOKS

LENGTH_KEYS = ('begin', 'end', 'max_iters', 'warmup_iters', 'T_max')


@HOOKS.register_module()
class ScheduleLengthHook(Hook):
    """Overwrite the iteration counts of the checkpoint's scheduler states (:data:`LENGTH_KEYS`) with the
    config's ``param_scheduler`` values before the runner loads them; before training, a scheduler that had
    stopped at its old end is moved to the current step and sets its value, so the resumed iterations use the
    values of a run of the new length."""

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self.changed = False

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        states = checkpoint.get('param_schedulers')
        configs = runner.cfg.get('param_scheduler')
        if not isinstance(states, list) or configs is None:
            return
        configs: List[dict] = [configs] if isinstance(configs, dict) else list(configs)
        changed = []
        for index, (state, config) in enumerate(zip(states, configs)):
            for key in LENGTH_KEYS:
                if key in state and key in config and state[key] != config[key]:
                    changed.append(f'param_scheduler.{index}.{key}: {state[key]} -> {config[key]}')
                    state[key] = config[key]
        if changed:
            self.changed = True
            runner.logger.info('Resumed schedule follows the config: ' + '; '.join(changed))

    def before_train(self, runner) -> None:
        if not self.changed or not isinstance(runner.param_schedulers, list):
            return
        for scheduler in runner.param_schedulers:
            step = scheduler._global_step - scheduler.begin
            if scheduler.by_epoch or not scheduler.begin <= scheduler._global_step < scheduler.end \
                    or scheduler.last_step == step:
                continue
            scheduler.last_step = step
            values = scheduler._get_value()
            for group, value in zip(scheduler.optimizer.param_groups, values):
                group[scheduler.param_name] = value
            scheduler._last_value = [group[scheduler.param_name] for group in scheduler.optimizer.param_groups]
