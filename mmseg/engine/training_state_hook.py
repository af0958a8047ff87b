"""What mmengine checkpoints lack for an exact resume: the UDA iteration counter and the RNG states.

The reference does not checkpoint its iteration counter, so a resumed run re-initialises the
teacher from the student (spec §13.3). With this hook the counter travels with the checkpoint, the
teacher keeps its EMA weights, and the Python / numpy / torch (and CUDA) RNG states of the main
process are restored before the resumed loop draws anything. ``reference_resume=True`` reproduces
the reference (counter reset to 0, teacher re-initialised).

Data-loading randomness lives in the workers, which mmengine seeds deterministically and which
replay the skipped iterations; with ``num_workers=0`` the dataset draws from the main process's
RNG during that replay, so an exact resume needs ``num_workers >= 1``.
"""
import random
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmseg.registry import HOOKS

STATE_KEY = 'training_state'


@HOOKS.register_module()
class TrainingStateHook(Hook):
    """Save ``local_iter`` of a UDA wrapper and the RNG states with each checkpoint; restore them on resume."""

    priority = 'VERY_LOW'

    def __init__(self, reference_resume: bool = False):
        self.reference_resume = reference_resume
        self._pending_rng: Optional[dict] = None

    @staticmethod
    def _model(runner):
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        rng = dict(python=random.getstate(), numpy=np.random.get_state(), torch=torch.get_rng_state())
        if torch.cuda.is_available():
            rng['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint[STATE_KEY] = dict(local_iter=getattr(self._model(runner), 'local_iter', None), rng=rng)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get(STATE_KEY)
        if state is None or self.reference_resume:
            return
        model = self._model(runner)
        if state['local_iter'] is not None and hasattr(model, 'local_iter'):
            model.local_iter = state['local_iter']
        self._pending_rng = state['rng']

    def before_train_epoch(self, runner) -> None:
        if self._pending_rng is None:
            return
        rng = self._pending_rng
        random.setstate(rng['python'])
        np.random.set_state(rng['numpy'])
        torch.set_rng_state(rng['torch'])
        if 'cuda' in rng and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng['cuda'])
        self._pending_rng = None
