"""Find the config and the latest checkpoint of a run directory (ours or released with the original code).

Config, in this order: ``<run>/<run name>.py`` (what our runs dump), the reference's glob
``<run>/*<last character of the run name>.json`` / ``.py``, then the only ``.py`` / ``.json`` file (besides
``test_results.json``, which test.sh writes there).
Checkpoint: ``latest.pth`` (the reference), the file named in ``last_checkpoint`` (mmengine), then
the ``iter_<n>.pth`` with the largest n.
"""
import re
from pathlib import Path
from typing import List, NamedTuple, Union


# Files that tools write into a run directory, never its config.
RUN_OUTPUTS = ('test_results.json', )


class RunFiles(NamedTuple):
    config: Path
    checkpoint: Path


def find_run_config(run_dir: Path) -> Path:
    """The config of a run directory (see the module docstring)."""
    own = run_dir / f'{run_dir.name}.py'
    if own.is_file():
        return own
    for suffix in ('.json', '.py'):
        matches = sorted(run_dir.glob(f'*{run_dir.name[-1]}{suffix}'))
        if len(matches) == 1:
            return matches[0]
    candidates: List[Path] = sorted(p for p in run_dir.iterdir()
                                    if p.suffix in ('.py', '.json') and p.is_file() and p.name not in RUN_OUTPUTS)
    if len(candidates) == 1:
        return candidates[0]
    raise FileNotFoundError(
        f'{run_dir}: cannot tell the run config; expected {own.name} (ours) or one *.json (original DAFormer/HRDA), '
        f'found {[p.name for p in candidates] or "no .py/.json file"}')


def latest_checkpoint(run_dir: Path) -> Path:
    """The latest checkpoint of a run directory (see the module docstring)."""
    latest = run_dir / 'latest.pth'
    if latest.is_file():
        return latest
    pointer = run_dir / 'last_checkpoint'
    if pointer.is_file():
        named = Path(pointer.read_text().strip())
        for candidate in (named, run_dir / named.name):
            if candidate.is_file():
                return candidate
    iterations = [(int(m.group(1)), p) for p in run_dir.glob('iter_*.pth') if (m := re.fullmatch(r'iter_(\d+)\.pth', p.name))]
    if iterations:
        return max(iterations)[1]
    raise FileNotFoundError(f'{run_dir}: no checkpoint (latest.pth, last_checkpoint or iter_<n>.pth)')


def find_run_files(run_dir: Union[str, Path]) -> RunFiles:
    """The run's config and latest checkpoint; errors name the run directory and what was looked for."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise FileNotFoundError(f'Run directory not found: {run_dir}')
    return RunFiles(find_run_config(run_dir), latest_checkpoint(run_dir))
