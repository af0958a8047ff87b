"""Reading pretrained weights and loading them with clear reports and errors."""
import logging
from pathlib import Path
from typing import Dict, Iterable, List, NamedTuple, Union

import torch
from mmengine.logging import print_log
from torch import nn

MIT_WEIGHTS_HELP = (
    'The MiT ImageNet-1k weights (mit_b0.pth ... mit_b5.pth) are released by the SegFormer authors '
    '(https://github.com/NVlabs/SegFormer, "ImageNet-1K pretrained weights" in its README). Download '
    'the file you need, put it at {path} (the configs expect pretrained/mit_b5.pth), and check it with '
    '`python tools/check_pretrained.py {path}`. The weights carry their authors\' licence.')


class LoadReport(NamedTuple):
    """What a non-strict load did: keys absent from the file, and file keys that were not used."""
    missing: List[str]
    unexpected: List[str]


def read_state_dict(path: Union[str, Path], help_text: str = MIT_WEIGHTS_HELP) -> Dict[str, torch.Tensor]:
    """Read a checkpoint on CPU and return its state dict (``state_dict``, else ``model``, else the object)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'Pretrained weights not found: {path}. ' + help_text.format(path=path))
    checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    if not isinstance(checkpoint, dict):
        raise ValueError(f'{path}: expected a dict of tensors (a state dict), got {type(checkpoint).__name__}')
    for key in ('state_dict', 'model'):
        if key in checkpoint:
            return checkpoint[key]
    return checkpoint


def check_shapes(module: nn.Module, state_dict: Dict[str, torch.Tensor], source: str) -> None:
    """Raise if a tensor of ``state_dict`` exists in ``module`` with another shape."""
    own = module.state_dict()
    wrong = [(k, tuple(v.shape), tuple(own[k].shape)) for k, v in state_dict.items()
             if k in own and tuple(v.shape) != tuple(own[k].shape)]
    if wrong:
        lines = '\n'.join(f'  {k}: {got} in the file, {expected} expected' for k, got, expected in wrong[:10])
        more = f'\n  ... and {len(wrong) - 10} more' if len(wrong) > 10 else ''
        raise ValueError(f'{source}: {len(wrong)} tensor(s) have the wrong shape for '
                         f'{type(module).__name__}:\n{lines}{more}')


def load_state_dict_checked(module: nn.Module,
                            state_dict: Dict[str, torch.Tensor],
                            source: str,
                            ignore_prefixes: Iterable[str] = ()) -> LoadReport:
    """Load non-strictly after a shape check; log and return missing / unexpected keys.

    Keys starting with one of ``ignore_prefixes`` (e.g. the ImageNet classifier ``head.``) are
    dropped silently.
    """
    ignore_prefixes = tuple(ignore_prefixes)
    state_dict = {k: v for k, v in state_dict.items() if not (ignore_prefixes and k.startswith(ignore_prefixes))}
    check_shapes(module, state_dict, source)
    result = module.load_state_dict(state_dict, strict=False)
    report = LoadReport(list(result.missing_keys), list(result.unexpected_keys))
    if report.missing:
        print_log(f'{source}: {len(report.missing)} missing key(s) in the file, e.g. {report.missing[:5]}',
                  logger='current', level=logging.WARNING)
    if report.unexpected:
        print_log(f'{source}: {len(report.unexpected)} unexpected key(s) ignored, e.g. {report.unexpected[:5]}',
                  logger='current', level=logging.WARNING)
    return report
