"""Launch experiments as the reference does.

    python run_experiments.py --exp ID [--seeds S ...] [--dry-run] [--startup-test] [--debug] [--iters N]
                              [--data synth [--synth-data-dir DIR]] [--jobs N | --gpus N] [--amp]
                              [--cfg-options k=v ...]
    python run_experiments.py --config CFG [--debug] [--startup-test] [--iters N] [--work-dir DIR] [--resume [CKPT]]
                              [--gpus N] [--amp] [--cfg-options k=v ...]
    python run_experiments.py --resume RUN_DIR_OR_CKPT [--work-dir DIR] [--cfg-options k=v ...]

``--config CFG`` starts a new run: it writes a config that inherits CFG, names the run
(``<yymmdd_HHMM>_<name>_<uuid5>``) and carries every override (``--iters``, ``--cfg-options``, ``--amp``,
``--debug``, ``--startup-test``), to ``configs/generated/local-<exp>[-startup]/<run>.py``, then trains it with
``tools/train.py`` in the run directory ``work_dirs/local-<exp>[-startup]/<run>/`` (or ``--work-dir``). The
generated file alone reproduces the run. ``--iters N`` trains N iterations with the schedule following:
warm-up and poly decay, evaluation, checkpoint and debug-image intervals are scaled by N / the config's
length (``mmseg.apis.schedule_scaling``; a schedule it cannot scale is refused, naming what to set).

``--exp ID`` expands experiment ID of ``experiments.py`` into one config per run (all seeds, or
``--seeds``; ``--startup-test`` keeps seed 0 as the reference), writes them to
``configs/generated/local-exp<ID>[-startup]/<date>_<name>_<uuid5>.py`` (run directories
``work_dirs/local-exp<ID>[-startup]/<run>/``) and trains them one after the other, each in its own
process (``--jobs N``: N at a time, for CPU machines); a failed run is reported and the next one starts.
``--dry-run`` only writes and lists them.
Members whose components do not exist yet are listed as left out. ``--data synth`` puts every run on the
embedded synthetic pair (``experiments.on_synthetic_pair``: 128x128 crops, no ImageNet weights; folders
``local-exp<ID>-synth[-startup]``), so that any ID can be smoke-tested on a CPU, e.g.
``--exp 101 --startup-test --data synth``; the pair is read from ``data/synthetic`` (make it with
``tools/make_synthetic_data.py`` or ``make run``) or ``--synth-data-dir``.

``--resume`` continues a run:
- ``--resume RUN_DIR`` (or ``--resume RUN_DIR/iter_N.pth``) without ``--config`` trains the config
  that the run dumped into RUN_DIR (``RUN_DIR/<RUN_DIR name>.py``, see ``mmseg.apis.run_dir``) further, in
  RUN_DIR (or ``--work-dir``), from RUN_DIR's latest checkpoint (or the one given). ``--cfg-options
  train_cfg.max_iters=N`` extends it: the schedule follows N as with ``--iters`` (``tools/train.py``), and
  the restored schedulers take the new lengths (``ScheduleLengthHook``).
- ``--config CFG --resume [CKPT]`` starts a new generated run that resumes from CKPT (a checkpoint or
  a run directory's latest), or, without CKPT, from the latest checkpoint in its own work dir (with
  ``--work-dir`` pointing at an existing run).

``--config configs/ddb/<setting>_ddb.py`` (a DDB pipeline config, ``ddb_pipeline = dict(rounds=[...])``) runs
the whole DDB procedure instead, every stage an ordinary run in one pipeline folder (``tools/ddb_pipeline.py``;
``--work-dir`` names the folder, ``--rounds R`` stops after round R, ``--iters``, ``--cfg-options``, ``--gpus``
and ``--amp`` apply to every training stage); rerunning it skips finished stages and resumes an interrupted one.

``--gpus N`` trains each run with N processes under ``torchrun --standalone`` (``tools/train.py
--launcher pytorch``; gloo processes on a machine without CUDA); the config's batch is per process.
``--amp`` trains in mixed precision (``tools/train.py --amp``).

``--debug``: log every 10 iterations, evaluate every 200, DACS debug images every 10.
``--startup-test``: 2 iterations (the schedule follows), evaluation and checkpoints every 100 (so
none), no final checkpoint, log level ERROR.
"""
import argparse
import copy
import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import List, Optional, Tuple

from mmengine.config import Config, DictAction

REPO_ROOT = Path(__file__).resolve().parent
CONFIG_ROOT = REPO_ROOT / 'configs'
sys.path.insert(0, str(REPO_ROOT))

import experiments  # noqa: E402
from mmseg.apis.run_dir import find_run_config, latest_checkpoint  # noqa: E402
from mmseg.apis.schedule_scaling import ScheduleScalingError, schedule_overrides  # noqa: E402
from mmseg.apis.speed_options import enable_amp  # noqa: E402
from mmseg.engine.mixed_precision_optim_wrapper import AMP_DTYPES  # noqa: E402
from tools import train  # noqa: E402

STARTUP_TEST_ITERS = 2
SYNTHETIC_DATA_ROOT = 'data/synthetic/'  # the synthetic pair's data_root prefix in the dataset configs
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
    without a final checkpoint (``val_begin`` past the end: mmengine would otherwise evaluate at the last
    iteration, which the reference's interval rule does not). Iteration-based schedulers that end at
    ``train_cfg.max_iters`` are cut to 2 iterations too, as the reference's poly schedule follows
    ``runner.max_iters``."""
    overrides = dict(
        log_level='ERROR',
        train_cfg=dict(max_iters=STARTUP_TEST_ITERS, val_interval=100, val_begin=STARTUP_TEST_ITERS + 1),
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


def write_config(out_file: Path, header: str, bases: List[str], entries: dict) -> None:
    """Write a config file ``_base_ = bases`` plus ``key = value`` lines, atomically."""
    lines = [header, f'_base_ = {bases!r}'] + [f'{key} = {_literal(value)}' for key, value in entries.items()]
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_file.with_suffix('.py.tmp')
    tmp.write_text('\n'.join(lines) + '\n')
    tmp.replace(out_file)


def parse_cfg_options(options: List[str]) -> dict:
    """``['key=value', ...]`` as ``tools/train.py --cfg-options`` reads them (mmengine's ``DictAction``)."""
    parsed = argparse.Namespace()
    DictAction(option_strings=[], dest='cfg_options')(None, parsed, options)
    return parsed.cfg_options


def run_overrides(cfg: Config, iters: Optional[int] = None, cfg_options: Optional[List[str]] = None,
                  amp: Optional[str] = None, debug: bool = False, startup_test: bool = False) -> dict:
    """Every override of a new run as config entries, so that the generated file alone reproduces it:
    ``--iters N`` (or ``train_cfg.max_iters=N`` among the options) with the schedule that follows it
    (``mmseg.apis.schedule_scaling``), the ``--cfg-options`` (their top-level keys written whole), ``--amp``,
    then the ``--debug`` / ``--startup-test`` overrides. ``ValueError`` for a schedule that cannot follow."""
    options = parse_cfg_options(cfg_options) if cfg_options else {}
    max_iters = options.get('train_cfg.max_iters', iters)
    if iters is not None and max_iters != iters:
        raise ValueError(f'--iters {iters} and --cfg-options train_cfg.max_iters={max_iters} disagree')
    flat = dict(schedule_overrides(cfg, max_iters, explicit=options)[0]) if max_iters is not None else {}
    flat.update(options)
    merged = copy.deepcopy(cfg)
    merged.merge_from_dict(flat)
    if amp is not None:
        enable_amp(merged, amp)
        flat['optim_wrapper'] = None
    entries = {key: merged[key] for key in dict.fromkeys(k.split('.')[0] for k in flat)}
    return _merge({key: _plain(value) for key, value in entries.items()},
                  flag_overrides(merged, debug, startup_test))


def _plain(value):
    """ConfigDicts (and lists of them) as plain dicts."""
    if hasattr(value, 'to_dict'):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def flag_overrides(cfg: Config, debug: bool, startup_test: bool) -> dict:
    """The ``--debug`` / ``--startup-test`` overrides for ``cfg``."""
    overrides = {}
    if debug:
        overrides = _merge(overrides, debug_overrides(cfg))
    if startup_test:
        overrides = _merge(overrides, startup_test_overrides(cfg))
    return overrides


def moved_data_roots(cfg: Config, data_dir: Path) -> dict:
    """The train / val / test data loaders of ``cfg``, whole, with the :data:`SYNTHETIC_DATA_ROOT` prefix of their
    ``data_root`` entries replaced by ``data_dir``."""

    def move(node):
        if isinstance(node, dict):
            return {key: (f'{data_dir / value[len(SYNTHETIC_DATA_ROOT):]}/'
                          if key == 'data_root' and str(value).startswith(SYNTHETIC_DATA_ROOT) else move(value))
                    for key, value in node.items()}
        if isinstance(node, (list, tuple)):
            return type(node)(move(value) for value in node)
        return node

    return {key: move(cfg[key].to_dict()) for key in ('train_dataloader', 'val_dataloader', 'test_dataloader')
            if cfg.get(key) is not None}


def check_synthetic_data(data_dir: Path) -> None:
    """Exit with instructions when the synthetic pair is not in ``data_dir``."""
    if not (data_dir / 'generator.json').is_file():
        raise SystemExit(f'error: --data synth: no synthetic pair in {data_dir} (no generator.json); make it with '
                         f'`python tools/make_synthetic_data.py --out-dir {data_dir}` (or `make run`)')


def run_identity(exp_name: str, name: str, gen_root: Path, work_root: Path,
                 work_dir: Optional[str]) -> Tuple[Path, dict]:
    """The run's config path and its ``name``, ``work_dir`` and ``git_rev`` entries."""
    run_name = f'{datetime.now().strftime("%y%m%d_%H%M")}_{name}_{uuid.uuid4().hex[:5]}'
    entries = dict(name=run_name, work_dir=str(work_dir or work_root / exp_name / run_name), git_rev=git_revision())
    return gen_root / exp_name / f'{run_name}.py', entries


def generate_run_config(config: str, gen_root: Path, work_root: Path, *, debug: bool = False,
                        startup_test: bool = False, work_dir: Optional[str] = None, machine: str = 'local',
                        iters: Optional[int] = None, cfg_options: Optional[List[str]] = None,
                        amp: Optional[str] = None) -> Path:
    """Write the run's config (inheriting ``config``, with every override of :func:`run_overrides`) and
    return its path."""
    cfg = Config.fromfile(config)
    exp_name = f'{machine}-{cfg.get("exp", "basic")}' + ('-startup' if startup_test else '')
    overrides = run_overrides(cfg, iters, cfg_options, amp, debug, startup_test)
    out_file, entries = run_identity(exp_name, cfg.get('name', Path(config).stem), gen_root, work_root, work_dir)
    base = os.path.relpath(Path(config).resolve(), out_file.parent.resolve())
    write_config(out_file, f'# Generated by {command_line(iters, cfg_options, amp, debug, startup_test)} from {config}',
                 [base], dict(entries, **overrides))
    return out_file


def command_line(iters: Optional[int], cfg_options: Optional[List[str]], amp: Optional[str], debug: bool,
                 startup_test: bool, prefix: str = 'run_experiments.py') -> str:
    """The run_experiments.py options that shaped a generated config, for its header line."""
    parts = [prefix] + (['--iters', str(iters)] if iters is not None else []) + (['--amp', amp] if amp else [])
    parts += [flag for flag, on in (('--debug', debug), ('--startup-test', startup_test)) if on]
    parts += ['--cfg-options'] + list(cfg_options) if cfg_options else []
    return ' '.join(parts)


def generate_experiment_configs(exp_id: int, gen_root: Path, work_root: Path, *, seeds: Optional[List[int]] = None,
                                debug: bool = False, startup_test: bool = False, machine: str = 'local',
                                data: str = 'benchmark', synth_data_dir: Optional[Path] = None,
                                iters: Optional[int] = None, cfg_options: Optional[List[str]] = None,
                                amp: Optional[str] = None) -> List[Path]:
    """Write the configs of experiment ``exp_id`` (``experiments.py``) to
    ``<gen_root>/local-exp<ID>[-synth][-startup]/``.

    ``seeds`` narrows the seeds; ``startup_test`` keeps the seed-0 runs only, as the reference. ``data='synth'``
    puts the runs on the synthetic pair; runs on it read it from ``synth_data_dir`` when given (else
    ``data/synthetic``). ``iters``, ``cfg_options`` and ``amp`` are written into every config
    (:func:`run_overrides`).
    """
    exp_name = f'{machine}-exp{exp_id}' + ('-synth' if data == 'synth' else '') + ('-startup' if startup_test else '')
    paths = []
    for cfg in experiments.generate_experiment_cfgs(exp_id, data):
        seed = cfg['randomness']['seed']
        if (seeds is not None and seed not in seeds) or (startup_test and seed != 0):
            continue
        out_file, entries = run_identity(exp_name, cfg['name'], gen_root, work_root, None)
        bases = [os.path.relpath(CONFIG_ROOT / base, out_file.parent.resolve()) for base in cfg['_base_']]
        body = {key: value for key, value in cfg.items() if key not in ('_base_', 'name')}
        options = command_line(iters, cfg_options, amp, debug, startup_test, f'run_experiments.py --exp {exp_id}')
        header = f'# Generated by {options} (experiments.py run {cfg["name"]})'
        write_config(out_file, header, bases, dict(body, **entries))
        written = Config.fromfile(str(out_file))
        overrides = run_overrides(written, iters, cfg_options, amp, debug, startup_test)
        if synth_data_dir is not None:
            overrides.update(moved_data_roots(written, synth_data_dir))
        if overrides:
            write_config(out_file, header, bases, dict(body, **entries, **overrides))
        paths.append(out_file)
    return paths


def train_command(config: Path, options: List[str], gpus: int = 1) -> List[str]:
    """The command that trains ``config``: tools/train.py, under ``torchrun`` with ``gpus`` > 1 processes."""
    train_py = [str(REPO_ROOT / 'tools' / 'train.py'), str(config)]
    if gpus == 1:
        return [sys.executable] + train_py + options
    return ([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', str(gpus)] + train_py +
            ['--launcher', 'pytorch'] + options)


def run_experiment(configs: List[Path], options: List[str], jobs: int = 1, gpus: int = 1) -> List[Tuple[Path, int]]:
    """Train the configs, each in its own process (or ``gpus`` processes under torchrun), ``jobs`` at a
    time (the reference: one after the other); a failure does not stop the rest. With ``jobs > 1`` each
    run gets ``cpu_count // jobs`` threads (unless OMP_NUM_THREADS is set) and its output goes to
    ``<config>.log`` next to the config.

    Returns (config, exit code) per run, in the order of ``configs``.
    """
    env = dict(os.environ)
    if jobs > 1:
        env.setdefault('OMP_NUM_THREADS', str(max(1, (os.cpu_count() or 1) // jobs)))

    def train_one(index: int, config: Path) -> Tuple[Path, int]:
        tag = f'[{index + 1}/{len(configs)}]'
        command = train_command(config, options, gpus)
        if jobs == 1:
            print(f'{tag} {config}', flush=True)
            code = subprocess.run(command, cwd=REPO_ROOT, env=env).returncode
        else:
            log = config.with_suffix('.log')
            print(f'{tag} {config} (output: {log})', flush=True)
            with open(log, 'w') as out:
                code = subprocess.run(command, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
        print(f'{tag} {"finished" if code == 0 else f"FAILED (exit {code})"}: {config}', flush=True)
        return config, code

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(train_one, range(len(configs)), configs))


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
    source.add_argument('--exp', type=int, help='experiment ID of experiments.py: generate its configs and train them')
    parser.add_argument('--seeds', type=int, nargs='+', help='with --exp: only these seeds')
    parser.add_argument('--dry-run', action='store_true', help='with --exp: write and list the configs, train nothing')
    parser.add_argument('--jobs', type=int, default=1,
                        help='with --exp: runs at a time, each with cpu_count // jobs threads and its output in '
                             '<config>.log (default 1, the reference: one after the other)')
    parser.add_argument('--gpus', type=int, default=1,
                        help='processes per run under torchrun, one per GPU (gloo processes on a machine without '
                             'CUDA); the config batch is per process (default 1: no torchrun)')
    parser.add_argument('--amp', nargs='?', const='auto', choices=AMP_DTYPES, default=None,
                        help='mixed-precision training (tools/train.py --amp): bfloat16 where the device has it')
    parser.add_argument('--data', choices=experiments.DATA_CHOICES, default='benchmark',
                        help="with --exp: 'synth' runs every config on the embedded synthetic pair (CPU smoke test)")
    parser.add_argument('--synth-data-dir', type=Path,
                        help='with --exp: where the synthetic pair of --data synth (and ID 200) is '
                             '(default: data/synthetic)')
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
    parser.add_argument('--iters', type=int,
                        help='train N iterations; warm-up, poly decay, evaluation, checkpoint and debug-image '
                             'intervals follow (written into the generated config)')
    parser.add_argument('--rounds', type=int,
                        help='with a DDB pipeline config (configs/ddb/*_ddb.py): run its first R rounds only')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='config overrides key=value: written into the generated config (--config, --exp), '
                             'passed on to tools/train.py with --resume RUN_DIR')
    args = parser.parse_args(argv)
    resume_path = args.resume if args.resume is not RESUME_LATEST else None
    if args.jobs < 1:
        parser.error(f'--jobs {args.jobs}: expected at least 1')
    if args.gpus < 1:
        parser.error(f'--gpus {args.gpus}: expected at least 1')
    if args.iters is not None and args.iters < 1:
        parser.error(f'--iters {args.iters}: expected at least 1')
    if args.iters is not None and (args.startup_test or (args.config is None and args.exp is None)):
        parser.error('--iters sets the length of a new run (--config, --exp); --startup-test has its own 2 iterations, '
                     'and a resumed run takes --cfg-options train_cfg.max_iters=N')
    if args.gpus > 1 and args.jobs > 1:
        parser.error('--gpus N gives each run N processes: run them one at a time (--jobs 1)')
    if args.exp is not None:
        if args.resume is not None or args.work_dir or args.rounds is not None:
            parser.error('--exp writes one run directory per config: --resume, --work-dir and --rounds do not apply')
        if args.synth_data_dir is not None:
            args.synth_data_dir = args.synth_data_dir.resolve()
        return args
    if args.seeds or args.dry_run or args.data != 'benchmark' or args.synth_data_dir or args.jobs != 1:
        parser.error('--seeds, --dry-run, --jobs, --data and --synth-data-dir go with --exp')
    if args.config is None and resume_path is None:
        parser.error('give --config CFG or --exp ID to start runs, or --resume RUN_DIR to continue one')
    if args.config is None and (args.debug or args.startup_test):
        parser.error('--debug and --startup-test start a new run: use them with --config or --exp')
    if args.config is not None and not Path(args.config).is_file():
        parser.error(f'--config {args.config}: no such config file')
    args.pipeline = args.config is not None and ddb_pipeline_config(args.config)
    if args.pipeline and (args.resume is not None or args.debug or args.startup_test):
        parser.error('a DDB pipeline config resumes by itself when run again; --resume, --debug and --startup-test '
                     'apply to single runs (give them a stage config, configs/ddb/<setting>/*.py)')
    if args.rounds is not None and not args.pipeline:
        parser.error('--rounds goes with a DDB pipeline config (configs/ddb/*_ddb.py)')
    args.resume_from = args.run_config = None
    try:
        if resume_path is not None:
            args.resume_from = resume_target(resume_path)
        if args.config is None:
            args.run_config = find_run_config(args.resume_from.parent)
    except FileNotFoundError as error:
        parser.error(str(error))
    return args


def ddb_pipeline_config(config: str) -> bool:
    """Whether ``config`` is a DDB pipeline config (``tools/ddb_pipeline.py``)."""
    return Config.fromfile(config).get('ddb_pipeline') is not None


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if args.exp is not None:
        main_experiment(args)
        return
    if args.pipeline:
        from tools import ddb_pipeline  # imports this module
        ddb_pipeline.run(args.config, args.work_dir, args.iters, args.cfg_options, args.gpus, args.amp, args.rounds)
        return
    if args.config is None:
        options = (['--amp', args.amp] if args.amp else []) + (['--cfg-options'] + args.cfg_options
                                                                 if args.cfg_options else [])
        work_dir = args.work_dir or str(args.resume_from.parent)
        print(f'Resuming {args.run_config} from {args.resume_from} in {work_dir}')
        train_run(args.run_config, ['--work-dir', work_dir, '--resume', str(args.resume_from)] + options, args.gpus)
        return
    try:
        run_config = generate_run_config(args.config, args.gen_config_root, args.work_dir_root, debug=args.debug,
                                         startup_test=args.startup_test, work_dir=args.work_dir, machine=args.machine,
                                         iters=args.iters, cfg_options=args.cfg_options, amp=args.amp)
    except (ValueError, ScheduleScalingError) as error:
        raise SystemExit(f'error: {error}') from error
    print(f'Run config: {run_config}\nRun directory: {Config.fromfile(str(run_config)).work_dir}')
    resume = []
    if args.resume is RESUME_LATEST:
        resume = ['--resume']
    elif args.resume_from is not None:
        resume = ['--resume', str(args.resume_from)]
    train_run(run_config, resume, args.gpus)


def train_run(config: Path, options: List[str], gpus: int) -> None:
    """Train one config: in this process, or with ``gpus`` > 1 under torchrun (exit code passed on)."""
    if gpus == 1:
        train.main([str(config)] + options)
        return
    code = subprocess.run(train_command(config, options, gpus), cwd=REPO_ROOT).returncode
    if code != 0:
        raise SystemExit(f'training {config} with {gpus} processes failed (exit {code})')


def main_experiment(args: argparse.Namespace) -> None:
    """``--exp ID``: write the configs, list the members left out, train unless ``--dry-run``."""
    try:
        configs = generate_experiment_configs(args.exp, args.gen_config_root, args.work_dir_root, seeds=args.seeds,
                                              debug=args.debug, startup_test=args.startup_test, machine=args.machine,
                                              data=args.data, synth_data_dir=args.synth_data_dir, iters=args.iters,
                                              cfg_options=args.cfg_options, amp=args.amp)
    except (ValueError, NotImplementedError) as error:
        raise SystemExit(f'error: --exp {args.exp}: {error}') from error
    for name, missing in experiments.UNSUPPORTED_MEMBERS.get(args.exp, []):
        print(f'left out (needs {", ".join(missing)}): {name}')
    print(f'{len(configs)} configs in {configs[0].parent if configs else args.gen_config_root}')
    if args.dry_run:
        print('\n'.join(str(c) for c in configs))
        return
    if args.data == 'synth' or args.synth_data_dir is not None:
        check_synthetic_data(args.synth_data_dir or REPO_ROOT / SYNTHETIC_DATA_ROOT)
    failed = [(config, code) for config, code in run_experiment(configs, [], args.jobs, args.gpus) if code != 0]
    print(f'{len(configs) - len(failed)} of {len(configs)} runs finished')
    if failed:
        raise SystemExit('failed runs:\n' + '\n'.join(f'  {config} (exit {code})' for config, code in failed))


if __name__ == '__main__':
    main()
