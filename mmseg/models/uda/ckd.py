"""DDB step 2: cross-path knowledge distillation (``CKD``, spec ebda-cdda-ddb §3.6).

A fresh student (``stu_model``, ImageNet initialisation) learns from two frozen teachers, the students of the two
step-1 runs: ``cu_model`` (ST on CutMix bridges, the coarse region path) and ``ca_model`` (ST on ClassMix bridges,
the fine class path). The teachers load their ST checkpoints at the first iteration (``model.*``, strictly: the ST
*students*, not their EMA teachers) and run in eval mode (BatchNorm running statistics). One iteration:

1. ``stu_src.decode.loss_ce``: the student on the source crop (the CKD data configs add PhotoMetricDistortion);
   backward.
2. The teachers on the **clean** target crop: logits ``z_k`` and features ``F_k`` at the crop size.
3. With ``proto_rectify``: prototype weights ``W_k = softmax_c(−(d_k,c − min_c d_k,c))``, ``d_k,c = ||F_k − P_k,c||``
   with the teacher's class prototypes ``P_k`` (``tools/compute_prototypes.py``); ``rectify_on_prob``:
   ``p̃_k = W_k·softmax(z_k)`` (**not renormalised**, the reference), else ``p̃_k = softmax(W_k·z_k)``; without
   rectification ``p̃_k = softmax(z_k)``.
4. Ensemble ``p̄ = (p̃_cu + p̃_ca) / 2``, pseudo-label ``argmax p̄``; weight 1 per pixel, or with ``use_pl_weight``
   the share q of pixels with ``max p̄ >= pseudo_threshold`` (over all processes in a distributed run).
5. ``stu_tgt.decode.loss_ce``: the student's weighted loss on the augmented target view (the ``'zero'`` bridging
   image: the same crop after colour jitter and blur); with ``soft_distill`` instead ``stu_tgt.loss_distill`` =
   ``soft_distill_w·T²·KL(t || s) / (B·H·W)`` with ``t = softmax((W_cu·z_cu + W_ca·z_ca) / 2 / T)`` (the logits
   are rectified here, whatever ``rectify_on_prob`` says) and ``s`` the student's softmax at temperature T;
   backward.

As in ST, the returned ``loss`` is the target loss only (the reference merges the log values that way). The
prototypes are fixed during CKD; they are non-persistent buffers, so a checkpoint holds ``stu_model.*``,
``cu_model.*`` and ``ca_model.*`` only, as the reference's.
"""
import copy
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from mmseg.registry import MODELS
from mmseg.utils.safe_checkpoint_load import load_checkpoint_file
from ..segmentors.encoder_decoder import add_prefix
from .bridging_uda import Bridging, BridgingUDA
from .ddb_checkpoint import check_stage_checkpoint, load_stage_checkpoint, st_student_state
from .pseudo_label import confident_fraction

PATHS = ('cu', 'ca')  # the coarse region path (CutMix) and the fine class path (ClassMix)
ST_STUDENT = 'ST student (model.* of an ST checkpoint)'


class TeacherOutput(NamedTuple):
    """A teacher's logits and features (B x C x H x W, B x F x H x W) at the crop size."""
    logits: Tensor
    feature: Tensor


class DistillationTargets(NamedTuple):
    """What the teachers give the student: per path the prototype weights and distances (None without
    rectification) and the rectified probabilities, the ensemble ``p̄``, its maximum and argmax, the pixel weight,
    and the rectified ensemble logits of the soft loss."""
    proto_weights: Dict[str, Optional[Tensor]]
    proto_distances: Dict[str, Optional[Tensor]]
    rectified: Dict[str, Tensor]
    ensemble: Tensor
    prob: Tensor
    label: Tensor
    weight: Tensor
    soft_logits: Tensor


def feature_prototype_distance(feature: Tensor, prototypes: Tensor) -> Tensor:
    """``||F − P_c||₂`` over the feature channels, B x C x H x W: the reference's per-class ``torch.norm`` of the
    differences (no ``||F||² − 2F·P + ||P||²`` expansion; the same values, about 8 times faster on CPU)."""
    batch, channels, height, width = feature.shape
    pixels = feature.permute(0, 2, 3, 1).reshape(batch, height * width, channels)
    distance = torch.cdist(pixels, prototypes.to(pixels.dtype).expand(batch, -1, -1),
                           compute_mode='donot_use_mm_for_euclid_dist')
    return distance.reshape(batch, height, width, -1).permute(0, 3, 1, 2)


def prototype_weights(feature: Tensor, prototypes: Tensor) -> tuple:
    """(``softmax_c(−(d − min_c d))``, d) of the feature-to-prototype distances d."""
    distance = feature_prototype_distance(feature, prototypes)
    nearest = distance.min(dim=1, keepdim=True)[0]
    return F.softmax(-(distance - nearest), dim=1), distance


def distillation_targets(teachers: Dict[str, TeacherOutput], prototypes: Optional[Dict[str, Tensor]],
                         rectify_on_prob: bool = True, use_pl_weight: bool = False,
                         pseudo_threshold: float = 0.968) -> DistillationTargets:
    """The ensemble pseudo-labels of the two teachers (``prototypes`` None: no rectification); see the module
    docstring, steps 3-4."""
    weights, distances, rectified, soft_logits = {}, {}, {}, []
    for path in PATHS:
        logits, feature = teachers[path]
        if prototypes is None:
            weights[path] = distances[path] = None
            rectified[path] = F.softmax(logits, dim=1)
            soft_logits.append(logits)
            continue
        weights[path], distances[path] = prototype_weights(feature, prototypes[path])
        rectified[path] = (weights[path] * F.softmax(logits, dim=1) if rectify_on_prob
                           else F.softmax(weights[path] * logits, dim=1))
        soft_logits.append(weights[path] * logits)
    ensemble = 0.5 * rectified['cu'] + 0.5 * rectified['ca']
    prob, label = torch.max(ensemble, dim=1)
    weight = torch.ones_like(prob)
    if use_pl_weight:
        weight = weight * confident_fraction(prob, pseudo_threshold).to(prob.dtype)
    return DistillationTargets(weights, distances, rectified, ensemble, prob, label, weight,
                               (soft_logits[0] + soft_logits[1]) / 2)


def soft_distillation_loss(student_logits: Tensor, target_logits: Tensor, temp: float, weight: float) -> Tensor:
    """``weight·T²·Σ t·(log t − log s) / (B·H·W)`` with ``t = softmax(target / T)``, ``s = softmax(student / T)``
    (the reference: ``kl_div(..., 'batchmean') / (H·W)``)."""
    student = F.log_softmax(student_logits / temp, dim=1)
    target = F.softmax(target_logits / temp, dim=1)
    height, width = student_logits.shape[-2:]
    return F.kl_div(student, target, reduction='batchmean') / (height * width) * weight * temp ** 2


def prototype_command(checkpoint: str, prototypes: str) -> str:
    """The command that writes the prototypes of an ST checkpoint, with the config its run directory holds
    (``<run>/<run name>.py``) when there is one."""
    run_dir = Path(checkpoint).parent
    run_config = run_dir / f'{run_dir.name}.py'
    config = str(run_config) if run_config.is_file() else '<the ST config of this checkpoint>'
    return f'python tools/compute_prototypes.py {config} {checkpoint} --out {prototypes}'


@MODELS.register_module()
class CKD(BridgingUDA):
    """Args (reference names and defaults of ``configs/_base_/uda/ckd.py``):
        pseudo_threshold: confidence threshold of the pixel weight with ``use_pl_weight``.
        teacher_model_cfg: the teachers' segmentor config (None: the student's).
        cu_model_load_from, ca_model_load_from: the ST-cu / ST-ca checkpoints.
        soft_distill, soft_distill_w, temp: the soft loss (off in every released config), its weight and
            temperature.
        proto_rectify, rectify_on_prob: prototype rectification (on in every released config) and where it
            applies (probabilities: the reference default).
        cu_proto_path, ca_proto_path: the teachers' prototypes ([num_classes, feature channels] tensors).
        use_pl_weight: weight the pixels by the confident share q instead of 1.
        imnet_feature_dist_lambda: must be 0 (the reference's FD keys; no DDB config enables FD).
        debug_img_interval: iterations between debug panels (source, target, student view, labels) in
            ``<work_dir>/class_mix_debug``; 0 turns them off.
    """

    STUDENT = 'stu_model'

    def __init__(self, model: dict, max_iters: Optional[int] = None, pseudo_threshold: float = 0.968,
                 teacher_model_cfg: Optional[dict] = None, cu_model_load_from: str = '', ca_model_load_from: str = '',
                 soft_distill: bool = False, soft_distill_w: float = 0.1, proto_rectify: bool = False,
                 rectify_on_prob: bool = True, use_pl_weight: bool = False, temp: float = 1, cu_proto_path: str = '',
                 ca_proto_path: str = '', imnet_feature_dist_lambda: float = 0,
                 imnet_feature_dist_classes: Optional[List[int]] = None,
                 imnet_feature_dist_scale_min_ratio: Optional[float] = None, debug_img_interval: int = 1000,
                 work_dir: Optional[str] = None, **kwargs):
        super().__init__(model=model, max_iters=max_iters, **kwargs)
        if imnet_feature_dist_lambda:
            raise ValueError(f'CKD imnet_feature_dist_lambda={imnet_feature_dist_lambda}: the ImageNet feature '
                             'distance is not supported for CKD (no DDB config enables it); set it to 0')
        if temp <= 0:
            raise ValueError(f'CKD temp={temp}; expected a positive temperature')
        self.pseudo_threshold = pseudo_threshold
        self.soft_distill = soft_distill
        self.soft_distill_w = soft_distill_w
        self.proto_rectify = proto_rectify
        self.rectify_on_prob = rectify_on_prob
        self.use_pl_weight = use_pl_weight
        self.temp = temp
        self.debug_img_interval = debug_img_interval
        self.work_dir = work_dir
        # the teachers' weights come from the ST checkpoints: no ImageNet weights to load for them
        teacher_cfg = dict(copy.deepcopy(teacher_model_cfg or self.model_cfg), pretrained=None)
        self.teacher_load_from = dict(cu=cu_model_load_from, ca=ca_model_load_from)
        for path in PATHS:
            setattr(self, f'{path}_model', MODELS.build(copy.deepcopy(teacher_cfg)).requires_grad_(False))
            self._check_teacher_checkpoint(path)
        self.has_prototypes = proto_rectify
        if proto_rectify:
            for path, proto_path in zip(PATHS, (cu_proto_path, ca_proto_path)):
                self.register_buffer(f'{path}_prototypes', self._read_prototypes(path, proto_path), persistent=False)
        self.local_iter = 0

    def teacher(self, path: str) -> torch.nn.Module:
        """The frozen ST student of ``path`` ('cu' or 'ca')."""
        return getattr(self, f'{path}_model')

    def _check_teacher_checkpoint(self, path: str) -> None:
        checkpoint = self.teacher_load_from[path]
        key = f'uda.{path}_model_load_from'
        if not checkpoint:
            raise ValueError(f'CKD needs the ST-{path} checkpoint of its teacher: {key} is empty (the DDB pipeline, '
                             '`run_experiments.py --config configs/ddb/<setting>_ddb.py`, fills it in)')
        if not Path(checkpoint).is_file():
            raise FileNotFoundError(f'{key}={checkpoint!r}: no such checkpoint; train the ST-{path} stage first (or '
                                    'run the whole DDB pipeline, `run_experiments.py --config '
                                    'configs/ddb/<setting>_ddb.py`, which hands the checkpoints over)')
        check_stage_checkpoint(self.teacher(path), checkpoint, st_student_state, key, ST_STUDENT)

    def _read_prototypes(self, path: str, proto_path: str) -> Tensor:
        """The [num_classes, feature channels] prototypes of teacher ``path``; errors say how to make them."""
        key = f'uda.{path}_proto_path'
        command = prototype_command(self.teacher_load_from[path], proto_path or '<prototypes file>')
        if not proto_path or not Path(proto_path).is_file():
            raise FileNotFoundError(f'CKD proto_rectify=True needs the prototypes of the ST-{path} teacher: {key}='
                                    f'{proto_path!r} does not exist. Make them with:\n  {command}')
        prototypes = load_checkpoint_file(Path(proto_path))
        expected = (self.num_classes, self.get_model().decode_head.channels)
        if not torch.is_tensor(prototypes) or tuple(prototypes.shape) != expected:
            found = tuple(prototypes.shape) if torch.is_tensor(prototypes) else type(prototypes).__name__
            raise ValueError(f'{key}={proto_path!r}: expected a {list(expected)} tensor (classes x feature channels '
                             f'of the decode head), found {found}; make the prototypes of this teacher with:\n'
                             f'  {command}')
        return prototypes.float()

    def prototypes(self) -> Optional[Dict[str, Tensor]]:
        """The teachers' prototypes, None without rectification."""
        return {path: getattr(self, f'{path}_prototypes') for path in PATHS} if self.has_prototypes else None

    @torch.no_grad()
    def teacher_outputs(self, target_img: Tensor, target_img_metas: List[dict]) -> Dict[str, TeacherOutput]:
        """Both teachers' logits and features of the clean target crop, at its size."""
        return {path: TeacherOutput(*self.teacher(path).encode_decode(target_img, target_img_metas,
                                                                      return_feature=True))
                for path in PATHS}

    def forward_train(self, img: Tensor, img_metas: List[dict], gt_semantic_seg: Tensor, target_img: Tensor,
                      target_img_metas: List[dict], bridging: Bridging,
                      backward: Callable = Tensor.backward) -> Dict[str, Tensor]:
        """The reference ``CKD.forward_train``; the losses are back-propagated here."""
        student = self.get_model()
        if self.local_iter == 0:
            for path in PATHS:
                load_stage_checkpoint(self.teacher(path), self.teacher_load_from[path], st_student_state,
                                      f'uda.{path}_model_load_from', ST_STUDENT)
        for path in PATHS:
            self.teacher(path).eval()

        source_loss, log_vars = self.parse_losses(add_prefix(student.forward_train(img, img_metas, gt_semantic_seg),
                                                             'stu_src'))
        backward(source_loss)

        targets = distillation_targets(self.teacher_outputs(target_img, target_img_metas), self.prototypes(),
                                       self.rectify_on_prob, self.use_pl_weight, self.pseudo_threshold)
        if self.soft_distill:
            target_losses = dict(loss_distill=soft_distillation_loss(
                student.encode_decode(bridging.img, target_img_metas), targets.soft_logits, self.temp,
                self.soft_distill_w))
        else:
            target_losses = student.forward_train(bridging.img, target_img_metas, targets.label.unsqueeze(1),
                                                  targets.weight)
        target_loss, target_log = self.parse_losses(add_prefix(target_losses, 'stu_tgt'))
        log_vars.update(target_log)  # the reference's quirk: 'loss' is now the target loss only
        backward(target_loss)
        self.write_debug_panel(img, img_metas, target_img, bridging, gt_semantic_seg, targets.label, targets.weight,
                               targets.label.unsqueeze(1))
        self.local_iter += 1
        return log_vars
