"""What mmengine checkpoints lack for an exact resume: the UDA iteration counter and the RNG states.

The reference does not checkpoint its iteration counter, so a resumed run re-initialises the
teacher from the student (spec §13.3). With this hook the counter travels with the checkpoint, the
teacher keeps its EMA weights, and the Python / numpy / torch (and CUDA) RNG states of the main
process are restored before the resumed loop draws anything. ``reference_resume=True`` reproduces
the reference (counter reset to 0, teacher re-initialised).

In a distributed run every process saves its own RNG states (gathered at the iterations where the
CheckpointHook saves, since only rank 0 writes the checkpoint) and gets them back on resume;
resuming with another number of processes restores only rank 0's and warns.

Data-loading randomness lives in the workers, which mmengine seeds deterministically and which
replay the skipped iterations; with ``num_workers=0`` the dataset draws from the main process's
RNG during that replay, so an exact resume needs ``num_workers >= 1``.
"""
import random
from typing import List, Optional, Tuple

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_rank, get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from mmseg.registry import HOOKS
from .checkpoint_hook import checkpoint_due

STATE_KEY = 'training_state'


@HOOKS.register_module()
class TrainingStateHook(Hook):
    """Save ``local_iter`` of a UDA wrapper and the RNG states with each checkpoint; restore them on resume."""

    priority = 'LOW'  # after_train_iter before the CheckpointHook's

    def __init__(self, reference_resume: bool = False):
        self.reference_resume = reference_resume
        self._pending_rng: Optional[dict] = None
        self._gathered: Optional[Tuple[int, List[dict]]] = None

    @staticmethod
    def _model(runner):
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    @staticmethod
    def _rng_state() -> dict:
        rng = dict(python=random.getstate(), numpy=np.random.get_state(), torch=torch.get_rng_state())
        if torch.cuda.is_available():
            rng['cuda'] = torch.cuda.get_rng_state_all()
        return rng

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if get_world_size() > 1 and checkpoint_due(runner):
            self._gathered = (runner.iter, all_gather_object(self._rng_state()))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        per_rank = [self._rng_state()]
        if self._gathered is not None and self._gathered[0] == runner.iter:
            per_rank = self._gathered[1]
        checkpoint[STATE_KEY] = dict(local_iter=getattr(self._model(runner), 'local_iter', None), rng=per_rank[0],
                                     rng_per_rank=per_rank)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get(STATE_KEY)
        if state is None or self.reference_resume:
            return
        model = self._model(runner)
        if state['local_iter'] is not None and hasattr(model, 'local_iter'):
            model.local_iter = state['local_iter']
        per_rank = state.get('rng_per_rank', [state['rng']])
        if len(per_rank) == get_world_size():
            self._pending_rng = per_rank[get_rank()]
        else:
            print_log(f'TrainingStateHook: the checkpoint holds the RNG states of {len(per_rank)} processes, this run '
                      f'has {get_world_size()}; only rank 0 restores its state, so the resumed randomness is not '
                      'that of an uninterrupted run', logger='current', level=30)
            self._pending_rng = per_rank[0] if get_rank() == 0 else None

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
