"""mmsegmentation in the same environment is refused at import with a message that says how to separate them."""
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def fake_mmsegmentation(root: Path, with_package: bool) -> Path:
    """An installed-looking mmsegmentation 1.2.2 (its dist-info, and optionally its ``mmseg`` package) in ``root``."""
    dist_info = root / 'mmsegmentation-1.2.2.dist-info'
    dist_info.mkdir(parents=True)
    (dist_info / 'METADATA').write_text('Metadata-Version: 2.1\nName: mmsegmentation\nVersion: 1.2.2\n')
    if with_package:
        (root / 'mmseg').mkdir()
        (root / 'mmseg' / '__init__.py').write_text("__version__ = '1.2.2'\n")
    return root


def run_python(args, site: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(site))
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env)


def test_import_is_refused_when_mmsegmentation_is_installed(tmp_path):
    site = fake_mmsegmentation(tmp_path / 'site', with_package=False)
    result = run_python(['-c', 'import mmseg'], site, REPO_ROOT)
    assert result.returncode != 0
    assert 'PackageConflictError: mmsegmentation 1.2.2 is installed in this environment' in result.stderr
    assert 'separate virtual environments' in result.stderr
    assert run_python(['-c', 'import mmseg'], tmp_path, REPO_ROOT).returncode == 0  # without it: imports


def test_our_tools_refuse_when_mmsegmentation_shadows_our_package(tmp_path):
    site = fake_mmsegmentation(tmp_path / 'site', with_package=True)
    assert run_python(['-c', 'import mmseg; print(mmseg.__version__)'], site, tmp_path).stdout.strip() == '1.2.2'
    result = run_python([str(REPO_ROOT / 'tools' / 'test.py'), '--help'], site, tmp_path)
    assert result.returncode != 0
    assert 'mmsegmentation 1.2.2 is installed' in result.stderr and 'provides a package called "mmseg"' in result.stderr
