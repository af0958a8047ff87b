"""Class-wise depth-distribution similarity of CDDA (spec ebda-cdda-ddb §2.4), vectorised.

A crop is described by its count matrix ``[C, 256]``: pixels per (class, depth bin). A target crop
(pseudo-label, depth) is compared with every crop n of the source bank ``S_num [N, C, 256]``:

- ``c_n``: cosine of the two C-vectors of class pixel counts;
- ``cos_{n,k}``: cosine of the class-k depth histograms (row-normalised; 0 for a zero row);
- ``l1_{n,k} = Σ_b |S_num[n,k,b] − T_num[k,b]| / (Σ_b S_num[n,k,b] + Σ_b T_num[k,b])`` (0 when both are empty);
- ``sim_{n,k} = (cos + 1 − l1) / 2``, 0 for classes absent from the target;
- ``total_n = c_n · Σ_k sim_{n,k}``, ``n* = argmax total``, image score ``m = total_{n*} / #present classes``.

The reference tiles the target matrix N times into ``[N, C, 256]`` temporaries per image; here the bank is
kept once as ``[C, N, 256]`` and the histogram dot products and L1 distances are batched matrix operations
(``bmm``, ``cdist(p=1)``) that produce only ``[C, N, B]`` outputs. Results equal the reference's up to float
rounding (the cosine uses raw counts, which is scale-invariant).
"""
from typing import NamedTuple

import torch
from torch import Tensor

from mmseg.datasets.transforms.depth_loading import DEPTH_BINS


def count_matrix(label: Tensor, depth: Tensor, num_classes: int = 19, bins: int = DEPTH_BINS) -> Tensor:
    """``[num_classes, bins]`` float32 pixel counts of (label, ``long(depth)``) for labels < ``num_classes``
    and bins in [0, bins) (the reference's ``create_matrix``; ignore and padding labels are dropped)."""
    if label.shape != depth.shape:
        raise ValueError(f'CDDA count matrix: label {tuple(label.shape)} and depth {tuple(depth.shape)} differ')
    label = label.reshape(-1).long()
    bin_index = depth.reshape(-1).long()
    keep = (label >= 0) & (label < num_classes) & (bin_index >= 0) & (bin_index < bins)
    flat = label[keep] * bins + bin_index[keep]
    return torch.bincount(flat, minlength=num_classes * bins).reshape(num_classes, bins).float()


def _cosine(dot: Tensor, norm_a: Tensor, norm_b: Tensor) -> Tensor:
    """``dot / (|a| |b|)``, 0 where a vector is zero."""
    denom = norm_a * norm_b
    return torch.where(denom > 0, dot / denom.clamp_min(torch.finfo(dot.dtype).tiny), torch.zeros_like(dot))


class DepthBank:
    """The source bank's count matrices ``[N, C, bins]``, kept once in the layout of the batched operations.

    Args:
        counts: ``[N, C, bins]`` pixel counts (the reference's ``{dataset}_{N}_distribution.pth``).
    """

    def __init__(self, counts: Tensor) -> None:
        if counts.dim() != 3:
            raise ValueError(f'CDDA bank counts: expected [N, classes, bins], got shape {tuple(counts.shape)}')
        counts = counts.float()
        self.num_crops, self.num_classes, self.bins = counts.shape
        self.by_class = counts.transpose(0, 1).contiguous()  # [C, N, bins]
        self.class_counts = counts.sum(dim=2)  # [N, C]
        self.norms = counts.norm(dim=2)  # [N, C]

    def to(self, device) -> 'DepthBank':
        """The bank's tensors on ``device``."""
        for name in ('by_class', 'class_counts', 'norms'):
            setattr(self, name, getattr(self, name).to(device))
        return self

    def crop_counts(self, index: int) -> Tensor:
        """``[C, bins]`` counts of crop ``index``."""
        return self.by_class[:, index]


class Similarity(NamedTuple):
    """Per target image: the quantities of spec §2.4 (``[N]`` / ``[N, C]`` over the bank)."""
    target_counts: Tensor  # T_num [C, bins]
    target_hist: Tensor  # T (row-normalised) [C, bins]
    class_cos: Tensor  # c_n [N]
    hist_cos: Tensor  # cos_{n,k} [N, C]
    count_l1: Tensor  # l1_{n,k} [N, C]
    class_sim: Tensor  # sim_{n,k} [N, C]
    total: Tensor  # total_n [N]
    absent: Tensor  # classes without target pixels [C] bool
    best: int  # n*
    best_sim: Tensor  # sim_{n*,·} [C]
    num_present: int  # K
    score: Tensor  # m = total_{n*} / K (0-dim)


def similarities(bank: DepthBank, target_counts: Tensor) -> list:
    """One :class:`Similarity` per target count matrix of ``target_counts`` ``[B, C, bins]``."""
    if tuple(target_counts.shape[1:]) != (bank.num_classes, bank.bins):
        raise ValueError(f'CDDA: target count matrices of shape {tuple(target_counts.shape[1:])} do not match the '
                         f'bank ({bank.num_classes} classes, {bank.bins} bins)')
    targets = target_counts.float().transpose(0, 1).contiguous()  # [C, B, bins]
    target_class = target_counts.float().sum(dim=2)  # [B, C]
    target_norms = target_counts.float().norm(dim=2)  # [B, C]
    dots = torch.bmm(bank.by_class, targets.transpose(1, 2))  # [C, N, B]
    l1_sum = torch.cdist(bank.by_class, targets, p=1)  # [C, N, B]
    results = []
    for i in range(target_counts.shape[0]):
        t_class = target_class[i]
        absent = t_class == 0
        hist_cos = _cosine(dots[:, :, i].T, bank.norms, target_norms[i][None])
        z = bank.class_counts + t_class[None]
        count_l1 = torch.where(z > 0, l1_sum[:, :, i].T / z.clamp_min(1), torch.zeros_like(z))
        class_sim = ((hist_cos + 1 - count_l1) / 2).masked_fill(absent[None], 0)
        class_cos = _cosine(bank.class_counts @ t_class, bank.class_counts.norm(dim=1), t_class.norm())
        total = class_sim.sum(dim=1) * class_cos
        best = int(torch.argmax(total))
        num_present = int((~absent).sum())
        hist = target_counts[i].float()
        row = hist.sum(dim=1, keepdim=True)
        results.append(Similarity(
            target_counts=hist, target_hist=torch.where(row > 0, hist / row.clamp_min(1), torch.zeros_like(hist)),
            class_cos=class_cos, hist_cos=hist_cos, count_l1=count_l1, class_sim=class_sim, total=total,
            absent=absent, best=best, best_sim=class_sim[best], num_present=num_present,
            score=total[best] / max(num_present, 1)))
    return results
