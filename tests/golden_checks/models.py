"""Checkers for model golden cases: MiT, MiT layouts, EncoderDecoder segmentors, the DACS layout."""
import copy

import torch

from mmseg.registry import MODELS
from tests.golden_utils import assert_matches


def _no_dropout(model: torch.nn.Module) -> None:
    """Train mode for BatchNorm, but every Dropout / DropPath off (the golden ``*_trainbn`` mode)."""
    model.train()
    for module in model.modules():
        if isinstance(module, torch.nn.modules.dropout._DropoutNd) or type(module).__name__ == 'DropPath':
            module.eval()


def _build_loaded(config: dict, state_dict: dict):
    model = MODELS.build(copy.deepcopy(config))
    assert list(model.state_dict()) == list(state_dict), 'state-dict keys or their order differ from the reference'
    model.load_state_dict(state_dict, strict=True)
    return model


def check_mit(case: dict) -> None:
    model = _build_loaded(case['config'], case['state_dict']).eval()
    with torch.no_grad():
        stages = model(case['inputs']['img'])
    assert_matches({'stages': stages}, case['outputs'], case['atol'], case['rtol'])


def check_mit_keys(case: dict) -> None:
    for name, expected in case['outputs'].items():
        state = MODELS.build(case['config'][name]).state_dict()
        assert list(state) == expected['keys'], f'{name}: state-dict keys differ from the reference'
        assert [list(v.shape) for v in state.values()] == expected['shapes'], f'{name}: shapes differ'
        assert sum(v.numel() for v in state.values()) == expected['num_params'], f'{name}: parameter count'


def _allowed_pred_mismatch(logits: torch.Tensor, atol: float) -> torch.Tensor:
    """Pixels whose two best stored logits are closer than 2·atol may legitimately flip."""
    top2 = logits.topk(2, dim=1).values
    return (top2[:, 0] - top2[:, 1]) < 2 * atol


def _near_tie_pixels(logits, atol: float, size) -> int:
    """Near-tie pixels of a head's stored logits upsampled to the label size, summed over its outputs (DAHead
    returns three logits, each with its own loss and accuracy)."""
    return sum(int(_allowed_pred_mismatch(torch.nn.functional.interpolate(
        one, size=size, mode='bilinear', align_corners=False), atol).sum())
        for one in (logits if isinstance(logits, (list, tuple)) else [logits]))


def _compare_losses(actual: dict, expected: dict, atol: float, rtol: float, near_tie_pixels: int, path: str):
    assert set(actual) == set(expected), f'{path}: keys {sorted(actual)} != {sorted(expected)}'
    for key, value in expected.items():
        if key.endswith('acc_seg'):
            # acc_seg is derived from argmax: allow the near-tie pixels to flip (README "Comparing")
            step = 100.0 / near_tie_pixels[1]
            assert abs(float(actual[key]) - float(value)) <= step * near_tie_pixels[0] + 1e-4, (
                f'{path}/{key}: {float(actual[key])} != {float(value)}')
        else:
            assert_matches(actual[key], value, atol, rtol, f'{path}/{key}')


def check_segmentor(case: dict) -> None:
    """EncoderDecoder: logits, losses (eval and train-BN), prediction (heads with one or several logits)."""
    atol, rtol = case['atol'], case['rtol']
    inputs, outputs = case['inputs'], case['outputs']
    img, metas = inputs['img'], inputs['img_metas']
    gt = inputs['gt_semantic_seg'].long()
    seg_weight = inputs['seg_weight']
    model = _build_loaded(case['config'], case['state_dict']).eval()
    with torch.no_grad():
        logits = model.encode_decode(img, metas)
        assert_matches(logits, outputs['encode_decode'], atol, rtol, 'encode_decode')
        assert_matches(model.decode_head(model.extract_feat(img)), outputs['decode_head_logits'], atol, rtol,
                       'decode_head_logits')
        near_ties = (_near_tie_pixels(outputs['decode_head_logits'], atol, gt.shape[2:]), gt.numel())
        _compare_losses(model.forward_train(img, metas, gt), outputs['losses'], atol, rtol, near_ties, 'losses')
        _compare_losses(model.forward_train(img, metas, gt, seg_weight=seg_weight), outputs['losses_seg_weight'],
                        atol, rtol, near_ties, 'losses_seg_weight')
        pred = model.simple_test(img, metas, rescale=True)
        expected_pred = outputs['simple_test_pred'].long()
        differs = pred != expected_pred
        assert not bool((differs & ~_allowed_pred_mismatch(outputs['encode_decode'], atol)).any()), (
            f'simple_test_pred: {int(differs.sum())} pixels differ outside near-ties')

        _no_dropout(model)
        trainbn_logits = model.decode_head(model.extract_feat(img))
        assert_matches(trainbn_logits, outputs['decode_head_logits_trainbn'], atol, rtol, 'decode_head_logits_trainbn')
        near_ties = (_near_tie_pixels(outputs['decode_head_logits_trainbn'], atol, gt.shape[2:]), gt.numel())
        _compare_losses(model.forward_train(img, metas, gt), outputs['losses_trainbn'], atol, rtol, near_ties,
                        'losses_trainbn')
        _compare_losses(model.forward_train(img, metas, gt, seg_weight=seg_weight),
                        outputs['losses_trainbn_seg_weight'], atol, rtol, near_ties, 'losses_trainbn_seg_weight')


def check_dacs_keys(case: dict) -> None:
    """The DACS wrapper's state-dict layout: ``model.``, ``ema_model.``, ``imnet_model.`` in reference order."""
    from mmseg.models.uda.dacs import DACS
    dacs = MODELS.build(copy.deepcopy(case["config"]))
    assert isinstance(dacs, DACS)
    state = dacs.state_dict()
    assert list(state) == case['outputs']['keys'], 'DACS state-dict keys or their order differ from the reference'
    assert [list(v.shape) for v in state.values()] == case['outputs']['shapes'], 'DACS state-dict shapes differ'
