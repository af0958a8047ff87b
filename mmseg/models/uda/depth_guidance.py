"""CDDA, the depth-distribution guidance add-on of DACS (spec ebda-cdda-ddb §2.4-§2.9).

Per target crop the most similar crop n* of a source bank is found (:mod:`.depth_similarity`); if the
image score m passes a threshold, CDDA

- reweights the pseudo-label weight class-wise by the class similarity (``m > reweight threshold``),
  and gives ClassMix the bank crop n* instead of the source crop;
- relabels: classes present in n* but absent from the pseudo-label are injected as soft labels, with
  a depth-conditioned prior from n*, into a guidance loss ``0.1·q·CE_soft`` of the student on the clean
  target crop (``m > relabel threshold``; the relabel threshold is the lower one).

Both thresholds drop by ``threshold_decay`` at every ``decay_interval``-th iteration of
[``decay_start``, ``decay_end``) — here a function of the iteration, so a resumed run continues exactly.

Reference quirks reproduced by default, each with a flag for the fix:

- ``legacy_row0_mask``: the reweighting's class mask is built from the first row of the pseudo-label
  (columns / rows whose row-0 label is the class) instead of the per-pixel mask (square crops only);
- ``legacy_exact_depth_gate``: a class is injected only if some target depth value *equals* an integer bin
  with a non-zero prior (else: if some pixel falls into such a bin);
- ``legacy_last_class_flag``: the guidance loss fires only if the gate of the last processed class passed
  (else: if any class was injected);
- ``legacy_threshold_state``: thresholds as mutable state decremented per call (a resume restarts them).
"""
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from mmseg.datasets.cdda_bank import CropBank, check_bank
from mmseg.utils import check_config_keys
from ..segmentors.hrda_encoder_decoder import HRDAEncoderDecoder
from ..utils.resize import resize
from .depth_similarity import DepthBank, Similarity, count_matrix, similarities

#: Data sets of the reference's ``dataset`` key and the classes their reweighting skips (SYNTHIA has no
#: terrain, truck, train).
SKIPPED_CLASSES: Dict[str, Tuple[int, ...]] = {'gta': (), 'synthia': (9, 14, 16)}
#: Class similarity knots of the reweighting: below LOW weight 0, above HIGH weight 1 on confident pixels,
#: linear in between.
LOW_SIMILARITY, HIGH_SIMILARITY = 0.1, 0.75
#: Largest injected prior (a bin that is 100 % one class would otherwise give 1, the one-hot value).
MAX_PRIOR = 0.99999
CDDA_KEYS = ('dataset', 'reweight_threshold', 'relabel_threshold', 'threshold_decay', 'decay_start',
             'decay_interval', 'decay_end', 'guidance_weight', 'bank_dir', 'bank_fingerprint', 'num_crops',
             'legacy_row0_mask', 'legacy_exact_depth_gate', 'legacy_last_class_flag', 'legacy_threshold_state')
REQUIRED_KEYS = ('dataset', 'reweight_threshold', 'relabel_threshold', 'threshold_decay')


def threshold_decay_steps(iteration: int, start: int = 10000, interval: int = 1000, end: int = 40000) -> int:
    """How many decrements are in effect at ``iteration``: the number of t in [start, end) with
    ``t % interval == 0`` and ``t <= iteration`` (reference: 30 steps at t = 10k, 11k, ..., 39k)."""
    last = min(iteration, end - 1)
    if last < start:
        return 0
    return last // interval - (start - 1) // interval


def reweight(weight: Tensor, label: Tensor, confident: Tensor, sims: Sequence[Similarity], threshold: float,
             skipped: Sequence[int] = (), legacy_row0_mask: bool = True) -> Tuple[Tensor, List[int]]:
    """Class-wise reweighting (spec §2.5) of ``weight`` (B x H x W, in place) for the images whose score is
    strictly above ``threshold``; returns the weight and n* per image (-1 where the score does not pass).

    For each class k present in the pseudo-label ``label`` (in order 0..C-1, later classes overwrite) with
    s = max(sim*_k, 0): s > 0.75 → 1 on its ``confident`` pixels, s < 0.1 → 0, else (s − 0.1) / 0.65.
    ``legacy_row0_mask``: the reference's mask from row 0 of the label (columns in the first branch, rows in
    the others; square crops only).
    """
    bank_index = []
    for i, sim in enumerate(sims):
        if not sim.score > threshold:
            bank_index.append(-1)
            continue
        bank_index.append(sim.best)
        if legacy_row0_mask and label.shape[-1] != label.shape[-2]:
            raise ValueError(f'CDDA legacy_row0_mask needs square target crops (the reference indexes rows with '
                             f'a row-0 mask), got {tuple(label.shape[-2:])}; set legacy_row0_mask=False')
        class_sim = sim.best_sim.clamp(min=0)
        for k in torch.nonzero(~sim.absent).flatten().tolist():
            if k in skipped:
                continue
            s = class_sim[k]
            mask = label[i][0] == k if legacy_row0_mask else label[i] == k
            if s > HIGH_SIMILARITY:
                weight[i][mask & confident[i]] = 1
            elif s < LOW_SIMILARITY:
                weight[i][mask] = 0
            else:
                weight[i][mask] = (s - LOW_SIMILARITY) / (HIGH_SIMILARITY - LOW_SIMILARITY)
    return weight, bank_index


class Relabel(NamedTuple):
    """The relabeling of a batch (spec §2.6)."""
    soft_target: Optional[Tensor]  # B x C x H x W, None when no image passed the threshold
    fire: bool  # whether the guidance loss is computed
    messages: List[dict]  # per image: flag, and with flag the injected classes, target bin counts, n*
    gates: List[Tuple[int, int, bool]]  # (image, class, gate) in processing order


def depth_prior(bank_counts: Tensor) -> Tensor:
    """``[C, bins]``: the share of each class among the crop's pixels of each depth bin (0 for empty bins),
    values >= 1 set to 0.99999."""
    per_bin = bank_counts.sum(dim=0, keepdim=True)
    prior = torch.where(per_bin > 0, bank_counts / per_bin.clamp_min(1), torch.zeros_like(bank_counts))
    return prior.masked_fill(prior >= 1, MAX_PRIOR)


def relabel(label: Tensor, depth: Tensor, sims: Sequence[Similarity], bank: DepthBank, threshold: float,
            num_classes: int, legacy_exact_depth_gate: bool = True, legacy_last_class_flag: bool = True) -> Relabel:
    """Soft targets for the images whose score is strictly above ``threshold`` (spec §2.6): one-hot of the
    pseudo-label, plus for every class k absent from it and present in n* the prior π_k(bin) on the pixels
    whose depth bin has π_k > 0 (if k passes the gate)."""
    soft, fire, messages, gates = None, False, [], []
    for i, sim in enumerate(sims):
        if not sim.score > threshold:
            messages.append(dict(flag=False))
            continue
        crop_counts = bank.crop_counts(sim.best)
        inject = sim.absent & (crop_counts.sum(dim=1) > 0)
        messages.append(dict(flag=True, cls_mask=inject, tgt_dep_num=sim.target_counts.sum(dim=0), max_idx=sim.best))
        if soft is None:  # one-hot of the pseudo-label (an argmax: every label < num_classes)
            soft = torch.zeros(label.shape[0], num_classes, *label.shape[1:], device=label.device)
            soft.scatter_(1, label.long()[:, None], 1.0)
        prior = depth_prior(crop_counts)
        bins = depth[i].long().clamp(0, prior.shape[1] - 1)
        for k in torch.nonzero(inject).flatten().tolist():
            on_bins = prior[k] > 0
            if legacy_exact_depth_gate:
                gate = bool(torch.isin(depth[i], torch.nonzero(on_bins).flatten().to(depth.dtype)).any())
            else:
                gate = bool(on_bins[bins].any())
            fire = gate if legacy_last_class_flag else (fire or gate)
            gates.append((i, k, gate))
            if gate:
                values = prior[k][bins]
                soft[i, k] = torch.where(values > 0, values, soft[i, k])
    return Relabel(soft, fire, messages, gates)


def fix_soft_target(soft_target: Tensor) -> Tensor:
    """The reference's row fix-up of a B x C x H x W soft target: where a pixel's soft target sums to > 1, its
    entry equal to 1 (the pseudo-class) becomes ``2 − sum`` = 1 − Σ injected."""
    total = soft_target.sum(dim=1, keepdim=True)
    return torch.where((total > 1) & (soft_target == 1), 2 - total, soft_target)


def guidance_loss(logits: Tensor, soft_target: Tensor, weight: Tensor) -> Tuple[Tensor, Tensor]:
    """``mean(weight · CE_soft)`` and the per-pixel soft cross-entropy (B x H x W): ``logits`` (B x C x h x w)
    bilinearly up-sampled (``align_corners=False``) to the soft target's H x W (B x C x H x W, fixed up),
    ``weight`` B x H x W (the reference's constant 0.1·q)."""
    target = fix_soft_target(soft_target)
    logits = resize(logits.float(), size=target.shape[2:], mode='bilinear', align_corners=False)
    pixel_ce = -(F.log_softmax(logits, dim=1) * target).sum(dim=1)
    return (pixel_ce * weight).mean(), pixel_ce


def student_logits(model: torch.nn.Module, img: Tensor) -> Tensor:
    """The logits of a training forward at the decoder's resolution: DAFormer's decode head; HRDA's fused
    output (context everywhere, detail in a freshly drawn crop), as the reference's early return."""
    if isinstance(model, HRDAEncoderDecoder):
        feats = model.forward_train_features(img)
        try:
            return model.decode_head.forward(feats)[0]
        finally:
            model.decode_head.reset_crop()
    return model.decode_head.forward(model.extract_feat(img))


def replace_sources(img: Tensor, gt: Tensor, bank_index: Sequence[int], crop: Callable[[int], Tuple[Tensor, Tensor]],
                    mean: Tensor, std: Tensor) -> Tuple[Tensor, Tensor]:
    """The ClassMix sources (spec §2.7): for each image with ``bank_index[i] >= 0`` the bank crop's image
    (``crop(n)`` gives (H x W x 3 BGR uint8, H x W uint8 label)), RGB, normalised with ``mean`` / ``std`` (3-vectors,
    0..255 scale), and its label (1 x H x W int64); the others keep ``img`` / ``gt``. New tensors; inputs untouched."""
    if all(n < 0 for n in bank_index):
        return img, gt
    img, gt = img.clone(), gt.clone()
    for i, n in enumerate(bank_index):
        if n < 0:
            continue
        image, label = crop(n)
        if tuple(label.shape) != tuple(gt.shape[-2:]):
            raise ValueError(f'CDDA bank crop {n} is {tuple(label.shape)} but the training crops are '
                             f'{tuple(gt.shape[-2:])}; the bank was made for another crop size')
        rgb = torch.as_tensor(image, device=img.device)[..., [2, 1, 0]].permute(2, 0, 1).float()
        img[i] = (rgb - mean.reshape(3, 1, 1)) / std.reshape(3, 1, 1)
        gt[i] = torch.as_tensor(label, device=gt.device).long()[None]
    return img, gt


class GuidanceStep(NamedTuple):
    """What CDDA decided for one batch."""
    weight: Tensor  # reweighted pseudo-label weight (before the crop / valid mask)
    bank_index: List[int]  # n* per image for the ClassMix source, -1: keep the source crop
    soft_target: Optional[Tensor]  # B x C x H x W when the guidance loss fires, else None
    guidance_weight: Optional[Tensor]  # B x H x W (0.1·q) when the guidance loss fires
    scores: Tensor  # image scores m (B)


class DepthGuidance:
    """CDDA settings and its step (reference names of the ``uda`` keys).

    Args:
        dataset: ``'gta'`` or ``'synthia'`` (SYNTHIA skips classes 9, 14, 16 in the reweighting).
        reweight_threshold, relabel_threshold: image-score thresholds at iteration 0 (strict ``>``).
        threshold_decay: decrement of both thresholds at every ``decay_interval``-th iteration in
            [``decay_start``, ``decay_end``) (reference: 10000, 1000, 40000).
        guidance_weight: factor of q in the guidance loss weight (reference 0.1).
        bank_dir: folder of the source bank (``tools/cdda_preprocess.py``); None: the default location of the
            config, filled in by ``runner_config``.
        bank_fingerprint: the config's description of the bank (checked against the bank's ``meta.json``).
        num_crops: bank size N (None: one crop per source image, as the reference's 24966 / 9400).
        confidence_threshold: pseudo-label confidence of the ``s > 0.75`` branch (DACS's ``pseudo_threshold``).
        num_classes: classes of the count matrices.
        legacy_*: the reference quirks (module docstring), True by default.
        bank: a :class:`DepthBank` and a crop function ``n -> (BGR uint8, label uint8)`` instead of ``bank_dir``.
    """

    def __init__(self, dataset: str, reweight_threshold: float, relabel_threshold: float, threshold_decay: float,
                 decay_start: int = 10000, decay_interval: int = 1000, decay_end: int = 40000,
                 guidance_weight: float = 0.1, bank_dir: Optional[str] = None, bank_fingerprint: Optional[dict] = None,
                 num_crops: Optional[int] = None, confidence_threshold: float = 0.968, num_classes: int = 19,
                 legacy_row0_mask: bool = True, legacy_exact_depth_gate: bool = True,
                 legacy_last_class_flag: bool = True, legacy_threshold_state: bool = False,
                 bank: Optional[Tuple[DepthBank, Callable]] = None) -> None:
        if dataset not in SKIPPED_CLASSES:
            raise ValueError(f'cdda.dataset={dataset!r}; expected one of {sorted(SKIPPED_CLASSES)}')
        if decay_interval <= 0 or decay_end < decay_start:
            raise ValueError(f'cdda: decay_interval={decay_interval} must be > 0 and decay_end={decay_end} >= '
                             f'decay_start={decay_start}')
        self.dataset = dataset
        self.reweight_threshold = reweight_threshold
        self.relabel_threshold = relabel_threshold
        self.threshold_decay = threshold_decay
        self.decay = (decay_start, decay_interval, decay_end)
        self.guidance_weight = guidance_weight
        self.confidence_threshold = confidence_threshold
        self.num_classes = num_classes
        self.legacy_row0_mask = legacy_row0_mask
        self.legacy_exact_depth_gate = legacy_exact_depth_gate
        self.legacy_last_class_flag = legacy_last_class_flag
        self.legacy_threshold_state = legacy_threshold_state
        self._state_thresholds = [reweight_threshold, relabel_threshold]
        self.num_crops = num_crops
        self.bank_dir = bank_dir
        self.bank_fingerprint = bank_fingerprint
        self._bank, self._crop = bank if bank is not None else (None, None)
        if bank is None:
            check_bank(bank_dir, dataset, bank_fingerprint)

    @classmethod
    def from_config(cls, cfg: dict, confidence_threshold: float, num_classes: int) -> 'DepthGuidance':
        """From the ``cdda`` dict of DACS: unknown and missing keys are errors (the reference silently runs
        without CDDA when one of its keys is missing)."""
        check_config_keys(cfg, CDDA_KEYS, 'DACS cdda')
        missing = [key for key in REQUIRED_KEYS if key not in cfg]
        if missing:
            raise ValueError(f'DACS cdda: missing keys {missing}; required: {", ".join(REQUIRED_KEYS)}')
        return cls(**cfg, confidence_threshold=confidence_threshold, num_classes=num_classes)

    def thresholds(self, iteration: int) -> Tuple[float, float]:
        """(reweight, relabel) thresholds in effect at ``iteration``. With ``legacy_threshold_state`` each call
        at a decay iteration decrements the state again, as the reference."""
        start, interval, end = self.decay
        if self.legacy_threshold_state:
            if start <= iteration < end and iteration % interval == 0:
                self._state_thresholds = [t - self.threshold_decay for t in self._state_thresholds]
            return tuple(self._state_thresholds)
        steps = threshold_decay_steps(iteration, start, interval, end)
        return (self.reweight_threshold - steps * self.threshold_decay,
                self.relabel_threshold - steps * self.threshold_decay)

    def bank(self, device) -> DepthBank:
        """The source bank's counts on ``device`` (loaded at the first call)."""
        if self._bank is None:
            crop_bank = CropBank(self.bank_dir)
            self._bank, self._crop = DepthBank(crop_bank.counts()), crop_bank.crop
        if self._bank.by_class.device != torch.device(device):
            self._bank.to(device)
        return self._bank

    def crop(self, index: int) -> Tuple[Tensor, Tensor]:
        """Bank crop ``index``: (H x W x 3 BGR uint8, H x W uint8 label)."""
        return self._crop(index)

    def step(self, iteration: int, label: Tensor, prob: Tensor, fraction: Tensor, depth: Tensor) -> GuidanceStep:
        """Similarity, reweighting and relabeling of a batch: ``label`` / ``prob`` the teacher's pseudo-label and
        its probability (B x H x W), ``fraction`` the batch's confident share q, ``depth`` B x H x W."""
        if depth is None:
            raise ValueError('CDDA needs target depth maps: put LoadDepthMap in the target pipeline and give the '
                             "target data set data_prefix depth_path")
        if tuple(depth.shape) != tuple(label.shape):
            raise ValueError(f'CDDA: target depth maps {tuple(depth.shape)} differ from the pseudo-labels '
                             f'{tuple(label.shape)}')
        bank = self.bank(label.device)
        reweight_thr, relabel_thr = self.thresholds(iteration)
        counts = torch.stack([count_matrix(label[i], depth[i], self.num_classes, bank.bins)
                              for i in range(label.shape[0])])
        sims = similarities(bank, counts)
        q_map = torch.ones_like(prob) * fraction.to(prob.dtype)
        weight, bank_index = reweight(q_map.clone(), label, prob >= self.confidence_threshold, sims, reweight_thr,
                                      SKIPPED_CLASSES[self.dataset], self.legacy_row0_mask)
        relabeled = relabel(label, depth, sims, bank, relabel_thr, self.num_classes, self.legacy_exact_depth_gate,
                            self.legacy_last_class_flag)
        fire = relabeled.fire and relabeled.soft_target is not None
        return GuidanceStep(weight, bank_index, relabeled.soft_target if fire else None,
                            self.guidance_weight * q_map if fire else None,
                            torch.stack([sim.score for sim in sims]))

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(dataset={self.dataset!r}, reweight_threshold={self.reweight_threshold}, '
                f'relabel_threshold={self.relabel_threshold}, threshold_decay={self.threshold_decay}, '
                f'decay={self.decay}, bank_dir={self.bank_dir!r})')

