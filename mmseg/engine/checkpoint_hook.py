"""mmengine's CheckpointHook with a rotation that never leaves a run without a complete checkpoint.

Registered as ``CheckpointHook`` in the ``mmseg`` scope, so configs get it under the usual name. Each
save writes the new file (atomically, see :mod:`mmseg.engine.checkpoint_io`), then ``last_checkpoint``
(atomically), and only then removes the checkpoints beyond ``max_keep_ckpts`` (mmengine removes the
oldest one first, so a kill in between left no checkpoint). At the start it deletes the ``.partial``
files of an interrupted save. Options mmengine would pass on to ``Runner.save_checkpoint`` (and fail
on at the first save) are refused when the hook is built.

:func:`find_resumable_checkpoint` replaces mmengine's ``find_latest_checkpoint`` for ``--resume``: the
file named in ``last_checkpoint``, else (empty pointer, missing or unreadable file, each with a warning)
the newest readable ``iter_<n>.pth`` / ``epoch_<n>.pth``.
"""
import inspect
import logging
import os.path as osp
import re
import zipfile
from pathlib import Path
from typing import List, Optional

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook as MMEngineCheckpointHook
from mmengine.logging import print_log

from mmseg.registry import HOOKS
from mmseg.utils.key_suggestion import unknown_keys_message
from mmseg.utils.safe_checkpoint_load import load_checkpoint_file
from .checkpoint_io import remove_partial_files, write_atomically

NUMBERED_CHECKPOINT = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')


@HOOKS.register_module()
class CheckpointHook(MMEngineCheckpointHook):
    """See the module docstring; the arguments are mmengine's (``**kwargs`` is refused)."""

    #: The options it takes: mmengine's named arguments (the rest would reach ``Runner.save_checkpoint``).
    OPTIONS = frozenset(inspect.signature(MMEngineCheckpointHook.__init__).parameters) - {'self', 'kwargs'}

    def __init__(self, *args, **kwargs):
        unknown = set(kwargs) - self.OPTIONS
        if unknown:
            raise ValueError(unknown_keys_message('CheckpointHook', unknown, self.OPTIONS))
        super().__init__(*args, **kwargs)

    def _local(self) -> bool:
        return '://' not in str(self.out_dir)

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if not (is_main_process() and self._local()):
            return
        for folder in {str(self.out_dir), str(runner.work_dir)}:
            for path in remove_partial_files(folder):
                print_log(f'Removed {path}, left by an interrupted save', logger='current', level=logging.WARNING)

    def _save_checkpoint_with_step(self, runner, step: int, meta: dict) -> None:
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        if self.max_keep_ckpts > 0 and (not self.keep_ckpt_ids or self.keep_ckpt_ids[-1] != step):
            self.keep_ckpt_ids.append(step)  # a deque of max_keep_ckpts: the oldest id drops out
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        runner.save_checkpoint(self.out_dir, ckpt_filename, self.file_client_args, save_optimizer=self.save_optimizer,
                               save_param_scheduler=self.save_param_scheduler, meta=meta, by_epoch=self.by_epoch,
                               backend_args=self.backend_args)
        if not is_main_process():
            return
        write_atomically(osp.join(runner.work_dir, 'last_checkpoint'), lambda f: f.write(self.last_ckpt.encode()))
        if self.max_keep_ckpts > 0:
            self._remove_outdated(step)

    def _remove_outdated(self, step: int) -> None:
        """Delete the run's checkpoints older than ``step`` that are not among the kept ones."""
        pattern = re.compile('^' + re.escape(self.filename_tmpl).replace(r'\{\}', r'(\d+)') + '$')
        for name in self.file_backend.list_dir_or_file(self.out_dir, list_dir=True, list_file=True):
            match = pattern.match(name)
            if match is None or int(match.group(1)) >= step or int(match.group(1)) in self.keep_ckpt_ids:
                continue
            path = self.file_backend.join_path(self.out_dir, name)
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # checkpoints saved by deepspeed are folders
                self.file_backend.rmtree(path)


def checkpoint_due(runner) -> bool:
    """Whether a CheckpointHook saves after this training iteration (its own condition)."""
    return any(isinstance(hook, MMEngineCheckpointHook) and not hook.by_epoch and
               (hook.every_n_train_iters(runner, hook.interval, hook.save_begin) or
                (hook.save_last and hook.is_last_train_iter(runner))) for hook in runner.hooks)


def checkpoint_problem(path: Path) -> Optional[str]:
    """Why ``path`` is not a complete checkpoint (empty, truncated, a failed CRC), or None if it is."""
    if path.stat().st_size == 0:
        return 'empty file (0 bytes)'
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
            return None if bad is None else f'damaged record {bad}'
        load_checkpoint_file(path)  # the legacy (non-zip) torch format: only a full read tells
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        return str(error).replace(f'{path}: ', '', 1)
    return None


def _numbered_checkpoints(work_dir: Path) -> List[Path]:
    """``iter_<n>.pth`` / ``epoch_<n>.pth`` of ``work_dir``, newest first."""
    numbered = [(int(m.group(1)), p) for p in work_dir.iterdir() if (m := NUMBERED_CHECKPOINT.match(p.name))]
    return [p for _, p in sorted(numbered, reverse=True)]


def _pointed_checkpoint(work_dir: Path) -> Optional[Path]:
    """The file that ``last_checkpoint`` names (as written, or by its name in ``work_dir``); warns if it has none."""
    pointer = work_dir / 'last_checkpoint'
    if not pointer.is_file():
        return None
    named = pointer.read_text().strip()
    if not named:
        print_log(f'{pointer} is empty; looking for the newest readable iter_<n>.pth', logger='current',
                  level=logging.WARNING)
        return None
    for candidate in (Path(named), work_dir / Path(named).name):
        if candidate.is_file():
            return candidate
    print_log(f'{pointer} names {named}, which does not exist; looking for the newest readable iter_<n>.pth',
              logger='current', level=logging.WARNING)
    return None


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` continues from (see the module docstring); None if the run has none."""
    work_dir = Path(work_dir)
    if not work_dir.is_dir():
        return None
    pointed = _pointed_checkpoint(work_dir)
    numbered = [p for p in _numbered_checkpoints(work_dir) if not (pointed and p.resolve() == pointed.resolve())]
    candidates = ([pointed] if pointed else []) + numbered
    unreadable = []
    for candidate in candidates:
        problem = checkpoint_problem(candidate)
        if problem is None:
            return str(candidate)
        unreadable.append(candidate)
        print_log(f'Cannot resume from {candidate}: {problem}; trying the next older checkpoint', logger='current',
                  level=logging.WARNING)
    if unreadable:
        raise RuntimeError(f'{work_dir}: no readable checkpoint to resume from; unreadable: '
                           f'{", ".join(str(p) for p in unreadable)}')
    return None
