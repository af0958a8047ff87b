"""torchvision, timm and mmcv.ops cannot be installed on CPU here: nothing may import them."""
import ast
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ('torchvision', 'timm', 'mmcv.ops')
SKIP_DIRS = {'.venv', '.git', 'build', 'dist', 'work_dirs', 'data'}


def forbidden_imports(source: str):
    """(line, module) for every import of a forbidden module in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] if _is_forbidden(node.module) else [f'{node.module}.{a.name}' for a in node.names]
        else:
            continue
        found += [(node.lineno, n) for n in names if _is_forbidden(n)]
    return found


def _is_forbidden(module: str) -> bool:
    return any(module == f or module.startswith(f + '.') for f in FORBIDDEN)


def test_detector_finds_each_forbidden_form():
    source = 'import torchvision\nfrom timm.layers import DropPath\nfrom mmcv import ops\nimport mmcv.ops.nms\n'
    assert [n for _, n in forbidden_imports(source)] == ['torchvision', 'timm.layers', 'mmcv.ops', 'mmcv.ops.nms']
    assert forbidden_imports('import mmcv.cnn\nfrom torch import nn\nimport timmy\n') == []


def test_no_python_file_imports_torchvision_timm_or_mmcv_ops():
    offenders = []
    for path in REPO_ROOT.rglob('*.py'):
        if SKIP_DIRS.intersection(path.relative_to(REPO_ROOT).parts):
            continue
        offenders += [f'{path.relative_to(REPO_ROOT)}:{line}: {name}'
                      for line, name in forbidden_imports(path.read_text())]
    assert not offenders, 'forbidden imports:\n' + '\n'.join(offenders)
