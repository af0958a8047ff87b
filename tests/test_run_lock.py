"""One training per work directory: a second one is refused without touching anything; a stale lock is taken over."""
import json
import multiprocessing
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
import torch
import torch._dynamo  # noqa: F401  (imported before the fork: the optimiser would import it in the child)
from mmengine.hooks import Hook
from mmengine.logging import MMLogger

from mmseg.engine.run_dir_lock import LOCK_NAME, RunDirectoryBusyError, RunDirectoryLock
from mmseg.registry import HOOKS
from tests.test_checkpoint_safety import tiny_run_config


@HOOKS.register_module(force=True)
class PauseAfterFirstIteration(Hook):
    """Touches ``paused`` after the first iteration and waits there until ``release`` exists."""

    def __init__(self, paused: str, release: str):
        self.paused, self.release = Path(paused), Path(release)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if runner.iter == 0:
            self.paused.touch()
            deadline = time.monotonic() + 120
            while not self.release.exists() and time.monotonic() < deadline:
                time.sleep(0.05)


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob('*')}


def _train(argv) -> None:
    torch.set_num_threads(1)
    from tools import train
    train.main(argv)


def test_a_second_training_on_the_same_work_dir_is_refused_and_touches_nothing(tmp_path):
    from mmengine.config import Config
    from tools import train
    config = tiny_run_config(tmp_path, max_iters=2, interval=2)
    cfg = Config.fromfile(str(config))
    paused, release = tmp_path / 'paused', tmp_path / 'release'
    cfg.custom_hooks.append(dict(type='PauseAfterFirstIteration', paused=str(paused), release=str(release)))
    cfg.dump(str(config))
    work_dir = tmp_path / 'run'
    first = multiprocessing.get_context('fork').Process(target=_train, args=([str(config), '--work-dir',
                                                                              str(work_dir)], ))
    first.start()
    try:
        deadline = time.monotonic() + 120
        while not paused.exists() and first.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert paused.exists(), 'the first training did not reach its first iteration'
        before = _snapshot(work_dir)
        with pytest.raises(SystemExit, match=rf'{work_dir} is in use by another training \(PID {first.pid} on host '
                                             rf'{socket.gethostname()}, started .*\): .*{LOCK_NAME} is locked'):
            train.main([str(config), '--work-dir', str(work_dir)])
        assert _snapshot(work_dir) == before
    finally:
        release.touch()
        first.join(120)
    assert first.exitcode == 0
    assert (work_dir / 'iter_2.pth').is_file()
    assert (work_dir / LOCK_NAME).read_text() == ''  # released


def test_a_stale_lock_of_an_ended_training_is_taken_over_with_a_warning(tmp_path, capsys):
    MMLogger.get_instance(f'stale-lock-{tmp_path.name}')  # the current logger, writing to the captured stdout
    ended = subprocess.Popen(['true'])
    ended.wait()
    lock_file = tmp_path / LOCK_NAME
    lock_file.write_text(json.dumps(dict(pid=ended.pid, host=socket.gethostname(), start_time=time.time())))
    with RunDirectoryLock(tmp_path):
        assert json.loads(lock_file.read_text())['pid'] == os.getpid()
        assert f'taking over the stale lock of a training that ended without releasing it (PID {ended.pid}' in \
            capsys.readouterr().out
    assert lock_file.read_text() == ''


def test_the_lock_is_held_against_other_processes_until_released(tmp_path):
    def try_lock(queue):
        try:
            RunDirectoryLock(tmp_path).acquire()
            queue.put('acquired')
        except RunDirectoryBusyError as error:
            queue.put(str(error))

    context = multiprocessing.get_context('fork')
    with RunDirectoryLock(tmp_path):
        queue = context.Queue()
        process = context.Process(target=try_lock, args=(queue, ))
        process.start()
        process.join()
        assert f'(PID {os.getpid()} on host' in queue.get()
    queue = context.Queue()
    process = context.Process(target=try_lock, args=(queue, ))
    process.start()
    process.join()
    assert queue.get() == 'acquired'
