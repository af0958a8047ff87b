"""Mean teacher of DACS: initialisation from the student, the EMA update (spec §5.2 step 1, §13.3)
and the teacher's deterministic forward.

Only parameters are copied and averaged; buffers (BatchNorm running statistics) are not, as in
the reference. Parameters are paired by position in ``parameters()`` order.
"""
from typing import List, Optional

import torch
from torch import nn

from ..utils.drop_path import DropPath


def _param_pairs(student: nn.Module, teacher: nn.Module):
    student_params = list(student.parameters())
    teacher_params = list(teacher.parameters())
    if len(student_params) != len(teacher_params):
        raise ValueError(f'student has {len(student_params)} parameters, teacher {len(teacher_params)}')
    return student_params, teacher_params


def ema_alpha(iteration: int, alpha: float) -> float:
    """The teacher momentum of an iteration: min(1 - 1/(iteration + 1), alpha)."""
    return min(1 - 1 / (iteration + 1), alpha)


@torch.no_grad()
def init_ema_weights(student: nn.Module, teacher: nn.Module) -> None:
    """Freeze the teacher's parameters and copy the student's into them (buffers stay)."""
    student_params, teacher_params = _param_pairs(student, teacher)
    for param in teacher_params:
        param.requires_grad_(False)
    torch._foreach_copy_(teacher_params, student_params)


@torch.no_grad()
def update_ema(student: nn.Module, teacher: nn.Module, iteration: int, alpha: float,
               fused: bool = True) -> float:
    """``teacher = a·teacher + (1 - a)·student`` on parameters, ``a = ema_alpha(iteration, alpha)``.

    ``fused`` uses ``torch._foreach_*`` ops; ``fused=False`` is the reference's per-parameter
    loop (same values up to float rounding). Returns ``a``.
    """
    alpha_teacher = ema_alpha(iteration, alpha)
    student_params, teacher_params = _param_pairs(student, teacher)
    if fused:
        torch._foreach_mul_(teacher_params, alpha_teacher)
        torch._foreach_add_(teacher_params, student_params, alpha=1 - alpha_teacher)
    else:
        _update_loop(student_params, teacher_params, alpha_teacher)
    return alpha_teacher


def _update_loop(student_params: List[torch.Tensor], teacher_params: List[torch.Tensor], alpha_teacher: float) -> None:
    for ema_param, param in zip(teacher_params, student_params):
        ema_param.copy_(alpha_teacher * ema_param + (1 - alpha_teacher) * param)


def disable_dropout(model: nn.Module) -> None:
    """Switch every dropout (attention dropout included) and drop-path module of ``model`` off, leaving
    the rest (BatchNorm) in its mode, as the reference does for its teachers."""
    for module in model.modules():
        if isinstance(module, (nn.modules.dropout._DropoutNd, DropPath)):
            module.training = False


@torch.no_grad()
def teacher_logits(teacher: nn.Module, img: torch.Tensor, img_metas: Optional[List[dict]]) -> torch.Tensor:
    """The teacher's full-resolution logits of ``img``: dropout and drop-path off, BatchNorm in the
    teacher's own mode (training: batch statistics, as the reference), no gradient."""
    disable_dropout(teacher)
    return teacher.encode_decode(img, img_metas)
