"""Loading segmentor weights from our checkpoints and from those of the original DAFormer/HRDA/MIC.

A reference training checkpoint holds the whole UDA wrapper (``model.*`` = student, ``ema_model.*``,
``imnet_model.*``). Its ``tools/test.py`` loads it into the plain segmentor with two regex
substitutions, ``^module\\.`` → '' and the **unanchored** ``model.`` → '' (spec §1.5): the student
keys lose their prefix, ``ema_model.x`` becomes ``ema_x`` and ``imnet_model.x`` becomes
``imnet_x``, which a non-strict load ignores. So the student is what gets evaluated. A checkpoint of DDB's CKD
(``stu_model.*``, ``cu_model.*``, ``ca_model.*``) gives its distilled student, as DDB's test tool does
(:func:`mmseg.models.uda.ddb_checkpoint.test_student_state`).
"""
import re
from pathlib import Path
from typing import Dict, Sequence, Tuple, Union

import torch
from torch import nn

from mmseg.models.uda.ddb_checkpoint import DISTILLED_STUDENT_PREFIX, test_student_state
from mmseg.models.utils.pretrained import LoadReport, load_state_dict_checked
from mmseg.utils.safe_checkpoint_load import load_checkpoint_file

REFERENCE_REVISE_KEYS: Tuple[Tuple[str, str], ...] = ((r'^module\.', ''), ('model.', ''))


def revise_keys(state_dict: Dict[str, torch.Tensor],
                rules: Sequence[Tuple[str, str]] = REFERENCE_REVISE_KEYS) -> Dict[str, torch.Tensor]:
    """Apply each (pattern, replacement) regex substitution to every key, in order (mmcv semantics)."""
    for pattern, replacement in rules:
        state_dict = {re.sub(pattern, replacement, key): value for key, value in state_dict.items()}
    return state_dict


def load_checkpoint(model: nn.Module, checkpoint: Union[str, Path, dict],
                    rules: Sequence[Tuple[str, str]] = REFERENCE_REVISE_KEYS,
                    ignore_prefixes: Sequence[str] = ()) -> Tuple[dict, LoadReport]:
    """Load a checkpoint file (or its loaded dict) into ``model`` non-strictly after revising the keys.

    Revised keys starting with one of ``ignore_prefixes`` (e.g. the teacher's ``ema_``) are skipped.

    Returns the checkpoint dict (for its ``meta``) and the report of missing / unexpected keys;
    tensors whose shape differs from the model's raise a ``ValueError`` naming them. The file is read with
    ``weights_only=True`` (:func:`mmseg.utils.safe_checkpoint_load.load_checkpoint_file`): one holding other
    objects, an empty or a truncated one raises an error naming it.
    """
    source = str(checkpoint) if not isinstance(checkpoint, dict) else 'checkpoint'
    if not isinstance(checkpoint, dict):
        checkpoint = load_checkpoint_file(Path(checkpoint))
    state_dict = checkpoint.get('state_dict', checkpoint)
    if any(key.startswith(DISTILLED_STUDENT_PREFIX) for key in state_dict):  # DDB's CKD: the distilled student
        state_dict = test_student_state(state_dict)
    report = load_state_dict_checked(model, revise_keys(state_dict, rules), source, ignore_prefixes)
    return checkpoint, report
