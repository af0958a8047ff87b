"""Check the MiT ImageNet weights placed in ``pretrained/`` (or given paths).

    python tools/check_pretrained.py                 # every pretrained/mit_b*.pth
    python tools/check_pretrained.py path/to/mit_b5.pth

For each file: loads it, reports the MiT variant it matches and any key / shape mismatch, and
whether the name agrees with the content. Exit status 1 if a file is missing or matches no variant.
"""
import argparse
import sys
from pathlib import Path
from typing import List

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from mmseg.models.backbones.mit_variant_match import match_mit_variants  # noqa: E402
from mmseg.models.utils.pretrained import MIT_WEIGHTS_HELP, read_state_dict  # noqa: E402


def check_file(path: Path) -> bool:
    """Print the verdict for one file; True if it is a complete MiT checkpoint."""
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
    paths = args.paths or sorted((REPO_ROOT / 'pretrained').glob('mit_b*.pth'))
    if not paths:
        print('No MiT weights found in pretrained/. ' + MIT_WEIGHTS_HELP.format(path='pretrained/mit_b5.pth'))
        return 1
    results = [check_file(path) for path in paths]
    return 0 if all(results) else 1


if __name__ == '__main__':
    sys.exit(main())
