"""Loading and comparing the golden cases produced with the original DAFormer / HRDA code.

See ``$UDA_GOLDEN_DIR/README.md`` for the file format.
"""
import math
import os
from pathlib import Path
from typing import Any, Dict, Optional

import torch

_REPO_ROOT = Path(__file__).resolve().parents[1]


def golden_dir() -> Path:
    """The golden folder: ``$UDA_GOLDEN_DIR``, default ``../shared/golden`` beside the checkout."""
    env = os.environ.get('UDA_GOLDEN_DIR')
    return Path(env) if env else (_REPO_ROOT.parent / 'shared' / 'golden')


def load_case(name_or_path, directory: Optional[Path] = None) -> Dict[str, Any]:
    """Load one case and rebuild its full ``state_dict`` from ``state_dict_refs``."""
    path = Path(name_or_path)
    if path.suffix != '.pt':
        path = (directory or golden_dir()) / f'{name_or_path}.pt'
    case = torch.load(path, map_location='cpu', weights_only=True)
    case['state_dict'] = full_state_dict(case, path.parent)
    return case


def full_state_dict(case: dict, directory: Path) -> Dict[str, torch.Tensor]:
    """``state_dict`` plus the reused weights of ``state_dict_refs``, in ``state_dict_keys`` order."""
    state = dict(case.get('state_dict', {}))
    for ref in case.get('state_dict_refs', []):
        other = load_case(directory / ref['file'])
        for key, value in other['state_dict'].items():
            if key.startswith(ref['src_prefix']):
                state[ref['dst_prefix'] + key[len(ref['src_prefix']):]] = value
    keys = case.get('state_dict_keys')
    if keys is not None:
        assert set(keys) == set(state), (
            f"{case['case']}: rebuilt state dict keys differ from state_dict_keys: "
            f'missing {sorted(set(keys) - set(state))[:5]}, extra {sorted(set(state) - set(keys))[:5]}')
        state = {k: state[k] for k in keys}
    # float16 storage -> float32 values; copies, because shared storage must not be changed in place
    return {k: (v.float() if v.is_floating_point() else v.clone()) for k, v in state.items()}


def assert_matches(actual: Any, expected: Any, atol: float, rtol: float, path: str = 'outputs') -> None:
    """Compare nested outputs: floats with allclose (NaN equals NaN), everything else exactly."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f'{path}: expected a dict, got {type(actual).__name__}'
        assert set(actual) == set(expected), (
            f'{path}: keys differ: missing {sorted(set(expected) - set(actual))}, '
            f'extra {sorted(set(actual) - set(expected))}')
        for key in expected:
            assert_matches(actual[key], expected[key], atol, rtol, f'{path}/{key}')
    elif isinstance(expected, (list, tuple)):
        assert isinstance(actual, (list, tuple)), f'{path}: expected a sequence, got {type(actual).__name__}'
        assert len(actual) == len(expected), f'{path}: length {len(actual)} != {len(expected)}'
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_matches(a, e, atol, rtol, f'{path}[{i}]')
    elif torch.is_tensor(expected):
        actual = torch.as_tensor(actual)
        assert tuple(actual.shape) == tuple(expected.shape), (
            f'{path}: shape {tuple(actual.shape)} != expected {tuple(expected.shape)}')
        if expected.is_floating_point():
            actual = actual.detach().to(torch.float64).cpu()
            exp = expected.to(torch.float64)
            close = torch.isclose(actual, exp, rtol=rtol, atol=atol, equal_nan=True)
            if not bool(close.all()):
                diff = (actual - exp).abs()
                diff[torch.isnan(diff)] = math.inf
                raise AssertionError(
                    f'{path}: {int((~close).sum())}/{close.numel()} elements outside atol={atol}, rtol={rtol}; '
                    f'max |diff| = {diff.max().item():.3g}')
        else:
            assert torch.equal(actual.cpu().to(expected.dtype), expected), (
                f'{path}: {int((actual.cpu().to(expected.dtype) != expected).sum())} elements differ')
    elif isinstance(expected, float):
        if math.isnan(expected):
            assert math.isnan(float(actual)), f'{path}: expected NaN, got {actual}'
        else:
            assert abs(float(actual) - expected) <= atol + rtol * abs(expected), (
                f'{path}: {float(actual)} != expected {expected} (atol={atol}, rtol={rtol})')
    else:
        assert actual == expected, f'{path}: {actual!r} != expected {expected!r}'
