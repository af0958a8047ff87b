"""Checkpoint hand-over between DDB's stages (spec ebda-cdda-ddb §3.7, §4.11): the keys each consumer takes.

An ST checkpoint holds ``model.*`` (the student) and ``ema_model.*`` (its EMA teacher); a CKD checkpoint
``stu_model.*``, ``cu_model.*`` and ``ca_model.*``. Every consumer ends up with a **student**:

- CKD's teachers (:func:`st_student_state`, ``CKD._load_checkpoint``): the keys without ``imnet`` and without
  ``ema``, every ``model.`` removed; loaded strictly;
- Round-2 ST from the distilled student (:func:`distilled_student_state`, ``ST._load_checkpoint``): the keys
  containing ``stu``, ``stu_model.`` removed; strictly;
- evaluation (:func:`test_student_state`, the reference ``tools/test.py``'s ``custom_load_checkpoint``):
  ``module.`` removed, then the keys of the first of the prefixes ``model.``, ``stu_model.`` that any key starts
  with, the prefix removed (the dict unchanged when none does); non-strictly;
- the prototype tool (:func:`prototype_tool_state`): ``model.`` removed at the start of the keys; non-strictly, so
  ``ema_model.*`` is left over.
"""
import re
from pathlib import Path
from typing import Callable, Dict, List, Union

import torch
from torch import nn

from mmseg.utils.safe_checkpoint_load import load_checkpoint_file

StateDict = Dict[str, torch.Tensor]
TEST_PREFIXES = ('model.', 'stu_model.')
DISTILLED_STUDENT_PREFIX = 'stu_model.'
LISTED_KEYS = 5


def st_student_state(state_dict: StateDict) -> StateDict:
    """CKD's teacher weights from an ST checkpoint: no ``imnet`` / ``ema`` keys, every ``model.`` removed."""
    return {key.replace('model.', ''): value for key, value in state_dict.items()
            if 'imnet' not in key and 'ema' not in key}


def distilled_student_state(state_dict: StateDict) -> StateDict:
    """Round-2 ST's initial student from a CKD checkpoint: the keys containing ``stu``, ``stu_model.`` removed."""
    return {key.replace(DISTILLED_STUDENT_PREFIX, ''): value for key, value in state_dict.items() if 'stu' in key}


def test_student_state(state_dict: StateDict) -> StateDict:
    """The weights the reference's test tool evaluates (see the module docstring)."""
    state_dict = {re.sub(r'^module\.', '', key): value for key, value in state_dict.items()}
    for prefix in TEST_PREFIXES:
        if any(key.startswith(prefix) for key in state_dict):
            return {key[len(prefix):]: value for key, value in state_dict.items() if key.startswith(prefix)}
    return state_dict


def prototype_tool_state(state_dict: StateDict) -> StateDict:
    """The prototype tool's revision ``^model\\.`` → '' (its non-strict load leaves ``ema_model.*`` over)."""
    return {re.sub(r'^model\.', '', key): value for key, value in state_dict.items()}


def read_state_dict(path: Union[str, Path], config_key: str) -> StateDict:
    """The state dict of a checkpoint file; a missing file names ``config_key``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'{config_key}={str(path)!r}: no such checkpoint file')
    checkpoint = load_checkpoint_file(path)
    return checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else checkpoint


def state_dict_problems(model: nn.Module, state_dict: StateDict, strict: bool = True) -> List[str]:
    """What keeps ``state_dict`` from loading into ``model``: missing keys (``strict``), unexpected keys
    (``strict``) and shape mismatches, a few of each; empty when it fits."""
    expected = model.state_dict()
    problems = []
    missing = [key for key in expected if key not in state_dict]
    unexpected = [key for key in state_dict if key not in expected]
    if strict and missing:
        problems.append(f'{len(missing)} missing key(s), e.g. {missing[:LISTED_KEYS]}')
    if strict and unexpected:
        problems.append(f'{len(unexpected)} unexpected key(s), e.g. {unexpected[:LISTED_KEYS]}')
    shapes = [f'{key}: {tuple(state_dict[key].shape)} vs {tuple(value.shape)}' for key, value in expected.items()
              if key in state_dict and tuple(state_dict[key].shape) != tuple(value.shape)]
    if shapes:
        problems.append(f'{len(shapes)} shape mismatch(es) (file vs model), e.g. {shapes[:LISTED_KEYS]}')
    return problems


def check_stage_checkpoint(model: nn.Module, path: Union[str, Path], select: Callable[[StateDict], StateDict],
                           config_key: str, what: str) -> StateDict:
    """The weights ``select`` takes from checkpoint ``path`` for ``model``; a ``ValueError`` naming the file,
    the config key and what does not fit when they do not match the model's architecture exactly."""
    selected = select(read_state_dict(path, config_key))
    problems = state_dict_problems(model, selected)
    if problems:
        raise ValueError(f'{config_key}={str(path)!r}: the {what} in this checkpoint do(es) not fit the model of the '
                         f'config ({type(model).__name__} with {type(getattr(model, "backbone", model)).__name__} '
                         f'and {type(getattr(model, "decode_head", model)).__name__}): ' + '; '.join(problems) +
                         '. Is it a checkpoint of another architecture or of another stage?')
    return selected


def load_stage_checkpoint(model: nn.Module, path: Union[str, Path], select: Callable[[StateDict], StateDict],
                          config_key: str, what: str) -> None:
    """Load the weights ``select`` takes from ``path`` into ``model``, strictly (see
    :func:`check_stage_checkpoint`)."""
    model.load_state_dict(check_stage_checkpoint(model, path, select, config_key, what), strict=True)
