"""The README's quick start, run as written (the commands extracted from README.md) in a fresh clone on the
embedded synthetic pair, with the two size flags the README documents for this test."""
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List

REPO_ROOT = Path(__file__).resolve().parents[1]
MARKER = '<!-- quickstart'
# the flags README.md documents for this test's time budget, appended to the command that contains the key
SHORT_RUN_FLAGS = {'tools/make_synthetic_data.py': '--num 16 --num-target-train 16 --num-val 4',
                   'run_experiments.py': '--iters 2'}
INSTALL_STAMP = '.uda-seg-installed'  # the Makefile's stamp in the environment folder


def quickstart_commands(readme: Path) -> List[str]:
    """The lines of the first ```sh block after the quick-start marker of ``readme``."""
    text = readme.read_text()
    assert MARKER in text, f'{readme}: no quick-start marker {MARKER!r}'
    block = text[text.index(MARKER):].split('```sh\n', 1)[1].split('```', 1)[0]
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith('#')]


def short_run(commands: List[str]) -> List[str]:
    """``commands`` with :data:`SHORT_RUN_FLAGS` appended (before a trailing comment); each key must occur."""
    shortened = []
    for command in commands:
        code, hash_, comment = command.partition('  #')
        for key, flags in SHORT_RUN_FLAGS.items():
            if key in code:
                code = f'{code.rstrip()} {flags}  '
        shortened.append(code + hash_ + comment)
    for key in SHORT_RUN_FLAGS:
        assert sum(key in c for c in commands) == 1, f'the quick start has no single command with {key}'
    return shortened


def fresh_clone(target: Path) -> Path:
    """A clone of the repository with the working tree's uncommitted changes laid over it (none in CI)."""
    subprocess.run(['git', 'clone', '-q', str(REPO_ROOT), str(target)], check=True)
    git = ['git', '-C', str(REPO_ROOT)]
    changed = subprocess.run(git + ['diff', '--name-only', 'HEAD'], capture_output=True, text=True, check=True)
    untracked = subprocess.run(git + ['ls-files', '--others', '--exclude-standard'], capture_output=True, text=True,
                               check=True)
    for name in changed.stdout.splitlines() + untracked.stdout.splitlines():
        source, copy = REPO_ROOT / name, target / name
        if source.is_file():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy)
        elif copy.exists():
            copy.unlink()
    return target


def test_readme_quick_start_runs_as_written_in_a_fresh_clone(tmp_path):
    env_dir = Path(sys.prefix)  # the environment running this test plays .venv
    stamp = env_dir / INSTALL_STAMP
    assert stamp.is_file(), f'{env_dir} was not installed by `make install` (no {INSTALL_STAMP})'
    clone = fresh_clone(tmp_path / 'uda-seg')
    (clone / '.venv').symlink_to(env_dir, target_is_directory=True)
    installed = stamp.stat().st_mtime - 10  # requirement files older than the install: make install has nothing to do
    for name in ('requirements.txt', 'requirements-test.txt', 'pyproject.toml'):
        os.utime(clone / name, (installed, installed))
    script = 'set -e\n' + '\n'.join(short_run(quickstart_commands(clone / 'README.md'))) + '\n'
    env = {k: v for k, v in os.environ.items() if k not in ('VIRTUAL_ENV', 'PYTHONPATH', 'PYTHONHOME')}
    env.update(OMP_NUM_THREADS='1', OMP_WAIT_POLICY='PASSIVE')
    result = subprocess.run(['bash', '-c', script], cwd=clone, env=env, capture_output=True, text=True, timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f'quick start failed:\n{script}\n{output[-5000:]}'
    assert "Nothing to be done for 'install'" in output
    assert 'The prefix is not set in metric' not in output

    run = clone / 'work_dirs' / 'quickstart'  # what the README says the run directory holds
    assert (run / 'iter_2.pth').is_file() and (run / 'class_mix_debug').is_dir()
    assert len(list(run.glob('*_synth_gta2cs_dacs_rcs_*.py'))) == 1
    assert len(list((clone / 'configs' / 'generated' / 'local-synth').glob('*_synth_gta2cs_dacs_rcs_*.py'))) == 1
    logs = list(run.glob('*/*.log'))
    assert len(logs) == 1 and (logs[0].parent / 'vis_data' / 'scalars.json').is_file()
    log = logs[0].read_text()  # the short start-up log: versions and where things are, not the whole config
    assert 'config as trained:' in log and 'System environment' not in log and 'Config:' not in log
    assert (logs[0].parent / 'environment.txt').is_file()
    assert (run / 'test_results.json').is_file() and len(list((run / 'preds').rglob('*_labelTrainIds.png'))) == 4
    assert len(list((run / 'demo').rglob('*_pred.png'))) == len(list((run / 'demo').rglob('*_labelTrainIds.png'))) == 4
