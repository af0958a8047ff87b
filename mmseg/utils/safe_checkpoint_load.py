"""Read checkpoint files without running code from them: ``torch.load(weights_only=True)``, errors naming the file.

Besides tensors and plain containers, exactly what mmengine pickles into its message hub is allowed, and only
for the duration of a load (``torch.serialization.safe_globals``), never for the whole process:
``HistoryBuffer``, the numpy array, scalar and dtype classes, and ``builtins.getattr`` replaced by
:func:`history_buffer_statistic`, which hands out nothing but HistoryBuffer's statistics methods (a free
``getattr`` reaches any builtin through torch's ``_rebuild_from_type_v2``). Checkpoints written by
``mmseg.engine`` since the message hub is saved as plain data need none of these; checkpoints of older runs
do, and their ``getattr`` entries need the ``(object, name)`` form of safe globals (torch >= 2.6).
"""
import contextlib
import io
import pickle
from pathlib import Path
from typing import Any, BinaryIO, Callable, List, Tuple, Union

import numpy as np
import torch
from torch.torch_version import TorchVersion

CheckpointSource = Union[str, Path, BinaryIO]
HISTORY_BUFFER_STATISTICS = ('min', 'max', 'current', 'mean')
# torch.load raises this prefix when the unpickler refuses a global or a call
WEIGHTS_ONLY_REFUSAL = 'Weights only load failed'


class UnsafeCheckpointError(ValueError):
    """A checkpoint holds objects that ``weights_only`` loading refuses (they could run code)."""


class CorruptCheckpointError(ValueError):
    """A checkpoint file is empty, truncated or otherwise unreadable."""


def history_buffer_statistic(owner: Any, name: str) -> Callable:
    """``getattr`` as a pickled HistoryBuffer uses it (its statistics methods); anything else is refused."""
    from mmengine.logging import HistoryBuffer
    if owner is HistoryBuffer and name in HISTORY_BUFFER_STATISTICS:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(f'refused getattr({owner!r}, {name!r}): a checkpoint may only refer to the '
                                 f'HistoryBuffer statistics {HISTORY_BUFFER_STATISTICS}')


def named_globals_supported() -> bool:
    """Whether ``torch.serialization.safe_globals`` takes ``(object, 'module.name')`` pairs (torch >= 2.6)."""
    return TorchVersion(torch.__version__) >= '2.6' and hasattr(torch.serialization, 'safe_globals')


def mmengine_state_globals() -> List[Union[Callable, Tuple[Callable, str]]]:
    """The allow-list of mmengine's message hub (see the module docstring); empty where torch cannot scope it."""
    if not named_globals_supported():
        return []
    from mmengine.logging import HistoryBuffer
    multiarray = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    dtypes = getattr(np, 'dtypes', None)
    dtype_classes = [getattr(dtypes, name) for name in dir(dtypes) if name.endswith('DType')] if dtypes else []
    named = [(getattr(multiarray, name), f'{package}.multiarray.{name}')
             for package in ('numpy.core', 'numpy._core') for name in ('_reconstruct', 'scalar')]
    return [HistoryBuffer, np.ndarray, np.dtype, (history_buffer_statistic, 'builtins.getattr')] + named + \
        dtype_classes


def _first_line(error: BaseException) -> str:
    text = str(error)
    if 'WeightsUnpickler error: ' in text:
        text = text.split('WeightsUnpickler error: ', 1)[1]
    return text.strip().split('\n')[0] or type(error).__name__


def load_checkpoint_file(source: CheckpointSource, map_location: Any = 'cpu', name: str = '') -> Any:
    """The unpickled checkpoint at ``source`` (a path or a binary file object), loaded with ``weights_only=True``.

    Raises ``FileNotFoundError`` for a missing path, :class:`CorruptCheckpointError` for an empty or
    truncated file and :class:`UnsafeCheckpointError` for one holding disallowed objects; each names
    ``name`` (default: the path).
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        name = name or str(path)
        if not path.is_file():
            raise FileNotFoundError(f'Checkpoint not found: {name}')
        if path.stat().st_size == 0:
            raise CorruptCheckpointError(f'{name}: empty file (0 bytes), not a checkpoint; it is what an '
                                         'interrupted copy or save leaves')
    name = name or 'checkpoint'
    try:
        scope = torch.serialization.safe_globals(mmengine_state_globals()) if named_globals_supported() \
            else contextlib.nullcontext()
        with scope:
            return torch.load(source, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        if WEIGHTS_ONLY_REFUSAL not in str(error):
            raise CorruptCheckpointError(f'{name}: truncated or corrupt checkpoint ({_first_line(error)})') from None
        hint = '' if named_globals_supported() else (' A checkpoint of an earlier uda-seg run (pickled message hub) '
                                                     'needs torch >= 2.6 to be read safely.')
        raise UnsafeCheckpointError(
            f'{name}: refused to load: it holds objects other than tensors and plain data, which could run code '
            f'({_first_line(error)}). Only weights are read (torch.load weights_only=True).{hint}') from None
    except (RuntimeError, EOFError, OSError, ValueError, KeyError, IndexError) as error:
        raise CorruptCheckpointError(f'{name}: truncated or corrupt checkpoint ({type(error).__name__}: '
                                     f'{_first_line(error)})') from None


def load_checkpoint_bytes(data: bytes, name: str, map_location: Any = 'cpu') -> Any:
    """:func:`load_checkpoint_file` of an in-memory file (e.g. downloaded), errors naming ``name``."""
    if not data:
        raise CorruptCheckpointError(f'{name}: empty file (0 bytes), not a checkpoint')
    return load_checkpoint_file(io.BytesIO(data), map_location, name)
