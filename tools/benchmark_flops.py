"""FLOPs of one UDA training iteration by part, with PyTorch's FLOP counter (``tools/benchmark.py --flops``).

The wrapper of a config (student, EMA teacher, ImageNet model) is built on the meta device, so
that MiT-B5 at 1024x1024 counts in seconds without a GPU, and one ``forward_train`` of the DACS
step (spec §5.2) runs under :class:`torch.utils.flop_counter.FlopCounterMode` on a synthetic batch
of the config's crop size. Each call of the student's ``forward_train``, of the teacher's
``encode_decode``, of the ImageNet model's ``extract_feat`` and of each loss's backward pass is
counted as a part of its own; the rest (EMA update, pseudo-labels, ClassMix, loss values) is
"other". The counter counts matrix products, convolutions and attention (forward and backward);
element-wise work (normalisation, activations, softmax, the losses themselves, colour jitter, the
EMA and AdamW updates) is not counted: it is bound by memory traffic, not by the tensor cores.

Three things of the step depend on data the meta device does not hold: the ClassMix masks are
drawn from the CPU copy of the labels (same function, same shapes), the feature-distance mask is
taken as all-true (its size changes no counted FLOP), and a value read on the host is 0 (the only
one is HRDA's check that the detail crops cover the image, whose answer is False). The Gaussian
blur of the mixed images (done in 50 % of the iterations) is counted apart: DACS's (one depthwise
convolution with the full 2-D kernel, as the original's kornia 0.5.8) and, for comparison, the
separable one of today's kornia (two 1-D passes, the same result up to rounding).
"""
import contextlib
import copy
from typing import Callable, Dict, List, Optional, Tuple
from unittest import mock

import kornia
import torch
import torch.fx.experimental._config as fx_config
from mmengine.config import Config
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode, conv_flop_count

import mmseg.models.uda.dacs as dacs_module
from mmseg.apis.train_config import runner_config
from mmseg.models.segmentors.encoder_decoder import build_data_preprocessor
from mmseg.models.utils.dacs_transforms import blur_kernel_size, gaussian_blur, get_class_masks
from mmseg.registry import MODELS

H100_BF16_DENSE_TFLOPS = 790.0  # an H100 SXM's dense bfloat16 tensor-core peak (about 789 TFLOP/s)
SUSTAINED_FRACTION = 0.4
BLUR_PROBABILITY = 0.5  # DACS blurs the mixed images when its U(0, 1) draw exceeds 0.5


def conv_backward_flop(grad_out_shape, x_shape, w_shape, _bias, _stride, _padding, _dilation, transposed,
                       _output_padding, _groups, output_mask, out_shape=None, **kwargs) -> int:
    """FLOPs of a convolution's backward pass: one forward's worth per gradient asked for (input, weight).

    PyTorch's own formula counts the weight gradient of a grouped convolution as if it were dense
    (257x the forward for a 256-channel depthwise 3x3 convolution, torch 2.13); MiT's Mix-FFN and the
    DAFormer head's separable ASPP are depthwise, so the counter would report 11x the forward.
    """
    forward = conv_flop_count(x_shape, w_shape, grad_out_shape, transposed)
    return forward * (int(bool(output_mask[0])) + int(bool(output_mask[1])))


def flop_counter() -> FlopCounterMode:
    """PyTorch's FLOP counter with the grouped-convolution backward counted correctly."""
    return FlopCounterMode(display=False, custom_mapping={torch.ops.aten.convolution_backward: conv_backward_flop})


class PartCounter:
    """Splits the counted FLOPs of a step into named parts at the calls it wraps."""

    def __init__(self, counter: FlopCounterMode):
        self.counter = counter
        self.parts: Dict[str, int] = {}
        self.student_calls: List[str] = []
        self.imnet_since_backward = False

    def _add(self, name: str, flops: int) -> None:
        self.parts[name] = self.parts.get(name, 0) + flops

    def timed(self, name_of_call: Callable[[], str], fn: Callable) -> Callable:
        """``fn`` whose FLOPs go to the part ``name_of_call()`` (asked before the call)."""

        def wrapper(*args, **kwargs):
            name = name_of_call()
            before = self.counter.get_total_flops()
            out = fn(*args, **kwargs)
            self._add(name, self.counter.get_total_flops() - before)
            return out

        return wrapper

    def student_forward_name(self) -> str:
        step = ('source', 'mixed', 'masked')
        name = step[len(self.student_calls)] if len(self.student_calls) < len(step) else 'extra'
        self.student_calls.append(name)
        return f'student forward ({name})'

    def backward_name(self) -> str:
        if self.imnet_since_backward:
            self.imnet_since_backward = False
            return 'backward (feature distance)'
        return f'backward ({self.student_calls[-1] if self.student_calls else "other"} loss)'

    def imnet_name(self) -> str:
        self.imnet_since_backward = True
        return 'ImageNet model forward'


def _uda_config(cfg: Config) -> Config:
    """The config without strong augmentation in the step (colour jitter is element-wise, the blur is
    counted apart), without debug images, and with MiT's explicit attention (the FLOPs of SDPA, but
    counted on every device: the counter has no formula for the CPU's fused SDPA kernel)."""
    cfg = copy.deepcopy(cfg)
    if cfg.get('uda') is None:
        raise ValueError(f'config {cfg.filename}: --flops counts a UDA step; the config has no `uda`')
    cfg.uda.update(blur=False, color_jitter_probability=1.0, work_dir=None)
    if str(cfg.model.backbone.get('type', '')).lower().startswith(('mit', 'mixvision')):
        cfg.model.backbone['attn_impl'] = 'math'  # two matrix products, counted alike on every device
    cfg.model['pretrained'] = None
    cfg.model.backbone['pretrained'] = None
    return cfg


def _prepared_batch(cfg: Config, batch: dict, device: torch.device):
    """(source images, metas, labels, target images, metas, valid mask, CPU labels) on ``device``."""
    preprocessor = build_data_preprocessor(copy.deepcopy(cfg.model.get('data_preprocessor')))
    source = preprocessor(dict(inputs=batch['inputs'], data_samples=batch['data_samples']), True)
    target = preprocessor(dict(inputs=batch['target_inputs'], data_samples=batch['target_data_samples']), True)
    gt = torch.stack([s.gt_sem_seg.data for s in source['data_samples']]).long()
    valid = dacs_module.valid_pseudo_mask(target)
    return (source['inputs'].to(device), [s.metainfo for s in source['data_samples']], gt.to(device),
            target['inputs'].to(device), [s.metainfo for s in target['data_samples']],
            None if valid is None else valid.to(device), gt)


class ZeroHostReads(TorchDispatchMode):
    """Answers a host read (``.item()``, ``bool()``) of a meta tensor with 0."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten._local_scalar_dense.default and args[0].device.type == 'meta':
            return False if args[0].dtype is torch.bool else 0
        return func(*args, **(kwargs or {}))


def _meta_stand_ins(device: torch.device, cpu_labels: Optional[torch.Tensor] = None):
    """On the meta device: ClassMix masks drawn from the CPU labels, boolean masks taken as all-true,
    host reads answered with 0."""
    if device.type != 'meta':
        return contextlib.nullcontext()
    stack = contextlib.ExitStack()
    if cpu_labels is not None:
        stack.enter_context(mock.patch.object(
            dacs_module, 'get_class_masks',
            lambda labels: [m.to(labels.device) for m in get_class_masks(cpu_labels)]))
    stack.enter_context(fx_config.patch(meta_nonzero_assume_all_nonzero=True))
    stack.enter_context(ZeroHostReads())
    return stack


def blur_flops(batch_size: int, crop: Tuple[int, int], separable: bool = False) -> int:
    """FLOPs of the Gaussian blur of ``batch_size`` mixed images, one call per image: DACS's
    (``dacs_transforms.gaussian_blur``), or with ``separable`` kornia's two 1-D passes."""
    kernel = (blur_kernel_size(crop[0]), blur_kernel_size(crop[1]))
    image = torch.empty(1, 3, *crop, device='meta')
    with flop_counter() as counter:
        for _ in range(batch_size):
            if separable:
                kornia.filters.gaussian_blur2d(image, kernel, (1.0, 1.0), separable=True)
            else:
                gaussian_blur(1.0, data=image)
    return counter.get_total_flops()


def step_flops(cfg: Config, batch: dict, device: torch.device = torch.device('meta')) -> Dict[str, int]:
    """FLOPs per part of one DACS ``forward_train`` (after the first iteration: EMA update, not copy)."""
    cfg = _uda_config(cfg)
    with torch.device(device):
        model = MODELS.build(runner_config(cfg).model)
    model.to(device).train()
    model.local_iter = 1
    img, metas, gt, target_img, target_metas, valid, cpu_gt = _prepared_batch(cfg, batch, device)
    with flop_counter() as counter, _meta_stand_ins(device, cpu_gt):
        parts = PartCounter(counter)
        student = model.get_model()
        student.forward_train = parts.timed(parts.student_forward_name, student.forward_train)
        if model.get_ema_model() is not None:
            teacher = model.get_ema_model()
            teacher.encode_decode = parts.timed(lambda: 'teacher forward (pseudo-labels)', teacher.encode_decode)
        if model.get_imnet_model() is not None:
            imnet = model.get_imnet_model()
            imnet.extract_feat = parts.timed(parts.imnet_name, imnet.extract_feat)
        backward = parts.timed(parts.backward_name, torch.Tensor.backward)
        model.forward_train(img, metas, gt, target_img, target_metas, backward, valid)
        total = counter.get_total_flops()
    other = total - sum(parts.parts.values())
    return dict(parts.parts, **({'other': other} if other else {}))


def inference_flops(cfg: Config, size: Tuple[int, int]) -> int:
    """FLOPs of the student's whole-image (or slide, as the config's test_cfg) inference of one image."""
    cfg = _uda_config(cfg)
    with torch.device('meta'):
        model = MODELS.build(runner_config(cfg).model)
    student = model.get_model().to('meta').eval()
    img = torch.empty(1, 3, *size, device='meta')
    metas = [dict(img_shape=size, ori_shape=size, pad_shape=size, flip=False)]
    with torch.no_grad(), flop_counter() as counter, _meta_stand_ins(img.device):
        student.inference(img, metas, rescale=True)
    return counter.get_total_flops()


def flops_report(cfg: Config, batch: dict, batch_size: int, crop: Tuple[int, int],
                 test_size: Optional[Tuple[int, int]]) -> dict:
    """Parts, totals and the time of one iteration at the H100's dense bfloat16 peak and at 40 % of it."""
    parts = step_flops(cfg, batch)
    blur = blur_flops(batch_size, crop)
    expected = sum(parts.values()) + BLUR_PROBABILITY * blur
    peak = H100_BF16_DENSE_TFLOPS * 1e12
    return dict(
        parts=parts, step_without_blur=sum(parts.values()),
        blur=dict(dacs=blur, separable=blur_flops(batch_size, crop, separable=True), probability=BLUR_PROBABILITY),
        step_expected=expected,
        peak_tflops=H100_BF16_DENSE_TFLOPS, sustained_fraction=SUSTAINED_FRACTION,
        ms_at_peak=1000 * expected / peak, ms_at_sustained=1000 * expected / (SUSTAINED_FRACTION * peak),
        inference_size=list(test_size) if test_size else None,
        inference_per_image=inference_flops(cfg, test_size) if test_size else None)


def print_flops(config: str, report: dict) -> None:
    print(f'{config}: FLOPs of one training iteration (matrix products, convolutions, attention)')
    total = report['step_expected']
    for name, flops in report['parts'].items():
        print(f'  {name:<36} {flops / 1e9:>10.1f} GFLOP {100 * flops / total:>6.1f} %')
    blur = report['blur']
    print(f"  {'blur of the mixed images (50 %)':<36} {blur['dacs'] / 1e9:>10.1f} GFLOP "
          f"(separable: {blur['separable'] / 1e9:.1f})")
    print(f"  {'expected per iteration':<36} {total / 1e12:>10.3f} TFLOP")
    print(f"  at {report['peak_tflops']:.0f} TFLOP/s (H100 dense bf16): {report['ms_at_peak']:.1f} ms; at "
          f"{100 * report['sustained_fraction']:.0f} %: {report['ms_at_sustained']:.1f} ms")
    if report['inference_per_image']:
        size = report['inference_size']
        print(f"  inference, one {size[1]}x{size[0]} image: {report['inference_per_image'] / 1e12:.3f} TFLOP")
