"""One training per run directory: an exclusive lock file ``<work_dir>/run.lock`` (PID, host, start time).

The lock is a POSIX record lock (``fcntl.lockf``) on the file: the system releases it when the process ends in
any way (SIGKILL included), data-loader workers forked from the training do not inherit it, and it works on
network file systems with a lock manager (where it does not, the holder's PID is checked instead). The file's
text names the holder for the error message. A second training on the directory is refused while the holder
lives; a lock file still naming a process whose lock is gone (a killed run) is taken over with a warning. The
file is emptied, not deleted, on release (deleting it would let a waiting process lock a file that is no longer
the directory's).
"""
import errno
import fcntl
import json
import logging
import os
import socket
import time
from pathlib import Path
from typing import Optional, Union

from mmengine.logging import print_log

LOCK_NAME = 'run.lock'


class RunDirectoryBusyError(RuntimeError):
    """Another live training holds the run directory."""


def _holder_text(holder: dict) -> str:
    started = time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(holder.get('start_time', 0)))
    return f'PID {holder.get("pid", "?")} on host {holder.get("host", "?")}, started {started}'


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class RunDirectoryLock:
    """Context manager holding ``<work_dir>/run.lock`` for the duration of a training."""

    def __init__(self, work_dir: Union[str, Path]):
        self.path = Path(work_dir) / LOCK_NAME
        self._fd: Optional[int] = None

    def _read_holder(self) -> dict:
        try:
            return json.loads(os.pread(self._fd, 4096, 0).decode() or '{}')
        except (ValueError, OSError):
            return {}

    def acquire(self) -> None:
        """Take the lock, or raise :class:`RunDirectoryBusyError` naming the live holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            locked = True
        except OSError as error:
            if error.errno not in (errno.EACCES, errno.EAGAIN):
                locked = False  # no locking on this file system: judge by the holder's PID
            else:
                self._refuse(self._read_holder(), 'is locked')
        holder = self._read_holder()
        if holder.get('pid') and holder['pid'] != os.getpid():
            if not locked and holder.get('host') == socket.gethostname() and _process_alive(int(holder['pid'])):
                self._refuse(holder, 'names it and the file system cannot lock the file')
            print_log(f'{self.path}: taking over the stale lock of a training that ended without releasing it '
                      f'({_holder_text(holder)})', logger='current', level=logging.WARNING)
        record = json.dumps(dict(pid=os.getpid(), host=socket.gethostname(), start_time=time.time())).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, record, 0)
        os.fsync(self._fd)

    def _refuse(self, holder: dict, reason: str) -> None:
        self._close()
        raise RunDirectoryBusyError(
            f'{self.path.parent} is in use by another training ({_holder_text(holder)}): {self.path} {reason}. '
            'Wait for it to finish, or train into another --work-dir.')

    def release(self) -> None:
        """Empty the lock file and release the lock."""
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        self._close()

    def _close(self) -> None:
        os.close(self._fd)  # closing the descriptor releases the lock
        self._fd = None

    def __enter__(self) -> 'RunDirectoryLock':
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
