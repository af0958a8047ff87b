"""Train a segmentor or a UDA wrapper with mmengine's Runner.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--seed N] [--deterministic]
                                 [--amp [auto|bfloat16|float16]] [--cfg-options k=v ...]
    torchrun --nproc_per_node N tools/train.py CONFIG --launcher pytorch

With ``torchrun`` the config's batch is per process (see ``mmseg.apis.train_config``); on a machine
without GPUs the processes use the gloo backend.
"""
import argparse
import contextlib
import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from mmengine.config import Config, DictAction  # noqa: E402
from mmseg.engine.seg_runner import SegRunner as Runner  # noqa: E402  (mmengine's, with a short start-up log)

import mmseg.datasets  # noqa: E402,F401  (registers data sets and transforms)
import mmseg.engine  # noqa: E402,F401  (compat fixes, optimiser constructor, schedulers)
import mmseg.evaluation  # noqa: E402,F401
import mmseg.models  # noqa: E402,F401
from mmseg.apis.schedule_scaling import ScheduleScalingError, schedule_overrides  # noqa: E402
from mmseg.apis.speed_options import enable_amp  # noqa: E402
from mmseg.apis.train_config import runner_config  # noqa: E402
from mmseg.engine.mixed_precision_optim_wrapper import AMP_DTYPES  # noqa: E402
from mmseg.engine.checkpoint_hook import checkpoint_problem  # noqa: E402
from mmseg.engine.compat import init_distributed  # noqa: E402
from mmseg.engine.config_check import ConfigError, check_train_config  # noqa: E402
from mmseg.engine.run_dir_lock import RunDirectoryBusyError, RunDirectoryLock  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='experiment config file')
    parser.add_argument('--work-dir', help='run directory (default: work_dirs/<config name>)')
    parser.add_argument('--resume', nargs='?', const='auto', default=None,
                        help='resume from CKPT, or from the latest checkpoint of the work dir')
    parser.add_argument('--seed', type=int, help='random seed (default: the config\'s randomness.seed)')
    parser.add_argument('--deterministic', action='store_true',
                        help='deterministic algorithms (cuDNN and torch.use_deterministic_algorithms); slower')
    parser.add_argument('--amp', nargs='?', const='auto', choices=AMP_DTYPES, default=None,
                        help='mixed precision: autocast to bfloat16 (CPU, recent GPUs) or float16 with loss '
                             'scaling; losses, EMA and metrics stay float32 (default: float32 training)')
    parser.add_argument('--launcher', choices=['none', 'pytorch'], default='none',
                        help="'pytorch' under torchrun: one process per GPU (or gloo processes on CPU)")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys, k=v')
    return parser.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> Config:
    """The config file with the command-line overrides applied."""
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(dict(following_max_iters(cfg, args.cfg_options, resume=args.resume is not None),
                                 **args.cfg_options))
    if args.work_dir:
        cfg.work_dir = args.work_dir
    if args.seed is not None or args.deterministic:
        cfg.randomness = dict(cfg.get('randomness') or {})
        if args.seed is not None:
            cfg.randomness['seed'] = args.seed
        if args.deterministic:
            cfg.randomness['deterministic'] = True
    if args.amp is not None:
        enable_amp(cfg, args.amp)
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume:
        cfg.resume, cfg.load_from = True, args.resume
    return cfg


def following_max_iters(cfg: Config, cfg_options: dict, resume: bool) -> dict:
    """With ``train_cfg.max_iters=N`` among the options: the overrides that let warm-up, poly decay, validation,
    checkpoint and debug intervals follow (``mmseg.apis.schedule_scaling``; options given explicitly win). On
    resume, ``ScheduleLengthHook`` gives the restored schedulers these lengths (the checkpoint's would win)."""
    max_iters = cfg_options.get('train_cfg.max_iters')
    old = (cfg.get('train_cfg') or {}).get('max_iters')
    if max_iters is None or max_iters == old:
        return {}
    try:
        overrides, notes = schedule_overrides(cfg, max_iters, explicit=cfg_options)
    except ScheduleScalingError as error:
        raise SystemExit(f'error: train_cfg.max_iters={max_iters}: {error}')
    if resume:
        hooks = overrides.get('custom_hooks', list(cfg.get('custom_hooks') or []))
        overrides['custom_hooks'] = list(hooks) + [dict(type='ScheduleLengthHook')]
    print(f'train_cfg.max_iters {old} -> {max_iters}; the schedule follows: ' + '; '.join(notes[1:]))
    return overrides


def main(argv=None) -> Runner:
    """Train; returns the Runner (its model holds the trained weights)."""
    args = parse_args(argv)
    cfg = config_from_args(args)
    if cfg.get('ddb_pipeline') is not None:
        raise SystemExit(f'error: {args.config} is a DDB pipeline config (its stages are training configs); run it '
                         f'with `python run_experiments.py --config {args.config}`')
    try:
        check_train_config(cfg)
    except ConfigError as error:
        raise SystemExit(f'error: {error}')
    if cfg.get('load_from') and '://' not in str(cfg.load_from):  # --resume CKPT: a broken file fails now
        problem = checkpoint_problem(Path(cfg.load_from)) if Path(cfg.load_from).is_file() else 'file not found'
        if problem:
            raise SystemExit(f'error: {cfg.load_from}: {problem}')
    if args.launcher == 'pytorch':
        init_distributed(cfg.get('env_cfg', {}).get('dist_cfg', {}).get('backend'))
    cfg = runner_config(cfg, args.launcher)
    # one training per work dir: rank 0 holds the lock for all processes of a torchrun job
    lock = RunDirectoryLock(cfg.work_dir) if int(os.environ.get('RANK', '0')) == 0 else contextlib.nullcontext()
    try:
        with lock:
            runner = Runner.from_cfg(cfg)
            runner.train()
    except RunDirectoryBusyError as error:
        raise SystemExit(f'error: {error}')
    return runner


if __name__ == '__main__':
    main()
