"""Checkers for the whole-iteration golden cases: two consecutive DACS (``dacs_iter_*``) and MIC
(``mic_iter_*``) training iterations of the original code, optimiser step and EMA included.

Our ``DACS.forward_train`` runs with the case's weights, inputs and RNG seed; the values the
reference recorded (losses, pseudo-labels, ClassMix draws and mixed batch, colour-jitter and blur
inputs/outputs, MIC masks, gradients after each backward pass, student and teacher after the
step, and every random draw in consumption order) are recorded here by wrapping the functions our
DACS calls, without changing them. Tolerances are the case's ``atol`` with the per-output
``atol_per_key`` (flattened names such as ``[1].grads.decode_head.conv_seg.weight``).

Two comparison rules follow the golden README:
- attention runs as the reference computes it (``attn_impl='math'``, explicit softmax(q kᵀ) v). The
  case tolerances are 50x the reference's own rounding noise, and the badly conditioned train-mode
  BatchNorm backward of the DAFormer head amplifies the different rounding of the fused SDPA kernel
  beyond them in ``mic_iter_a`` (our SDPA iteration in float64 agrees with the reference to 1e-7);
- pseudo-labels are argmaxes: as for the argmax predictions of the model cases ("Comparing"), a
  pixel whose two best teacher probabilities are closer than 2x the ``pseudo_prob`` tolerance may
  flip (in the pseudo-label and, where the target shows through, the mixed and masked labels);
  every other label must match exactly.
"""
import contextlib
import copy
import math
import random
from typing import Any, Callable, Dict, List
from unittest import mock

import numpy as np
import torch
from mmengine.optim import OptimWrapper

import mmseg.models.uda.dacs as dacs_module
import mmseg.models.utils.block_mask_generator as block_mask_module
import mmseg.models.utils.dacs_transforms as transforms_module
from mmseg.engine.optimizers import ReferenceOptimWrapperConstructor
from mmseg.models.utils.drop_path import DropPath
from mmseg.registry import MODELS

# the reference optimiser of the cases (golden README, "Settings common to these files")
OPTIMIZER = dict(type='AdamW', lr=6e-05, betas=(0.9, 0.999), weight_decay=0.01)
CUSTOM_KEYS = dict(head=dict(lr_mult=10.), pos_block=dict(decay_mult=0.), norm=dict(decay_mult=0.))
MAIN_RUN_THREADS = 2  # the reference's main run used 2 CPU threads


def check_dacs_iter(case: dict) -> None:
    _check_iterations(case)


def check_mic_iter(case: dict) -> None:
    assert case['config'].get('mask_mode') is not None, f"{case['case']}: a MIC case needs a mask_mode"
    _check_iterations(case)


class _Recorder:
    """Records what one iteration of our DACS computes, through wrappers of the functions it calls."""

    def __init__(self, dacs, named_tensors: List[str], small_tensors: List[List[str]]):
        self.dacs = dacs
        self.named_tensors = named_tensors
        self.small_tensors = small_tensors  # per backward pass: the tensors whose cumulative grads are stored
        self.iteration: Dict[str, Any] = {}

    def start(self) -> None:
        self.iteration = dict(forward_train=[], backward_grads=[], pseudo=None, classmix_classes=[],
                              draws=dict(random_uniform=[], np_random_choice=[], np_random_uniform=[],
                                         color_jitter_params=[], mic_block_mask=[]),
                              color_jitter_io=[], gaussian_blur=[])

    @contextlib.contextmanager
    def patched(self):
        draws = self.iteration['draws']
        student = self.dacs.get_model()
        originals = dict(uniform=random.uniform, choice=np.random.choice, np_uniform=np.random.uniform,
                         forward_train=student.forward_train, pseudo=dacs_module.pseudo_label_and_weight,
                         class_mask=transforms_module.generate_class_mask,
                         jitter_params=transforms_module.color_jitter_params,
                         apply_jitter=transforms_module.apply_color_jitter, blur=transforms_module.gaussian_blur2d)

        def uniform(a, b):
            value = originals['uniform'](a, b)
            draws['random_uniform'].append(value)
            return value

        def choice(*args, **kwargs):
            result = originals['choice'](*args, **kwargs)
            draws['np_random_choice'].append(dict(args=list(args), result=torch.as_tensor(result)))
            return result

        def np_uniform(*args, **kwargs):
            value = originals['np_uniform'](*args, **kwargs)
            draws['np_random_uniform'].append(float(value))
            return value

        def forward_train(img, img_metas, gt_semantic_seg, seg_weight=None, **kwargs):
            losses = originals['forward_train'](img, img_metas, gt_semantic_seg, seg_weight=seg_weight, **kwargs)
            self.iteration['forward_train'].append(dict(
                img=img.detach().clone(), gt=gt_semantic_seg.detach().clone(),
                seg_weight=None if seg_weight is None else seg_weight.detach().clone(),
                losses={k: v.detach().clone() for k, v in losses.items() if k.startswith('decode.')}))
            return losses

        def pseudo(logits, *args, **kwargs):
            result = originals['pseudo'](logits, *args, **kwargs)
            self.iteration['pseudo'] = result
            top2 = torch.softmax(logits.detach().float(), dim=1).topk(2, dim=1).values
            self.iteration['teacher_top2_gap'] = top2[:, 0] - top2[:, 1]
            return result

        def class_mask(label, classes):
            self.iteration['classmix_classes'].append(classes.detach().clone())
            return originals['class_mask'](label, classes)

        def jitter_params(batch, strength, *args, **kwargs):
            params = originals['jitter_params'](batch, strength, *args, **kwargs)
            draws['color_jitter_params'].append(dict({k: v.clone() for k, v in params.items()},
                                                     batch_prob=torch.ones(batch, dtype=torch.bool)))
            return params

        def apply_jitter(img, params):
            output = originals['apply_jitter'](img.clone(), params)
            self.iteration['color_jitter_io'].append(dict(input=img.detach().clone(), output=output.detach().clone()))
            return output

        def blur(img, kernel_size, sigma, *args, **kwargs):
            output = originals['blur'](img, kernel_size, sigma, *args, **kwargs)
            self.iteration['gaussian_blur'].append(dict(kernel_size=list(kernel_size), sigma=list(sigma),
                                                        input=img.detach().clone(), output=output.detach().clone()))
            return output

        patches = [mock.patch.object(random, 'uniform', uniform), mock.patch.object(np.random, 'choice', choice),
                   mock.patch.object(np.random, 'uniform', np_uniform),
                   mock.patch.object(student, 'forward_train', forward_train),
                   mock.patch.object(dacs_module, 'pseudo_label_and_weight', pseudo),
                   mock.patch.object(transforms_module, 'generate_class_mask', class_mask),
                   mock.patch.object(transforms_module, 'color_jitter_params', jitter_params),
                   mock.patch.object(transforms_module, 'apply_color_jitter', apply_jitter),
                   mock.patch.object(transforms_module, 'gaussian_blur2d', blur)]
        if self.dacs.mic is not None:
            patches.append(mock.patch.object(self.dacs.mic.mask_gen, 'generate_mask',
                                             self._recording_mask(self.dacs.mic.mask_gen.generate_mask)))
        with contextlib.ExitStack() as stack:
            for patch in patches:
                stack.enter_context(patch)
            yield

    def _recording_mask(self, generate_mask: Callable) -> Callable:
        """``generate_mask`` that also records its uniform grid (replayed from the torch RNG state)."""

        def wrapped(imgs):
            state = torch.get_rng_state()
            mask = generate_mask(imgs)
            after = torch.get_rng_state()
            torch.set_rng_state(state)
            block = block_mask_module.BlockMaskGenerator
            assert isinstance(self.dacs.mic.mask_gen, block)
            size = self.dacs.mic.mask_gen.mask_block_size
            grid = torch.rand((imgs.shape[0], 1, round(imgs.shape[2] / size), round(imgs.shape[3] / size)))
            torch.set_rng_state(after)
            self.iteration['draws']['mic_block_mask'].append(dict(rand=grid, mask=mask.detach().clone()))
            return mask

        return wrapped

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        loss.backward(**kwargs)
        params = dict(self.dacs.get_model().named_parameters())
        index = len(self.iteration['backward_grads'])
        names = self.small_tensors[index] if index < len(self.small_tensors) else []
        self.iteration['backward_grads'].append({name: params[name].grad.detach().clone() for name in names})


def _student_tensors(student: torch.nn.Module, names: List[str]) -> Dict[str, torch.Tensor]:
    tensors = dict(student.named_parameters())
    tensors.update(dict(student.named_buffers()))
    return {name: tensors[name].detach().clone() for name in names}


def _build(case: dict):
    config = copy.deepcopy(case['config'])
    config['model']['backbone']['attn_impl'] = 'math'
    dacs = MODELS.build(config)
    assert list(dacs.state_dict()) == list(case['state_dict']), 'DACS state-dict keys or their order differ'
    dacs.load_state_dict(case['state_dict'], strict=True)
    dacs.train()
    for module in dacs.get_model().modules():  # the cases switch the student's dropout / drop-path off
        if isinstance(module, (torch.nn.modules.dropout._DropoutNd, DropPath)):
            module.training = False
    constructor = ReferenceOptimWrapperConstructor(dict(type='OptimWrapper', optimizer=OPTIMIZER),
                                                   dict(custom_keys=CUSTOM_KEYS, per_param_groups=True))
    optim_wrapper = constructor(dacs)
    assert isinstance(optim_wrapper, OptimWrapper)
    return dacs, optim_wrapper


def _check_optimizer_groups(dacs, optim_wrapper, expected: List[dict]) -> None:
    names = {id(p): name for name, p in dacs.named_parameters()}
    groups = [dict(name=names[id(group['params'][0])], lr=group['lr'], weight_decay=group['weight_decay'])
              for group in optim_wrapper.optimizer.param_groups]
    assert len(groups) == len(expected), f'optimizer groups: {len(groups)} != {len(expected)}'
    for ours, ref in zip(groups, expected):
        assert ours['name'] == ref['name'], f"optimizer group order: {ours['name']} != {ref['name']}"
        assert math.isclose(ours['lr'], ref['lr'], rel_tol=1e-12) and \
            math.isclose(ours['weight_decay'], ref['weight_decay'], rel_tol=1e-12, abs_tol=0), (ours, ref)


def _iteration_outputs(recorder: _Recorder, dacs, log_vars: dict, grads: Dict[str, torch.Tensor],
                       grad_norm: torch.Tensor, n_grads: int, expected: dict) -> dict:
    """Our values under the reference's output names, for the keys the case stores."""
    it = recorder.iteration
    calls = it['forward_train']
    mix_call = calls[1]
    pseudo = it['pseudo']
    fd = dacs.feature_distance
    student, teacher = dacs.get_model(), dacs.get_ema_model()
    names = list(expected['student_after'])
    ours = dict(
        log_vars={k: float(v.detach()) for k, v in log_vars.items()},
        src_losses=calls[0]['losses'], mix_losses=mix_call['losses'],
        pseudo_prob=pseudo.prob, pseudo_label=pseudo.label, pseudo_weight_value=float(pseudo.fraction),
        classmix_classes=it['classmix_classes'], mixed_img=mix_call['img'], mixed_lbl=mix_call['gt'],
        mixed_seg_weight=mix_call['seg_weight'], fdist_mask=fd.last_mask, fdist_gt_rescaled=fd.last_gt_rescaled,
        grads=grads, grad_norm=grad_norm, n_params_with_grad=n_grads,
        grads_after_each_backward=it['backward_grads'],
        student_after=_student_tensors(student, names), teacher_after=_student_tensors(teacher, names),
        draws={k: v for k, v in it['draws'].items() if k in expected['draws']},
        color_jitter_io=it['color_jitter_io'], gaussian_blur=it['gaussian_blur'])
    if dacs.mic is not None:
        masked_call = calls[2]
        ours.update(masked_img=masked_call['img'], masked_lbl=masked_call['gt'],
                    masked_seg_weight=masked_call['seg_weight'], masked_losses=masked_call['losses'])
    missing = set(expected) - set(ours)
    assert not missing, f'checker records no {sorted(missing)}'
    return {k: v for k, v in ours.items() if k in expected}


def _accept_near_tie_flips(ours: dict, expected: dict, gap: torch.Tensor, atol: float, key: str) -> List[str]:
    """Take the reference's label at pixels whose teacher top-2 probability gap is below ``2·atol``;
    return the labels that differ elsewhere (none may)."""
    near_tie = gap < 2 * atol
    problems = []
    for name in ('pseudo_label', 'mixed_lbl', 'masked_lbl'):
        if name not in expected:
            continue
        reference = expected[name].long()
        actual = torch.as_tensor(ours[name]).detach().long().reshape(reference.shape)
        tie = near_tie.reshape(reference.shape)
        far_flips = (actual != reference) & ~tie
        if bool(far_flips.any()):
            problems.append(f'{key}.{name}: {int(far_flips.sum())} labels differ at pixels that are no near tie')
        ours[name] = torch.where(tie, reference, actual)
    return problems


def _compare(actual: Any, expected: Any, case: dict, key: str) -> List[str]:
    """Differences between ``actual`` and ``expected``; float tolerance from ``atol_per_key`` or ``atol``."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict) or set(actual) != set(expected):
            return [f'{key}: keys {sorted(actual) if isinstance(actual, dict) else type(actual)} '
                    f'!= {sorted(expected)}']
        return [m for k in expected for m in _compare(actual[k], expected[k], case, f'{key}.{k}')]
    if isinstance(expected, (list, tuple)):
        if not isinstance(actual, (list, tuple)) or len(actual) != len(expected):
            return [f'{key}: {len(actual) if isinstance(actual, (list, tuple)) else actual} entries != '
                    f'{len(expected)}']
        return [m for i, (a, e) in enumerate(zip(actual, expected)) for m in _compare(a, e, case, f'{key}[{i}]')]
    atol = case.get('atol_per_key', {}).get(key, case['atol'])
    rtol = case['rtol']
    if torch.is_tensor(expected):
        actual = torch.as_tensor(actual).detach().cpu()
        if tuple(actual.shape) != tuple(expected.shape):
            actual = actual.reshape(expected.shape) if actual.numel() == expected.numel() else actual
        if tuple(actual.shape) != tuple(expected.shape):
            return [f'{key}: shape {tuple(actual.shape)} != {tuple(expected.shape)}']
        if expected.is_floating_point():
            close = torch.isclose(actual.double(), expected.double(), rtol=rtol, atol=atol, equal_nan=True)
            if not bool(close.all()):
                diff = (actual.double() - expected.double()).abs().max().item()
                return [f'{key}: {int((~close).sum())}/{close.numel()} outside atol={atol} (max |diff| {diff:.3g})']
            return []
        equal = torch.equal(actual.to(expected.dtype), expected)
        return [] if equal else [f'{key}: {int((actual.to(expected.dtype) != expected).sum())} elements differ']
    if isinstance(expected, float):
        ok = abs(float(actual) - expected) <= atol + rtol * abs(expected)
        return [] if ok else [f'{key}: {float(actual)} != {expected} (atol={atol})']
    return [] if actual == expected else [f'{key}: {actual!r} != {expected!r}']


def _check_iterations(case: dict) -> None:
    inputs, outputs = case['inputs'], case['outputs']
    threads = torch.get_num_threads()
    torch.set_num_threads(MAIN_RUN_THREADS)
    try:
        dacs, optim_wrapper = _build(case)
        _check_optimizer_groups(dacs, optim_wrapper, outputs['optimizer_groups'])
        names = list(outputs['student_init'])
        problems = _compare(_student_tensors(dacs.get_model(), names), outputs['student_init'], case, 'student_init')
        gt = inputs['gt_semantic_seg'].long()
        random.seed(inputs['rng_seed'])
        np.random.seed(inputs['rng_seed'])
        torch.manual_seed(inputs['rng_seed'])
        iterations = sorted(k for k in outputs if k.startswith('iter'))
        for index, name in enumerate(iterations):
            expected = outputs[name]
            small = [list(grads) for grads in expected['grads_after_each_backward']]
            recorder = _Recorder(dacs, list(expected['grads']), small)
            recorder.start()
            optim_wrapper.zero_grad()
            with recorder.patched():
                log_vars = dacs.forward_train(inputs['img'], inputs['img_metas'], gt, inputs['target_img'],
                                              inputs['target_img_metas'], recorder.backward)
            student_params = dict(dacs.get_model().named_parameters())
            grads = {n: student_params[n].grad.detach().clone() for n in expected['grads']}
            with_grad = [p.grad for p in student_params.values() if p.grad is not None]
            grad_norm = torch.norm(torch.stack([g.detach().norm() for g in with_grad]))
            optim_wrapper.step()
            ours = _iteration_outputs(recorder, dacs, log_vars, grads, grad_norm, len(with_grad), expected)
            prob_atol = case.get('atol_per_key', {}).get(f'[{index}].pseudo_prob', case['atol'])
            problems += _accept_near_tie_flips(ours, expected, recorder.iteration['teacher_top2_gap'], prob_atol,
                                               f'[{index}]')
            problems += _compare(ours, expected, case, f'[{index}]')
    finally:
        torch.set_num_threads(threads)
    assert not problems, f"{case['case']}: {len(problems)} outputs differ from the reference:\n" + '\n'.join(
        problems[:40])
