"""tools/device_bench.sh (its CPU tiny mode, the time budget) and the device wheels of tools/device_wheels.py."""
import importlib.metadata as metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tools import device_wheels

REPO_ROOT = Path(__file__).resolve().parents[1]


def _device_bench(out: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1', **env)
    return subprocess.run(['bash', 'tools/device_bench.sh', *args, str(out)], cwd=REPO_ROOT, env=environment,
                          capture_output=True, text=True, timeout=600)


def test_tiny_mode_runs_every_step_on_the_cpu_and_installs_nothing(tmp_path):
    run = _device_bench(tmp_path, '--tiny')
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert 'installed' not in run.stdout
    [timing_file] = tmp_path.glob('synth_gta2cs_dacs_rcs__*__compile-eager__1threads.json')
    timing = json.loads(timing_file.read_text())
    assert set(timing['modes']) == {'reference', 'fast'}
    assert timing['modes']['fast']['settings']['compile'] is True
    assert timing['modes']['fast']['settings']['compile_backend'] == 'eager'
    assert timing['modes']['reference']['crop'] == [32, 32]
    flops = json.loads((tmp_path / 'synth_gta2cs_dacs_rcs__flops.json').read_text())
    assert flops['flops']['step_expected'] > 0
    summary = (tmp_path / 'summary.txt').read_text()
    assert 'reference (float32)' in summary and 'fast + compile (bfloat16)' in summary
    assert (tmp_path / 'device_bench_status.txt').read_text().count(': done') == 2
    assert 'device_bench: tiny flops' in (tmp_path / 'device_bench.log').read_text()


def test_runs_past_the_time_budget_are_skipped_and_reported(tmp_path):
    run = _device_bench(tmp_path, '--tiny', DEVICE_BENCH_BUDGET_S='40')
    assert run.returncode == 1
    status = (tmp_path / 'device_bench_status.txt').read_text().splitlines()
    assert [line.split(':')[0] for line in status] == ['tiny flops', 'tiny reference + fast with compile']
    assert all(': skipped, ' in line and line.endswith('s of the budget left') for line in status)
    assert 'no timing results' in (tmp_path / 'summary.txt').read_text()


def test_the_lock_holds_what_the_benchmark_imports_beyond_the_gpu_image():
    """Without downloading: the locked wheels are exactly the distributions the benchmark imports that
    the GPU image lacks, at the installed (requirements.txt) versions, one each, and they travel with
    the working tree within 64 MiB."""
    wheels = device_wheels.read_lock()
    names = [w.name for w in wheels]
    assert len(names) == len(set(names))
    needed = device_wheels.needed_projects(device_wheels.imported_distributions(),
                                           device_wheels.read_image_packages(), device_wheels.benchmark_requirements())
    assert set(names) == needed
    assert {'mmengine', 'mmcv-lite', 'kornia', 'cityscapesscripts'} <= needed
    for wheel in wheels:
        assert wheel.version == metadata.version(wheel.name), wheel
        assert device_wheels.wheel_project(wheel.filename) == wheel.name
        assert 'cp312' in wheel.filename or 'none-any' in wheel.filename, wheel.filename
    assert sum(w.size for w in wheels) + device_wheels.tracked_tree_bytes() < device_wheels.CARRY_LIMIT


def test_a_module_the_image_holds_in_another_build_is_not_carried():
    """cv2 from opencv-python here is the image's opencv-python-headless there: nothing to carry."""
    image = {'opencv-python-headless', 'torch'}
    required = {'opencv-python', 'kornia'}
    modules = {'cv2': ['opencv-python'], 'kornia': ['kornia']}
    assert device_wheels.needed_projects(modules, image, required) == {'kornia'}


def test_check_rejects_two_versions_of_a_project_and_too_many_bytes(tmp_path):
    (tmp_path / 'kornia-0.9.0-py3-none-any.whl').write_bytes(b'x' * 10)
    (tmp_path / 'termcolor-3.3.0-py3-none-any.whl').write_bytes(b'x' * 10)
    device_wheels.check_wheels(sorted(tmp_path.glob('*.whl')), limit=20)
    with pytest.raises(SystemExit, match='at most'):
        device_wheels.check_wheels(sorted(tmp_path.glob('*.whl')), limit=19)
    (tmp_path / 'kornia-0.8.1-py3-none-any.whl').write_bytes(b'x')
    with pytest.raises(SystemExit, match="several versions.*'kornia'"):
        device_wheels.check_wheels(sorted(tmp_path.glob('*.whl')), limit=100)


def test_a_bad_lock_line_is_named(tmp_path):
    lock = tmp_path / 'lock.txt'
    lock.write_text('# comment\nkornia==0.9.0 kornia-0.9.0-py3-none-any.whl 12\n')
    with pytest.raises(ValueError, match=r'lock.txt:2: .*expected "name==version filename bytes sha256"'):
        device_wheels.read_lock(lock)


@pytest.mark.skipif(os.environ.get('UDA_SEG_DOWNLOAD_TESTS') != '1',
                    reason='downloads 9 MB from PyPI: set UDA_SEG_DOWNLOAD_TESTS=1 (make device-wheels does the same)')
def test_download_fetches_exactly_the_locked_wheels(tmp_path):
    files = device_wheels.download(tmp_path)
    assert sorted(f.name for f in files) == sorted(w.filename for w in device_wheels.read_lock())
