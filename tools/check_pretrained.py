"""Check the ImageNet weights placed in ``pretrained/`` (or given paths): MiT and open-mmlab's ResNets.

    python tools/check_pretrained.py                 # every pretrained/mit_b*.pth, resnet*_v1c*.pth, resnest*.pth
    python tools/check_pretrained.py path/to/mit_b5.pth pretrained/resnet101_v1c-e67eebb6.pth

For each file: loads it, reports the MiT variant it matches and any key / shape mismatch, and
whether the name agrees with the content. A file named after open-mmlab's weights
(``resnet101_v1c-e67eebb6.pth``, ``resnest50_d2-7497a55b.pth``, ...) is checked against that ResNet / ResNeSt
instead. Exit status 1 if a file is missing or does not match.
"""
import argparse
import sys
from pathlib import Path
from typing import List

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import torch  # noqa: E402

from mmseg.models.backbones.mit_variant_match import match_mit_variants  # noqa: E402
from mmseg.models.utils.pretrained import (MIT_WEIGHTS_HELP, OPEN_MMLAB_BACKBONES, open_mmlab_help,  # noqa: E402
                                           open_mmlab_name, read_state_dict, strip_wrapper_prefix,
                                           verify_resnet_state_dict)
from mmseg.registry import MODELS  # noqa: E402

# The ResNet weights in pretrained/ that a call without paths checks (besides mit_b*.pth).
RESNET_PATTERNS = ('resnet*_v1c*.pth', 'resnest*.pth')


def check_resnet_file(path: Path, name: str) -> bool:
    """Print the verdict for a file named after open-mmlab's ``name``; True if it holds that backbone."""
    with torch.device('meta'):
        model = MODELS.build(OPEN_MMLAB_BACKBONES[name])
    try:
        state_dict = strip_wrapper_prefix(read_state_dict(path, open_mmlab_help(name)))
        report = verify_resnet_state_dict(model, state_dict, str(path))
    except (FileNotFoundError, ValueError, RuntimeError) as error:
        message = str(error)
        print(f'[FAIL] {message}' if message.startswith(str(path)) else f'[FAIL] {path}: {message}')
        return False
    unused = f'; {len(report.unexpected)} unused tensor(s), e.g. {report.unexpected[:3]}' if report.unexpected else ''
    print(f'[OK]   {path}: {name} ({type(model).__name__}-{model.depth}), all {len(model.state_dict())} backbone '
          f'tensors match (the ImageNet classifier fc.* is ignored){unused}')
    return True


def check_file(path: Path) -> bool:
    """Print the verdict for one file; True if it is a complete MiT (or named ResNet) checkpoint."""
    name = open_mmlab_name(path)
    if name is not None:
        return check_resnet_file(path, name)
    try:
        state_dict = read_state_dict(path)
    except (FileNotFoundError, ValueError, RuntimeError) as error:
        message = str(error)
        print(f'[FAIL] {message}' if message.startswith(str(path)) else f'[FAIL] {path}: {message}')
        return False
    best = match_mit_variants(state_dict)[0]
    has_head = any(k.startswith('head.') for k in state_dict)
    if best.exact:
        note = ' (the ImageNet classifier head.* is ignored)' if has_head else ''
        name_note = '' if best.variant in path.name else f'; note: the file name does not say {best.variant}'
        print(f'[OK]   {path}: {best.variant}, all {len(state_dict) - has_head * 2} backbone tensors match{note}'
              f'{name_note}')
        return True
    print(f'[FAIL] {path}: no MiT variant matches; closest is {best.variant} with '
          f'{len(best.missing)} missing, {len(best.unexpected)} unexpected and {len(best.wrong_shape)} '
          f'wrongly shaped tensors')
    for label, keys in (('missing', best.missing), ('unexpected', best.unexpected),
                        ('wrong shape', best.wrong_shape)):
        if keys:
            print(f'       {label}: {keys[:5]}{" ..." if len(keys) > 5 else ""}')
    return False


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('paths', nargs='*', type=Path, help='checkpoint files (default: pretrained/mit_b*.pth)')
    args = parser.parse_args(argv)
    paths = args.paths or sorted(path for pattern in ('mit_b*.pth', ) + RESNET_PATTERNS
                                 for path in (REPO_ROOT / 'pretrained').glob(pattern))
    if not paths:
        print('No MiT weights found in pretrained/. ' + MIT_WEIGHTS_HELP.format(path='pretrained/mit_b5.pth'))
        return 1
    results = [check_file(path) for path in paths]
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main())
