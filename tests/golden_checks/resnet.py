"""Checkers for the ResNet / DeepLab family: ResNetV1c, the EncoderDecoders of ``dlv2red`` and the architecture zoo
(DeepLabV3+, DANet, ISANet, UPerNet on ResNetV1c-101), and the full-width layouts (built on the meta device)."""
import copy
from typing import Dict

import torch

from mmseg.registry import MODELS
from tests.golden_checks.models import _build_loaded, _no_dropout, check_mit, check_segmentor
from tests.golden_utils import assert_matches


def build_on_meta(config: dict) -> torch.nn.Module:
    """The model of ``config`` on the meta device: its layout without memory or initialisation cost."""
    with torch.device('meta'):
        return MODELS.build(copy.deepcopy(config))


def layout(model: torch.nn.Module) -> Dict[str, object]:
    """Ordered keys, shapes, element counts (with and without ``num_batches_tracked``) and trainable parameters."""
    state = model.state_dict()
    return dict(keys=list(state), shapes=[list(v.shape) for v in state.values()],
                n_elements=sum(v.numel() for v in state.values()),
                num_params=sum(v.numel() for k, v in state.items() if not k.endswith('num_batches_tracked')),
                n_trainable=sum(p.numel() for p in model.parameters() if p.requires_grad))


def _check_layout(name: str, actual: dict, expected: dict, count_keys: Dict[str, str]) -> None:
    missing = sorted(set(expected['keys']) - set(actual['keys']))
    extra = sorted(set(actual['keys']) - set(expected['keys']))
    assert actual['keys'] == expected['keys'], (
        f'{name}: state-dict keys differ from the reference: missing {missing[:5]}, extra {extra[:5]} '
        '(or another order)')
    assert actual['shapes'] == expected['shapes'], f'{name}: shapes differ from the reference'
    for expected_key, actual_key in count_keys.items():
        assert actual[actual_key] == expected[expected_key], (
            f'{name}: {expected_key} {actual[actual_key]} != {expected[expected_key]}')


def check_resnet_backbone(case: dict) -> None:
    """ResNetV1c in eval mode: the four stage maps (the same comparison as the MiT backbone)."""
    check_mit(case)


def check_resnet_segmentor(case: dict) -> None:
    """The segmentor checks of the DAFormer / SegFormer cases, plus the train-mode logits where stored."""
    check_segmentor(case)
    expected = case['outputs'].get('encode_decode_trainbn')
    if expected is not None:
        model = _build_loaded(case['config'], case['state_dict'])
        _no_dropout(model)
        with torch.no_grad():
            logits = model.encode_decode(case['inputs']['img'], case['inputs']['img_metas'])
        assert_matches(logits, expected, case['atol'], case['rtol'], 'encode_decode_trainbn')


def check_dlv2_keys(case: dict) -> None:
    """Full-width ResNetV1c-50 / -101 and the dlv2red EncoderDecoder: keys, shapes and parameter counts."""
    for name, expected in case['outputs'].items():
        actual = layout(build_on_meta(case['config'][name]))
        _check_layout(name, actual, expected, dict(num_params='num_params', num_trainable='n_trainable'))


def check_zoo_keys(case: dict) -> None:
    """Full-width models of the architecture study (each entry carries its config): keys, shapes and counts."""
    for name, expected in case['outputs'].items():
        actual = layout(build_on_meta(expected['config']))
        _check_layout(name, actual, expected, dict(n_elements='n_elements', n_trainable_params='n_trainable'))
