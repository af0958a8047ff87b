"""Wheels of what ``tools/benchmark.py`` imports that the GPU machine's image lacks (``make device-wheels``).

    python tools/device_wheels.py download [--dest .whl]   # the locked wheels, verified, into .whl/
    python tools/device_wheels.py lock                     # rewrite the lock from the imports and PyPI
    python tools/device_wheels.py check [--dest .whl]      # duplicates and size of a wheel folder

The lent GPU machine (Python 3.12, x86-64, no network) has PyTorch, NumPy, OpenCV, Pillow,
matplotlib, PyYAML, rich, tqdm and more (``benchmarks/device-image-packages.txt``, as read on the
machine), but not mmengine, mmcv-lite, kornia or cityscapesscripts. ``benchmarks/device-wheels.txt``
locks the wheels of every distribution the benchmark imports that the image lacks (the versions of
``requirements.txt``), with their size and SHA-256; ``download`` fetches exactly these, one version
each, and ``tools/device_bench.sh`` installs them with ``pip --no-deps`` into a temporary folder
there. A call of the device tool carries the working tree and the wheels together, 64 MiB at most.
"""
import argparse
import hashlib
import importlib.metadata as metadata
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, NamedTuple, Set

REPO_ROOT = Path(__file__).resolve().parents[1]
LOCK_FILE = REPO_ROOT / 'benchmarks' / 'device-wheels.txt'
IMAGE_PACKAGES_FILE = REPO_ROOT / 'benchmarks' / 'device-image-packages.txt'
DEFAULT_DEST = REPO_ROOT / '.whl'
CARRY_LIMIT = 64 * 2**20  # what one device call carries: the working tree and the carried paths
PYTHON_VERSION = '3.12'
PLATFORMS = ('manylinux_2_28_x86_64', 'manylinux_2_27_x86_64', 'manylinux_2_17_x86_64', 'manylinux2014_x86_64',
             'manylinux1_x86_64')
# What the benchmark imports, in a fresh interpreter: its modules and the models of every config.
IMPORT_PROBE = ('import importlib.metadata as md, json, sys; sys.argv = ["probe"]; '
                'import tools.benchmark, tools.benchmark_flops; '
                'top = {n.split(".")[0] for n in list(sys.modules)} - set(sys.stdlib_module_names); '
                'dists = md.packages_distributions(); '
                'print(json.dumps({t: dists[t] for t in sorted(top) if t in dists}))')
# Builds of one module that replace each other: the image's headless OpenCV provides the cv2 that
# requirements.txt's opencv-python provides here.
INTERCHANGEABLE_BUILDS = ({'opencv-python', 'opencv-python-headless', 'opencv-contrib-python',
                           'opencv-contrib-python-headless'},)


class LockedWheel(NamedTuple):
    name: str
    version: str
    filename: str
    size: int
    sha256: str


def normalise(name: str) -> str:
    """PEP 503 project name."""
    return re.sub(r'[-_.]+', '-', name).lower()


def read_lock(path: Path = LOCK_FILE) -> List[LockedWheel]:
    """The locked wheels: lines ``name==version  filename  bytes  sha256``, ``#`` comments."""
    wheels = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split('#', 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) != 4 or '==' not in fields[0] or not fields[2].isdigit() or len(fields[3]) != 64:
            raise ValueError(f'{path}:{number}: {line!r}; expected "name==version filename bytes sha256"')
        name, version = fields[0].split('==')
        wheels.append(LockedWheel(normalise(name), version, fields[1], int(fields[2]), fields[3]))
    return wheels


def read_image_packages(path: Path = IMAGE_PACKAGES_FILE) -> Set[str]:
    """Normalised names of the distributions the GPU machine's image holds."""
    return {normalise(line.strip()) for line in path.read_text().splitlines()
            if line.strip() and not line.startswith('#')}


def wheel_project(filename: str) -> str:
    """Normalised project name of a wheel file name (``name-version-...whl``)."""
    return normalise(filename.split('-', 1)[0])


def check_wheels(files: List[Path], limit: int) -> None:
    """Raise if two wheels are of one project or if together they exceed ``limit`` bytes."""
    by_project: Dict[str, List[str]] = {}
    for file in files:
        by_project.setdefault(wheel_project(file.name), []).append(file.name)
    duplicates = {project: names for project, names in by_project.items() if len(names) > 1}
    if duplicates:
        raise SystemExit(f'device wheels: several versions of one project would stop the install: {duplicates}; '
                         'delete all but one')
    total = sum(file.stat().st_size for file in files)
    if total > limit:
        raise SystemExit(f'device wheels: {total / 2**20:.1f} MiB of wheels; at most {limit / 2**20:.1f} MiB travel '
                         'with the working tree')


def tracked_tree_bytes() -> int:
    """Bytes of the files git tracks (what travels with the wheels)."""
    files = subprocess.run(['git', 'ls-files', '-z'], capture_output=True, cwd=REPO_ROOT, check=True).stdout
    return sum((REPO_ROOT / name).stat().st_size for name in files.decode().split('\0')
               if name and (REPO_ROOT / name).is_file())


def pip_download(requirements: List[str], dest: Path) -> None:
    command = [sys.executable, '-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--python-version',
               PYTHON_VERSION, '--implementation', 'cp', '--dest', str(dest), '--quiet']
    for platform in PLATFORMS:
        command += ['--platform', platform]
    result = subprocess.run(command + requirements)
    if result.returncode != 0:
        raise SystemExit(f'device wheels: pip download of {requirements} failed (exit {result.returncode})')


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def download(dest: Path) -> List[Path]:
    """The locked wheels into ``dest``, each checked against its size and SHA-256; then the folder's check."""
    wheels = read_lock()
    dest.mkdir(parents=True, exist_ok=True)
    pip_download([f'{w.name}=={w.version}' for w in wheels], dest)
    for wheel in wheels:
        path = dest / wheel.filename
        if not path.is_file():
            raise SystemExit(f'device wheels: pip did not fetch {wheel.filename} (locked in {LOCK_FILE})')
        if path.stat().st_size != wheel.size or sha256(path) != wheel.sha256:
            raise SystemExit(f'device wheels: {path} differs from {LOCK_FILE} (size or SHA-256)')
    files = sorted(dest.glob('*.whl'))
    check_wheels(files, CARRY_LIMIT - tracked_tree_bytes())
    print(f'device wheels: {len(files)} wheels, {sum(f.stat().st_size for f in files) / 2**20:.1f} MiB in {dest}')
    return files


def imported_distributions(python: str = sys.executable) -> Dict[str, List[str]]:
    """Top-level module -> its distributions, for every non-standard module the benchmark imports."""
    out = subprocess.run([python, '-c', IMPORT_PROBE], capture_output=True, text=True, cwd=REPO_ROOT)
    if out.returncode != 0:
        raise RuntimeError(f'device wheels: importing the benchmark failed:\n{out.stderr[-2000:]}')
    return json.loads(out.stdout.strip().splitlines()[-1])


def requirement_closure(roots: List[str]) -> Set[str]:
    """Normalised names of ``roots`` and of everything they require, installed here (extras left out)."""
    from packaging.requirements import Requirement
    seen: Set[str] = set()
    todo = [normalise(name) for name in roots]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for line in requires:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({'extra': ''}):
                todo.append(normalise(requirement.name))
    return seen


def needed_projects(modules: Dict[str, List[str]], image: Set[str], required: Set[str]) -> Set[str]:
    """Projects to carry: the ``required`` distributions of each imported module none of whose
    distributions the image holds. Modules outside ``required`` are optional imports of a library
    (mmengine imports transformers when it is installed) and are left out."""
    needed = set()
    for distributions in modules.values():
        names = {normalise(d) for d in distributions}
        builds = set().union(names, *(family for family in INTERCHANGEABLE_BUILDS if names & family))
        if not builds & image:
            needed |= names & required
    return needed


def benchmark_requirements() -> Set[str]:
    """What uda-seg requires, with its requirements' requirements (our own package travels as source)."""
    return requirement_closure(['uda-seg']) - {'uda-seg'}


def lock() -> None:
    """Rewrite the lock: the needed projects at their installed versions, fetched once for size and hash."""
    needed = sorted(needed_projects(imported_distributions(), read_image_packages(), benchmark_requirements()))
    pins = [f'{name}=={metadata.version(name)}' for name in needed]
    with tempfile.TemporaryDirectory() as tmp:
        pip_download(pins, Path(tmp))
        files = sorted(Path(tmp).glob('*.whl'))
        check_wheels(files, CARRY_LIMIT - tracked_tree_bytes())
        by_project = {wheel_project(f.name): f for f in files}
        lines = []
        for name, pin in zip(needed, pins):
            file = by_project[name]
            lines.append(f'{pin:<30} {file.name} {file.stat().st_size} {sha256(file)}')
    header = [line for line in LOCK_FILE.read_text().splitlines() if line.startswith('#')] \
        if LOCK_FILE.exists() else []
    LOCK_FILE.write_text('\n'.join(header + lines) + '\n')
    print(f'device wheels: locked {len(lines)} wheels in {LOCK_FILE}')


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('command', choices=('download', 'lock', 'check'))
    parser.add_argument('--dest', type=Path, default=DEFAULT_DEST, help='wheel folder (default: .whl/)')
    args = parser.parse_args(argv)
    if args.command == 'download':
        download(args.dest)
    elif args.command == 'lock':
        lock()
    else:
        check_wheels(sorted(args.dest.glob('*.whl')), CARRY_LIMIT - tracked_tree_bytes())
        print(f'device wheels: {args.dest} is fine')


if __name__ == '__main__':
    main()
