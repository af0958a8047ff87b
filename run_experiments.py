"""Launch experiments as the reference does.

    python run_experiments.py --config CFG [--debug] [--startup-test] [--work-dir DIR] [--resume [CKPT]]
    python run_experiments.py --resume RUN_DIR_OR_CKPT [--work-dir DIR] [--cfg-options k=v ...]

``--config CFG`` starts a new run: it writes a config that inherits CFG, names the run
(``<yymmdd_HHMM>_<name>_<uuid5>``) and carries the ``--debug`` / ``--startup-test`` overrides, to
``configs/generated/local-<exp>[-startup]/<run>.py``, then trains it with ``tools/train.py`` in the
run directory ``work_dirs/local-<exp>[-startup]/<run>/`` (or ``--work-dir``). The generated file
alone reproduces the run.

``--resume`` continues a run:
- ``--resume RUN_DIR`` (or ``--resume RUN_DIR/iter_N.pth``) without ``--config`` trains the config
  that the run dumped into RUN_DIR (``RUN_DIR/<RUN_DIR name>.py``, see ``mmseg.apis.run_dir``) further, in
  RUN_DIR (or ``--work-dir``), from RUN_DIR's latest checkpoint (or the one given). Raise the
  iteration count with ``--cfg-options train_cfg.max_iters=N param_scheduler.0.max_iters=N
  param_scheduler.0.end=N``.
- ``--config CFG --resume [CKPT]`` starts a new generated run that resumes from CKPT (a checkpoint or
  a run directory's latest), or, without CKPT, from the latest checkpoint in its own work dir (with
  ``--work-dir`` pointing at an existing run).

``--debug``: log every 10 iterations, evaluate every 200, DACS debug images every 10.
``--startup-test``: 2 iterations (the schedule follows), evaluation and checkpoints every 100 (so
none), no final checkpoint, log level ERROR.
"""
import argparse
import os
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import List, Optional

from mmengine.config import Config

REPO_ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO_ROOT))

from mmseg.apis.run_dir import find_run_config, latest_checkpoint  # noqa: E402
from tools import train  # noqa: E402

STARTUP_TEST_ITERS = 2
RESUME_LATEST = object()  # --resume without a value: the latest checkpoint of the work dir


def git_revision() -> str:
    """The checkout's commit hash, or 'unknown' outside a git checkout."""
    result = subprocess.run(['git', 'rev-parse', 'HEAD'], capture_output=True, text=True, cwd=REPO_ROOT)
    return result.stdout.strip() if result.returncode == 0 else 'unknown'


def _merge(base: dict, update: dict) -> dict:
    """``base`` updated recursively with ``update`` (both plain dicts)."""
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            value = _merge(merged[key], value)
        merged[key] = value
    return merged


def _literal(value) -> str:
    """``value`` (ConfigDicts, dicts, lists, scalars) as config source, dicts written ``dict(k=v)``."""
    if hasattr(value, 'to_dict'):
        value = value.to_dict()
    if isinstance(value, dict) and all(isinstance(k, str) and k.isidentifier() for k in value):
        return 'dict(' + ', '.join(f'{k}={_literal(v)}' for k, v in value.items()) + ')'
    if isinstance(value, list):
        return '[' + ', '.join(_literal(v) for v in value) + ']'
    return repr(value)


def _hook_override(cfg: Config, name: str, hook_type: str, **values) -> dict:
    """``default_hooks.<name>`` override; names the hook type when the config has no such hook."""
    has_hook = (cfg.get('default_hooks') or {}).get(name) is not None
    return values if has_hook else dict(type=hook_type, **values)


def debug_overrides(cfg: Config) -> dict:
    """Reference ``--debug``: log interval 10, evaluation every 200 iterations, debug images every 10."""
    overrides = dict(default_hooks=dict(logger=_hook_override(cfg, 'logger', 'LoggerHook', interval=10)),
                     train_cfg=dict(val_interval=200))
    if cfg.get('uda') is not None:
        overrides['uda'] = dict(debug_img_interval=10)
    return overrides


def startup_test_overrides(cfg: Config) -> dict:
    """Reference ``--startup-test``: log level ERROR, 2 iterations, evaluation and checkpoint interval 100
    without a final checkpoint. Iteration-based schedulers that end at ``train_cfg.max_iters`` are cut
    to 2 iterations too, as the reference's poly schedule follows ``runner.max_iters``."""
    overrides = dict(
        log_level='ERROR',
        train_cfg=dict(max_iters=STARTUP_TEST_ITERS, val_interval=100),
        default_hooks=dict(checkpoint=_hook_override(cfg, 'checkpoint', 'CheckpointHook', by_epoch=False,
                                                     interval=100, save_last=False)))
    old_iters = (cfg.get('train_cfg') or {}).get('max_iters')
    schedulers = cfg.get('param_scheduler')
    if old_iters is not None and schedulers is not None:
        schedulers = [schedulers] if isinstance(schedulers, dict) else schedulers
        schedulers = [s.to_dict() if hasattr(s, 'to_dict') else dict(s) for s in schedulers]
        cut = [{k: STARTUP_TEST_ITERS if k in ('end', 'max_iters') and v == old_iters else v for k, v in s.items()}
               for s in schedulers]
        if cut != schedulers:
            overrides['param_scheduler'] = cut
    return overrides


def generate_run_config(config: str, gen_root: Path, work_root: Path, *, debug: bool = False,
                        startup_test: bool = False, work_dir: Optional[str] = None,
                        machine: str = 'local') -> Path:
    """Write the run's config (inheriting ``config``, with the debug / startup-test overrides) and
    return its path."""
    cfg = Config.fromfile(config)
    exp_name = f'{machine}-{cfg.get("exp", "basic")}' + ('-startup' if startup_test else '')
    run_name = f'{datetime.now().strftime("%y%m%d_%H%M")}_{cfg.get("name", Path(config).stem)}_{uuid.uuid4().hex[:5]}'
    out_file = gen_root / exp_name / f'{run_name}.py'
    out_file.parent.mkdir(parents=True, exist_ok=True)
    base = os.path.relpath(Path(config).resolve(), out_file.parent.resolve())
    overrides = {}
    if debug:
        overrides = _merge(overrides, debug_overrides(cfg))
    if startup_test:
        overrides = _merge(overrides, startup_test_overrides(cfg))
    flags = ' '.join(flag for flag, on in (('--debug', debug), ('--startup-test', startup_test)) if on)
    lines = [f'# Generated by run_experiments.py{" " + flags if flags else ""} from {config}',
             f'_base_ = [{base!r}]',
             f'name = {run_name!r}',
             f'work_dir = {str(work_dir or work_root / exp_name / run_name)!r}',
             f'git_rev = {git_revision()!r}']
    if overrides:
        lines.append(f'# {flags} overrides')
        lines += [f'{key} = {_literal(value)}' for key, value in overrides.items()]
    tmp = out_file.with_suffix('.py.tmp')
    tmp.write_text('\n'.join(lines) + '\n')
    tmp.replace(out_file)
    return out_file


def resume_target(path: str) -> Path:
    """The checkpoint that ``--resume PATH`` names: PATH itself or a run directory's latest."""
    target = Path(path)
    if target.is_dir():
        return latest_checkpoint(target)
    if not target.is_file():
        raise FileNotFoundError(f'--resume {path}: no such checkpoint or run directory')
    return target


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument('--config', help='experiment config to start a new run from')
    parser.add_argument('--machine', choices=['local'], default='local', help='prefix of the experiment folder')
    parser.add_argument('--debug', action='store_true',
                        help='log every 10 iterations, evaluate every 200, DACS debug images every 10')
    parser.add_argument('--startup-test', action='store_true',
                        help='train 2 iterations without evaluation or checkpoints, log level ERROR '
                             '(run folder local-<exp>-startup)')
    parser.add_argument('--work-dir', help='run directory (default: <work-dir-root>/local-<exp>/<run name>; '
                                           'with --resume RUN_DIR: RUN_DIR)')
    parser.add_argument('--resume', nargs='?', const=RESUME_LATEST, default=None, metavar='RUN_DIR|CKPT',
                        help='without --config: continue the run in RUN_DIR (its dumped config, its latest '
                             'checkpoint or CKPT); with --config: resume the new run from CKPT or a run '
                             "directory's latest checkpoint, or without a value from its work dir's latest")
    parser.add_argument('--gen-config-root', default=str(REPO_ROOT / 'configs' / 'generated'), type=Path,
                        help='where generated configs are written')
    parser.add_argument('--work-dir-root', default='work_dirs', type=Path, help='where run directories are made')
    parser.add_argument('--cfg-options', nargs='+', default=[], help='passed on to tools/train.py')
    args = parser.parse_args(argv)
    resume_path = args.resume if args.resume is not RESUME_LATEST else None
    if args.config is None and resume_path is None:
        parser.error('give --config CFG to start a run, or --resume RUN_DIR to continue one')
    if args.config is None and (args.debug or args.startup_test):
        parser.error('--debug and --startup-test start a new run: use them with --config')
    if args.config is not None and not Path(args.config).is_file():
        parser.error(f'--config {args.config}: no such config file')
    args.resume_from = args.run_config = None
    try:
        if resume_path is not None:
            args.resume_from = resume_target(resume_path)
        if args.config is None:
            args.run_config = find_run_config(args.resume_from.parent)
    except FileNotFoundError as error:
        parser.error(str(error))
    return args


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    options = ['--cfg-options'] + args.cfg_options if args.cfg_options else []
    if args.config is None:
        work_dir = args.work_dir or str(args.resume_from.parent)
        print(f'Resuming {args.run_config} from {args.resume_from} in {work_dir}')
        train.main([str(args.run_config), '--work-dir', work_dir, '--resume', str(args.resume_from)] + options)
        return
    run_config = generate_run_config(args.config, args.gen_config_root, args.work_dir_root, debug=args.debug,
                                     startup_test=args.startup_test, work_dir=args.work_dir, machine=args.machine)
    print(f'Run config: {run_config}')
    resume = []
    if args.resume is RESUME_LATEST:
        resume = ['--resume']
    elif args.resume_from is not None:
        resume = ['--resume', str(args.resume_from)]
    train.main([str(run_config)] + resume + options)


if __name__ == '__main__':
    main()
