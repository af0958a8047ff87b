"""Checkers for the AdvSeg / MinEnt golden cases (MIC's ``advseg.py``, ``minent.py``, ``fcdiscriminator.py``).

The iteration cases run our ``train_step`` on the case's weights and inputs with the reference's optimisers
(SGD over the whole wrapper, the discriminator included; Adam with the poly lr for the discriminator), built by
the code the runner uses (``AdvSeg.split_optimizers`` and ``AdversarialOptimWrapperConstructor``). What the
reference recorded (logits, discriminator calls, gradients after each backward pass and at the step, the
discriminator between the SGD and the Adam step, parameters and BatchNorm statistics after it) is recorded
here by wrapping the methods our wrapper calls. Tolerances: the case's ``atol`` with the per-output
``atol_per_key`` (flattened names such as ``grads.model.backbone.stem.0.weight``); ``acc_seg`` and the
argmax of the logits may differ only on pixels whose two best logits are within 2 x atol (README "Comparing").
"""
import copy
import tempfile
from pathlib import Path
from typing import Any, Dict, List

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.structures import PixelData
from torch import nn

from mmseg.engine.adversarial_optim_wrapper_constructor import AdversarialOptimWrapperConstructor, \
    build_mmseg_optim_wrapper
from mmseg.models.uda.advseg import DISCRIMINATOR, DISCRIMINATOR_LOSSES, SEGMENTOR, AdvSeg
from mmseg.models.uda.minent import entropy_loss, entropy_map
from mmseg.registry import MODELS, PARAM_SCHEDULERS
from mmseg.structures import SegDataSample
from tests.golden_checks.models import _allowed_pred_mismatch, _build_loaded
from tests.golden_utils import assert_matches

MAIN_RUN_THREADS = 1  # the reference's main runs used 1 CPU thread
DEBUG_GRID = 'class_mix_debug/000001_0_s.png'  # the debug grid of iteration 0, image 0


def check_fc_discriminator(case: dict) -> None:
    """The discriminator's output, its first four conv outputs (before the in-place LeakyReLU), and the losses."""
    disc = _build_loaded(case['config'], case['state_dict']).eval()
    convs: List[torch.Tensor] = []
    for conv in (disc.conv1, disc.conv2, disc.conv3, disc.conv4):
        conv.register_forward_hook(lambda module, args, out: convs.append(out.detach().clone()))
    with torch.no_grad():
        out = disc(case['inputs']['x'])
    least_squares, vanilla = DISCRIMINATOR_LOSSES['LS'], DISCRIMINATOR_LOSSES['Vanilla']
    actual = dict(output=out, conv_out_ch0to3=[c[:, :4] for c in convs],
                  conv_out_shapes=[list(c.shape) for c in convs],
                  mse_vs_source_label0=least_squares(out, torch.zeros_like(out)),
                  mse_vs_target_label1=least_squares(out, torch.ones_like(out)),
                  bce_vs_0=vanilla(out, torch.zeros_like(out)))
    assert_matches(actual, case['outputs'], case['atol'], case['rtol'])


def check_minent_loss(case: dict) -> None:
    """``entropy_loss``, ``lambda_ent['main']`` x it and ``entropy_map`` of each probability map."""
    weight = case['config']['lambda_ent']['main']
    actual = {}
    for name, prob in case['inputs'].items():
        loss = entropy_loss(prob)
        actual[name] = dict(entropy_loss=loss, lambda_main_x_loss=weight * loss, entropy_map=entropy_map(prob))
    assert_matches(actual, case['outputs'], case['atol'], case['rtol'])


def check_advseg_iter(case: dict) -> None:
    _check_iteration(case, adversarial=True)


def check_minent_iter(case: dict) -> None:
    _check_iteration(case, adversarial=False)


class _PassThrough(nn.Module):
    """Stands in for the data pre-processor: the case's images are already normalised."""

    def forward(self, data: dict, training: bool = False) -> dict:
        return data


def _samples(metas: List[dict], gt: torch.Tensor = None) -> List[SegDataSample]:
    samples = []
    for i, meta in enumerate(metas):
        sample = SegDataSample(metainfo=meta)
        if gt is not None:
            sample.gt_sem_seg = PixelData(data=gt[i].long())
        samples.append(sample)
    return samples


def _build(case: dict, work_dir: str):
    """The wrapper with the case's weights, and its optimiser wrapper(s) as the runner builds them."""
    uda_cfg = dict(copy.deepcopy(case['config']['uda']), work_dir=work_dir)
    uda = MODELS.build(uda_cfg)
    assert list(uda.state_dict()) == list(case['state_dict']), 'state-dict keys or their order differ from reference'
    uda.load_state_dict(case['state_dict'], strict=True)
    uda.train()
    assert uda.mic is None  # golden quirk 1: no MIC without a mask mode
    segmentor_cfg = dict(type='OptimWrapper', constructor='ReferenceOptimWrapperConstructor',
                         optimizer=case['config']['optimizer'], paramwise_cfg=dict(custom_keys={}))
    if not isinstance(uda, AdvSeg):
        return uda, build_mmseg_optim_wrapper(uda, segmentor_cfg)
    cfg = Config(dict(model=uda_cfg, optim_wrapper=segmentor_cfg, param_scheduler=[],
                      train_cfg=dict(max_iters=uda_cfg['max_iters'])))
    AdvSeg.split_optimizers(cfg)
    optim = cfg.optim_wrapper.to_dict()
    assert optim.pop('constructor') == 'AdversarialOptimWrapperConstructor'
    assert optim[DISCRIMINATOR]['optimizer'] == dict(case['config']['optimizer_D'], betas=tuple(
        case['config']['optimizer_D']['betas']))
    wrappers = AdversarialOptimWrapperConstructor(optim)(uda)
    scheduler, = cfg.param_scheduler[DISCRIMINATOR]
    PARAM_SCHEDULERS.build(dict(scheduler, optimizer=wrappers[DISCRIMINATOR]))
    return uda, wrappers


def _grad(param: torch.Tensor) -> torch.Tensor:
    """The accumulated gradient, zeros before the first one reached the parameter (as the reference recorded)."""
    return torch.zeros_like(param) if param.grad is None else param.grad.detach().clone()


def _record(uda, segmentor_wrapper, disc_wrapper, expected: dict) -> Dict[str, Any]:
    """Wrap the head's forward, the discriminator, the backward pass and the optimiser steps of one iteration."""
    params = dict(uda.named_parameters())
    record: Dict[str, Any] = dict(logits=[], D_calls=[], grads_after_each_backward=[])
    small = list(expected['grads_after_each_backward'][0])
    head = uda.get_model().decode_head
    head_forward = head.forward

    def recorded_forward(inputs):
        out = head_forward(inputs)
        record['logits'].append(out.detach().clone())
        return out

    head.forward = recorded_forward
    if disc_wrapper is not None:
        uda.model_D['main'].register_forward_hook(lambda module, args, out: record['D_calls'].append(
            dict(output=out.detach().clone(), input_sum=args[0].detach().sum())))
    backward, step = segmentor_wrapper.backward, segmentor_wrapper.step

    def recorded_backward(loss, **kwargs):
        backward(loss, **kwargs)
        record['grads_after_each_backward'].append({name: _grad(params[name]) for name in small})

    def recorded_step(**kwargs):
        with_grad = {name: p.grad.detach() for name, p in params.items() if p.grad is not None}
        record['grads'] = {name: _grad(params[name]) for name in expected['grads']}
        record['n_params_with_grad'] = len(with_grad)
        for prefix, key in (('model.', 'grad_norm_model'), ('model_D.', 'grad_norm_D')):
            norms = [g.norm() for name, g in with_grad.items() if name.startswith(prefix)]
            if norms:
                record[key] = torch.norm(torch.stack(norms))
        step(**kwargs)

    segmentor_wrapper.backward, segmentor_wrapper.step = recorded_backward, recorded_step
    if disc_wrapper is not None:
        disc_step = disc_wrapper.step

        def recorded_disc_step(**kwargs):
            record['D_after_sgd'] = {name: p.detach().clone() for name, p in uda.model_D['main'].named_parameters()}
            disc_step(**kwargs)

        disc_wrapper.step = recorded_disc_step
    return record


def _outputs(uda, record: dict, log_vars: dict, img: torch.Tensor, expected: dict, disc_wrapper) -> Dict[str, Any]:
    """Our values under the reference's output names."""
    size = img.shape[2:]
    upsampled = [F.interpolate(logits, size=size, mode='bilinear', align_corners=False) for logits in record['logits']]
    state = uda.get_model().state_dict()
    ours = dict(log_vars={k: float(v) for k, v in log_vars.items()}, log_var_keys=list(log_vars),
                pred_src=upsampled[0], pred_trg=upsampled[1], **record,
                params_after={name: state[name] for name in expected['params_after']},
                buffers_after={name: state[name] for name in expected['buffers_after']})
    if disc_wrapper is not None:
        disc = uda.model_D['main']
        disc_params = dict(disc.named_parameters())
        ours['D_after_sgd'] = {name: ours['D_after_sgd'][name] for name in expected['D_after_sgd']}
        ours['D_after_adam'] = {name: disc_params[name].detach() for name in expected['D_after_adam']}
        ours['lr_D'] = disc_wrapper.optimizer.param_groups[0]['lr']
        ours['adam_state_exp_avg_classifier_bias'] = disc_wrapper.optimizer.state[disc.classifier.bias]['exp_avg']
    missing = set(expected) - set(ours) - {'mic_none_quirk'}
    assert not missing, f'checker records no {sorted(missing)}'
    return {k: v for k, v in ours.items() if k in expected}


def _flatten(value: Any, path: str, out: Dict[str, Any]) -> Dict[str, Any]:
    """Leaves under their flattened names: ``a.b`` for dict keys, ``a[0]`` for list entries."""
    if isinstance(value, dict):
        for key, child in value.items():
            _flatten(child, f'{path}.{key}' if path else str(key), out)
    elif isinstance(value, (list, tuple)) and not all(isinstance(v, (int, float)) for v in value):
        for i, child in enumerate(value):
            _flatten(child, f'{path}[{i}]', out)
    else:
        out[path] = value
    return out


def _compare(actual: dict, expected: dict, case: dict, skip: set) -> List[str]:
    """Differences per flattened output, with its ``atol_per_key`` tolerance."""
    ours, theirs = _flatten(actual, '', {}), _flatten(expected, '', {})
    problems = [f'keys differ: missing {sorted(set(theirs) - set(ours))}, extra {sorted(set(ours) - set(theirs))}'] \
        if set(ours) != set(theirs) else []
    for key in sorted(set(ours) & set(theirs) - skip):
        try:
            assert_matches(ours[key], theirs[key], case.get('atol_per_key', {}).get(key, case['atol']), case['rtol'],
                           key)
        except AssertionError as error:
            problems.append(str(error))
    return problems


def _compare_argmax(actual: dict, expected: dict, case: dict, source_logits: torch.Tensor) -> List[str]:
    """``pred_*`` argmax where the stored margin exceeds 2 x atol; ``acc_seg`` (of the source logits) within its
    near-tie pixels, each of which may move it by 100 / pixels."""
    problems = []
    for key in ('pred_src', 'pred_trg'):
        if key not in expected:
            continue
        near_tie = _allowed_pred_mismatch(expected[key], case['atol_per_key'].get(key, case['atol']))
        flipped = (actual[key].argmax(dim=1) != expected[key].argmax(dim=1)) & ~near_tie
        if flipped.any():
            problems.append(f'{key}: argmax differs on {int(flipped.sum())} pixels outside near-ties')
    near_tie = _allowed_pred_mismatch(source_logits, case['atol_per_key'].get('pred_src', case['atol']))
    ties = int(near_tie.sum())
    acc, acc_expected = actual['log_vars']['decode.acc_seg'], expected['log_vars']['decode.acc_seg']
    if abs(acc - acc_expected) > 100. * ties / near_tie.numel() + 1e-4:
        problems.append(f'log_vars.decode.acc_seg: {acc} != {acc_expected} ({ties} near-tie pixels)')
    return problems


def _check_iteration(case: dict, adversarial: bool) -> None:
    inputs, expected = case['inputs'], case['outputs']
    threads = torch.get_num_threads()
    torch.set_num_threads(MAIN_RUN_THREADS)
    try:
        with tempfile.TemporaryDirectory() as work_dir:
            uda, optim_wrapper = _build(case, work_dir)
            assert isinstance(uda, AdvSeg) == adversarial
            segmentor_wrapper = optim_wrapper[SEGMENTOR] if adversarial else optim_wrapper
            disc_wrapper = optim_wrapper[DISCRIMINATOR] if adversarial else None
            record = _record(uda, segmentor_wrapper, disc_wrapper, expected)
            uda.data_preprocessor = _PassThrough()
            data = dict(inputs=inputs['img'], data_samples=_samples(inputs['img_metas'], inputs['gt_semantic_seg']),
                        target_inputs=inputs['target_img'], target_data_samples=_samples(inputs['target_img_metas']))
            log_vars = uda.train_step(data, optim_wrapper)
            # golden quirk 2: the one-row debug grid of iteration 0 is drawn (the reference crashes on it)
            assert (Path(work_dir) / DEBUG_GRID).is_file()
    finally:
        torch.set_num_threads(threads)
    source_logits = F.interpolate(record['logits'][0], size=inputs['img'].shape[2:], mode='bilinear',
                                  align_corners=False)
    ours = _outputs(uda, record, log_vars, inputs['img'], expected, disc_wrapper)
    # mic_none_quirk holds the reference's error messages (checked above: mic is None, the grid is drawn)
    numbers = {key: value for key, value in expected.items() if key != 'mic_none_quirk'}
    problems = _compare(ours, numbers, case, skip={'log_vars.decode.acc_seg'})
    problems += _compare_argmax(ours, expected, case, expected.get('pred_src', source_logits))
    assert not problems, f"{case['case']}: {len(problems)} outputs differ from the reference:\n" + '\n'.join(
        problems[:40])
