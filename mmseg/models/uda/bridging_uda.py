"""Base of DDB's wrappers (ST, CKD): one training step on a batch of :class:`~mmseg.datasets.DomainBridgingDataset`.

The batch holds the source (``inputs``, ``data_samples``), the target (``target_inputs``, ``target_data_samples``)
and the bridged images (``bridging_inputs``, float BGR pixel values, and ``bridging_mask``). The data
pre-processor normalises and pads all three alike; the masks are padded with 0 (target pixels) to the same size.
``forward_train`` back-propagates its losses one by one (gradients accumulate, as the reference); in a distributed
run the gradients are then averaged over the processes (see :class:`~mmseg.engine.UDADistributedDataParallel`),
and the optimiser steps once.
"""
from typing import Callable, Dict, List, NamedTuple

import torch
import torch.nn.functional as F
from mmengine.dist import is_main_process
from torch import Tensor

from mmseg.utils.gradient_sync import average_gradients
from ..utils.dacs_transforms import get_mean_std
from .debug_visualization import write_class_mix_debug
from .uda_decorator import UDADecorator

BRIDGING_KEYS = ('bridging_inputs', 'bridging_mask')


class Bridging(NamedTuple):
    """The pre-processed bridged images (B x 3 x H x W) and their masks (B x 1 x H x W int64, 1 = source)."""
    img: Tensor
    mask: Tensor


def _pad_to(tensor: Tensor, size: tuple, value: float) -> Tensor:
    """``tensor`` (..., h, w) padded at the bottom and right to ``size`` (H, W) with ``value``."""
    return F.pad(tensor, (0, size[1] - tensor.shape[-1], 0, size[0] - tensor.shape[-2]), value=value)


class BridgingUDA(UDADecorator):
    """A UDA wrapper trained on domain-bridging batches; subclasses define :meth:`forward_train` and the attributes
    ``local_iter``, ``work_dir`` and ``debug_img_interval``."""

    def preprocess_bridging(self, data: dict, size: tuple) -> Bridging:
        """The bridged images of ``data`` normalised and padded to ``size`` (H, W) like the source and target, and
        their masks padded with 0."""
        missing = [key for key in BRIDGING_KEYS if key not in data]
        if missing:
            raise KeyError(f'{type(self).__name__} trains on DomainBridgingDataset batches; the batch has no '
                           f'{missing} (train_dataloader.dataset.type must be DomainBridgingDataset)')
        img = self.data_preprocessor(dict(inputs=data['bridging_inputs']), True)['inputs']
        masks = torch.stack([_pad_to(mask, size, 0) for mask in data['bridging_mask']])
        return Bridging(_pad_to(img, size, self.data_preprocessor.pad_val), masks.to(img.device, torch.int64))

    def train_step(self, data: dict, optim_wrapper) -> Dict[str, Tensor]:
        """One iteration on ``data``; returns the detached log values."""
        source = self.data_preprocessor(dict(inputs=data['inputs'], data_samples=data['data_samples']), True)
        target = self.data_preprocessor(
            dict(inputs=data['target_inputs'], data_samples=data['target_data_samples']), True)
        bridging = self.preprocess_bridging(data, tuple(target['inputs'].shape[-2:]))
        gt = torch.stack([s.gt_sem_seg.data for s in source['data_samples']]).long()
        with optim_wrapper.optim_context(self):
            log_vars = self.forward_train(source['inputs'], [s.metainfo for s in source['data_samples']], gt,
                                          target['inputs'], [s.metainfo for s in target['data_samples']], bridging,
                                          optim_wrapper.backward)
        average_gradients(self.parameters())
        optim_wrapper.step()
        optim_wrapper.zero_grad()
        return {name: value.detach() for name, value in log_vars.items()}

    def write_debug_panel(self, img: Tensor, img_metas: List[dict], target_img: Tensor, bridging: Bridging,
                          gt_semantic_seg: Tensor, pseudo_label: Tensor, weight: Tensor, label: Tensor) -> None:
        """On a debug iteration, the panels of ``<work_dir>/class_mix_debug``: source, target, the bridged image and
        its mask, the labels, the pseudo-labels (B x H x W) and the weights and labels of the bridged image.
        Debug iterations: every ``debug_img_interval`` iterations (0: never), iteration 0 included, when the wrapper
        has a ``work_dir``; with several processes only the main one writes."""
        if (self.work_dir is None or self.debug_img_interval <= 0 or self.local_iter % self.debug_img_interval
                or not is_main_process()):
            return
        means, stds = get_mean_std(img_metas, img.device)
        write_class_mix_debug(self.work_dir, self.local_iter, img, target_img, bridging.img, means, stds,
                              gt_semantic_seg, pseudo_label, list(bridging.mask.unsqueeze(1)), weight, label)

    def forward_train(self, img: Tensor, img_metas: List[dict], gt_semantic_seg: Tensor, target_img: Tensor,
                      target_img_metas: List[dict], bridging: Bridging,
                      backward: Callable = Tensor.backward) -> Dict[str, Tensor]:
        raise NotImplementedError(f'{type(self).__name__} must define forward_train (one DDB iteration)')
