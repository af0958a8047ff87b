"""Checker for the HRDA golden case: HRDAEncoderDecoder + HRDAHead (training losses and branch logits,
scale attention, whole-image and slide inference, prediction)."""
import contextlib
from typing import Dict, Iterator, List
from unittest import mock

import torch
import torch.nn.functional as F

from tests.golden_checks.models import _allowed_pred_mismatch, _build_loaded, _no_dropout
from tests.golden_utils import assert_matches

CROP_BBOX = 'mmseg.models.segmentors.hrda_encoder_decoder.get_crop_bbox'
# acc key → index of the logits in the head's (fused, lr_seg, hr_seg) output it is computed from
ACC_LOGITS = {'decode.acc_seg': 0, 'decode.lr.acc_seg': 1, 'decode.hr.acc_seg': 2}


@contextlib.contextmanager
def _recording(model: torch.nn.Module) -> Iterator[Dict[str, List[torch.Tensor]]]:
    """Record the head's ``forward`` outputs and the sigmoid of the scale-attention head, per call."""
    head = model.decode_head
    record = {'head': [], 'attention': []}
    forward = head.forward

    def recorded_forward(inputs):
        out = forward(inputs)
        record['head'].append(out)
        return out

    handle = head.scale_attention.register_forward_hook(
        lambda module, args, out: record['attention'].append(torch.sigmoid(out)))
    head.forward = recorded_forward
    try:
        yield record
    finally:
        del head.forward
        handle.remove()


def _near_ties(logits: torch.Tensor, size: torch.Size, atol: float) -> tuple:
    """(pixels whose two best logits, bilinearly resized to ``size``, are closer than 2·atol, all pixels)."""
    resized = F.interpolate(logits, size=size, mode='bilinear', align_corners=False)
    allowed = _allowed_pred_mismatch(resized, atol)
    return int(allowed.sum()), allowed.numel()


def _compare_losses(actual: dict, expected: dict, logits: tuple, label_sizes: dict, atol: float, rtol: float,
                    path: str) -> None:
    """Loss values within tolerance; each acc within the near-tie pixels of the logits it comes from."""
    assert set(actual) == set(expected), f'{path}: keys {sorted(actual)} != {sorted(expected)}'
    for key, value in expected.items():
        if key in ACC_LOGITS:
            ties, total = _near_ties(logits[ACC_LOGITS[key]], label_sizes[key], atol)
            assert abs(float(actual[key]) - float(value)) <= 100.0 * ties / total + 1e-4, (
                f'{path}/{key}: {float(actual[key])} != {float(value)}')
        else:
            assert_matches(actual[key], value, atol, rtol, f'{path}/{key}')


def check_hrda(case: dict) -> None:
    atol, rtol = case['atol'], case['rtol']
    inputs, outputs, config = case['inputs'], case['outputs'], case['config']
    img, metas = inputs['img'], inputs['img_metas']
    gt = inputs['gt_semantic_seg'].long()
    seg_weight = inputs['seg_weight']
    box = tuple(int(v) for v in inputs['hr_crop_box'])
    full, detail = gt.shape[2:], (box[1] - box[0], box[3] - box[2])
    label_sizes = {'decode.acc_seg': full, 'decode.lr.acc_seg': full, 'decode.hr.acc_seg': detail}
    expected_train = (outputs['train_fused_seg'], outputs['train_lr_seg_weighted'], outputs['train_hr_seg'])

    model = _build_loaded(config, case['state_dict']).eval()
    with torch.no_grad(), mock.patch(CROP_BBOX, return_value=box) as draw:
        with _recording(model) as record:
            losses = model.forward_train(img, metas, gt)
        draw.assert_called_once_with(*img.shape[2:], config['hr_crop_size'], config['crop_coord_divisible'])
        assert model.decode_head.hr_crop_box is None, 'the crop box must be reset after forward_train'
        fused, lr_seg, hr_seg = record['head'][0]
        assert_matches(fused, outputs['train_fused_seg'], atol, rtol, 'train_fused_seg')
        assert_matches(lr_seg, outputs['train_lr_seg_weighted'], atol, rtol, 'train_lr_seg_weighted')
        assert_matches(hr_seg, outputs['train_hr_seg'], atol, rtol, 'train_hr_seg')
        assert_matches(record['attention'][0], outputs['train_scale_attention'], atol, rtol, 'train_scale_attention')
        _compare_losses(losses, outputs['losses'], expected_train, label_sizes, atol, rtol, 'losses')
        _compare_losses(model.forward_train(img, metas, gt, seg_weight=seg_weight), outputs['losses_seg_weight'],
                        expected_train, label_sizes, atol, rtol, 'losses_seg_weight')
        model.decode_head.lr_loss_weight = 0.1
        _compare_losses(model.forward_train(img, metas, gt), outputs['losses_lr0.1'], expected_train, label_sizes,
                        atol, rtol, 'losses_lr0.1')
        model.decode_head.lr_loss_weight = config['decode_head'].get('lr_loss_weight', 0)

    with torch.no_grad():
        with _recording(model) as record:
            whole = model.encode_decode(img, metas, upscale_pred=False)
        assert_matches(whole, outputs['whole_fused_lowres'], atol, rtol, 'whole_fused_lowres')
        assert_matches(record['attention'][0], outputs['whole_scale_attention'], atol, rtol, 'whole_scale_attention')
        slide = model.slide_inference(img, metas, rescale=False)
        assert_matches(slide, outputs['slide_logits'], atol, rtol, 'slide_logits')
        pred = model.simple_test(img, metas, rescale=True)
        differs = pred != outputs['simple_test_pred'].long()
        assert not bool((differs & ~_allowed_pred_mismatch(outputs['slide_logits'], atol)).any()), (
            f'simple_test_pred: {int(differs.sum())} pixels differ outside near-ties')

    model = _build_loaded(config, case['state_dict'])
    _no_dropout(model)
    with torch.no_grad(), mock.patch(CROP_BBOX, return_value=box), _recording(model) as record:
        losses = model.forward_train(img, metas, gt)
        _compare_losses(losses, outputs['losses_trainbn'], record['head'][0], label_sizes, atol, rtol,
                        'losses_trainbn')
