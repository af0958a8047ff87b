"""Checkpoint files of mmengine runs: written atomically as plain data, read without running code.

Writing: :func:`save_checkpoint_atomically` (mmengine's ``save_checkpoint`` for the Runner) turns the
message hub's ``HistoryBuffer`` objects and any numpy value into tensors and plain Python data
(:func:`plain_checkpoint`), so that ``torch.load(weights_only=True)`` reads the file with torch's default
allow-list, and writes it to ``.<name>.<random>.partial`` in the same folder, flushed to disk, then renamed:
a kill leaves either the complete file or none (and a ``.partial`` file that
:func:`remove_partial_files` deletes at the next start).

Reading: :func:`load_local_checkpoint` and :func:`load_url_checkpoint` replace mmengine's loaders of local
files and URLs (resume, ``load_from``, ``init_cfg``): :func:`mmseg.utils.safe_checkpoint_load.load_checkpoint_file`
with the message hub turned back into ``HistoryBuffer`` objects (:func:`restore_message_hub`).
"""
import os
import re
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import IO, Any, Callable, List, Union
from urllib.parse import urlparse

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

from mmseg.utils.label_images import current_umask
from mmseg.utils.safe_checkpoint_load import load_checkpoint_file

PathLike = Union[str, Path]
PARTIAL_SUFFIX = '.partial'
PARTIAL_FILE = re.compile(r'^\..+\.[^.]+' + re.escape(PARTIAL_SUFFIX) + '$')
# A HistoryBuffer saved as plain data: {PLAIN_BUFFER_KEY: dict(log_history, count_history, max_length)}
PLAIN_BUFFER_KEY = 'history_buffer'
TENSOR_DTYPES = (np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16, np.float32, np.float64)


def _plain_array(array: np.ndarray) -> Union[torch.Tensor, list]:
    if array.dtype.type in TENSOR_DTYPES:
        return torch.from_numpy(np.ascontiguousarray(array).copy())
    return array.tolist()


def plain_value(value: Any) -> Any:
    """``value`` with numpy values and HistoryBuffers replaced by plain data; unchanged containers are not copied."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, HistoryBuffer):
        log_history, count_history = value.data
        return {PLAIN_BUFFER_KEY: dict(log_history=_plain_array(log_history),
                                       count_history=_plain_array(count_history), max_length=value.max_length)}
    if isinstance(value, np.ndarray):
        return _plain_array(value)
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        items = {key: plain_value(item) for key, item in value.items()}
        if all(items[key] is item for key, item in value.items()):
            return value
        converted = type(value)(items) if type(value) in (dict, OrderedDict) else dict(items)
        if hasattr(value, '_metadata'):
            converted._metadata = value._metadata
        return converted
    if isinstance(value, (list, tuple)) and not hasattr(value, '_fields'):
        items = [plain_value(item) for item in value]
        if all(new is old for new, old in zip(items, value)):
            return value
        return type(value)(items)
    return value


def plain_checkpoint(checkpoint: dict) -> dict:
    """The checkpoint as tensors and plain Python data (see the module docstring)."""
    return plain_value(checkpoint)


def restore_message_hub(checkpoint: Any) -> Any:
    """Turn the plain buffers of ``checkpoint['message_hub']['log_scalars']`` back into ``HistoryBuffer``s."""
    hub = checkpoint.get('message_hub') if isinstance(checkpoint, dict) else None
    scalars = hub.get('log_scalars') if isinstance(hub, dict) else None
    if not isinstance(scalars, dict):
        return checkpoint
    for key, value in scalars.items():
        if isinstance(value, dict) and set(value) == {PLAIN_BUFFER_KEY}:
            state = value[PLAIN_BUFFER_KEY]
            history = [np.asarray(state[name]) for name in ('log_history', 'count_history')]
            scalars[key] = HistoryBuffer(*history, max_length=state['max_length'])
    return checkpoint


def write_atomically(path: PathLike, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write`` on a temporary file next to ``path``, flush it to disk and rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f'.{path.name}.', suffix=PARTIAL_SUFFIX, dir=path.parent)
    os.close(handle)
    try:
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes it 0600: give it the mode a plain open() would
        with open(tmp, 'wb') as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _sync_folder(path.parent)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries (the rename) to disk, where the system allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_partial_files(folder: PathLike) -> List[Path]:
    """Delete the ``.<name>.<random>.partial`` files that interrupted atomic writes left in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    stale = [p for p in folder.iterdir() if PARTIAL_FILE.match(p.name) and p.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def save_checkpoint_atomically(checkpoint: dict, filename: str, **kwargs) -> None:
    """mmengine's ``save_checkpoint`` as plain data; a local file appears complete or not at all."""
    from mmengine.runner import checkpoint as mmengine_checkpoint
    checkpoint = plain_checkpoint(checkpoint)
    if '://' in str(filename) or kwargs.get('backend_args') or kwargs.get('file_client_args'):
        mmengine_checkpoint.save_checkpoint(checkpoint, filename, **kwargs)
        return
    write_atomically(filename, lambda f: torch.save(checkpoint, f))


def load_local_checkpoint(filename: str, map_location: Any = None) -> Any:
    """mmengine's loader of local files, with ``weights_only=True`` and errors naming the file."""
    return restore_message_hub(load_checkpoint_file(os.path.expanduser(filename), map_location))


def load_url_checkpoint(filename: str, map_location: Any = None) -> Any:
    """mmengine's loader of http(s) URLs: downloaded once to torch's hub cache, then read as a local file."""
    cached = Path(torch.hub.get_dir()) / 'checkpoints' / os.path.basename(urlparse(filename).path)
    if not cached.is_file():
        cached.parent.mkdir(parents=True, exist_ok=True)
        torch.hub.download_url_to_file(filename, str(cached), progress=False)
    return restore_message_hub(load_checkpoint_file(cached, map_location, name=f'{filename} ({cached})'))
