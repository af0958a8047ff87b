"""Training and inference speed and memory of a config, in reference and fast execution.

    python tools/benchmark.py CONFIG [--mode reference|fast|both] [--iters 20] [--warmup 5]
                                     [--amp auto|bfloat16|float16|none] [--compile] [--profile]
                                     [--out-dir benchmarks/results] [--cfg-options k=v ...]
    python tools/benchmark.py CONFIG --flops

Each mode runs in its own process (clean peak memory): the model of CONFIG (the UDA wrapper with
teacher and ImageNet model) and its optimiser are built, ``--warmup`` training steps run untimed,
then ``--iters`` timed steps on in-memory batches of the config's crop size (random images, labels
of random 32x32 blocks of 19 classes; data loading is not timed; the weights are randomly
initialised, so no ImageNet checkpoint is needed). Then whole-image inference of the
student on an image of the test pipeline's size. Modes (``mmseg.apis.speed_options``):

- ``reference``: the original DAFormer's step, the stand-in for the original code on a GPU: float32,
  explicit attention, the EMA loop over parameters, AdamW's loop over parameters, every log value
  and the NaN check read on the host every iteration (what mmengine's stock RuntimeInfoHook and a
  per-iteration check do), and the original's host work that our DACS leaves out
  (:func:`emulate_original`);
- ``fast``: SDPA attention, multi-tensor EMA, fused AdamW, log values kept on the device until the
  log interval, autocast with ``--amp`` (default ``auto``: bfloat16 on CPUs and recent GPUs) and,
  with ``--compile``, ``torch.compile`` of backbone and decoder.

Writes ``<out-dir>/<config name>__<device>[__<non-default settings>].json`` (the modes, with both the
fast/reference ratio; device, versions, git revision, the load average before and after), and with
``--profile`` a torch profiler trace per mode beside it. Run it on an otherwise idle machine without
``OMP_WAIT_POLICY=PASSIVE`` (which slows every parallel region down).

``--flops`` times nothing: it counts the FLOPs of one training iteration by part on the meta device
(:mod:`tools.benchmark_flops`) and writes ``<out-dir>/<config name>__flops.json``.
"""
import argparse
import contextlib
import functools
import json
import math
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple
from unittest import mock

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402
from mmengine.optim import build_optim_wrapper  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from mmengine.structures import PixelData  # noqa: E402

import mmseg.engine  # noqa: E402,F401  (registers the optimiser wrappers and constructors)
import mmseg.models  # noqa: E402,F401
from mmseg.apis.speed_options import SPEED_MODES, apply_speed_mode  # noqa: E402
from mmseg.apis.train_config import runner_config  # noqa: E402
from mmseg.engine.mixed_precision_optim_wrapper import AMP_DTYPES  # noqa: E402
from mmseg.registry import MODELS  # noqa: E402
from mmseg.structures import SegDataSample  # noqa: E402
from mmseg.utils.label_images import atomic_path  # noqa: E402
from tools.benchmark_flops import flops_report, print_flops  # noqa: E402

NUM_CLASSES = 19
LABEL_BLOCK = 32


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('--mode', choices=SPEED_MODES + ('both', ), default='both')
    parser.add_argument('--iters', type=int, default=20, help='timed training iterations')
    parser.add_argument('--warmup', type=int, default=5, help='untimed training iterations first')
    parser.add_argument('--inference-runs', type=int, default=5, help='timed inference runs (after one untimed)')
    parser.add_argument('--amp', choices=AMP_DTYPES + ('none', ), default='auto',
                        help="fast mode's autocast dtype ('none': float32)")
    parser.add_argument('--compile', action='store_true', help='fast mode: torch.compile backbone and decoder')
    parser.add_argument('--compile-backend', default='inductor',
                        help="torch.compile backend of --compile ('eager' checks the wiring without compiling)")
    parser.add_argument('--flops', action='store_true',
                        help='count the FLOPs of one training iteration by part (meta device), time nothing')
    parser.add_argument('--batch-size', type=int, help="per-iteration batch (default: the config's train batch)")
    parser.add_argument('--crop', type=int, nargs=2, metavar=('H', 'W'), help="default: the config's crop_size")
    parser.add_argument('--test-size', type=int, nargs=2, metavar=('H', 'W'),
                        help="inference image (default: the test pipeline's Resize scale)")
    parser.add_argument('--threads', type=int, help='torch CPU threads (default: torch\'s)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--profile', action='store_true', help='write a torch profiler trace of 3 iterations')
    parser.add_argument('--out-dir', default=str(REPO_ROOT / 'benchmarks' / 'results'))
    parser.add_argument('--result-file', help=argparse.SUPPRESS)  # one mode's JSON, written by a child process
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys, k=v')
    args = parser.parse_args(argv)
    if args.iters < 1 or args.warmup < 0 or args.inference_runs < 1:
        parser.error('--iters and --inference-runs must be >= 1, --warmup >= 0')
    return args


def device_name(device: torch.device) -> str:
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                return f'{line.split(":", 1)[1].strip()} ({os.cpu_count()} cores)'
    except OSError:
        pass
    return f'{platform.processor() or platform.machine()} ({os.cpu_count()} cores)'


def git_revision() -> str:
    """The checkout's short revision (``+dirty`` with uncommitted changes); where the tree travels without its
    git folder (the GPU machine), ``$UDA_SEG_GIT_REVISION`` or 'unknown'."""
    try:
        rev = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True, cwd=REPO_ROOT)
        dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'], capture_output=True,
                               text=True, cwd=REPO_ROOT)
    except OSError:  # no git
        rev = None
    if rev is None or rev.returncode != 0:
        return os.environ.get('UDA_SEG_GIT_REVISION', 'unknown')
    return rev.stdout.strip() + ('+dirty' if dirty.stdout.strip() else '')


def test_image_size(cfg: Config) -> Tuple[int, int]:
    """(H, W) of the test pipeline's keep-ratio Resize scale (W, H), as an image of that size."""
    pipeline = cfg.get('test_dataloader', cfg.get('val_dataloader', {})).get('dataset', {}).get('pipeline', [])
    for step in pipeline:
        if step.get('type') == 'Resize' and step.get('scale'):
            w, h = step['scale']
            return int(h), int(w)
    raise ValueError(f'{cfg.filename}: no Resize scale in the test pipeline; give --test-size H W')


def synthetic_batch(batch_size: int, crop: Tuple[int, int], generator: torch.Generator,
                    pseudo_margins: Optional[List[int]] = None) -> dict:
    """A UDA training batch: uint8 images, labels of random ``LABEL_BLOCK`` blocks (source only) and,
    with ``pseudo_margins`` ([top, bottom, left, right], HRDA's ``crop_pseudo_margins``), each target
    sample's ``valid_pseudo_mask`` of a crop spanning the image height (top and bottom rows 0)."""
    h, w = crop

    def samples(source: bool) -> List[SegDataSample]:
        out = []
        for _ in range(batch_size):
            sample = SegDataSample(metainfo=dict(img_shape=crop, ori_shape=crop, pad_shape=crop, flip=False))
            if source:
                blocks = torch.randint(0, NUM_CLASSES, (1, -(-h // LABEL_BLOCK), -(-w // LABEL_BLOCK)),
                                       generator=generator)
                label = blocks.repeat_interleave(LABEL_BLOCK, 1).repeat_interleave(LABEL_BLOCK, 2)[:, :h, :w]
                sample.gt_sem_seg = PixelData(data=label.long())
            elif pseudo_margins is not None:
                mask = torch.ones(1, h, w, dtype=torch.uint8)
                mask[:, :pseudo_margins[0]] = 0
                mask[:, h - pseudo_margins[1]:] = 0
                sample.valid_pseudo_mask = PixelData(data=mask)
            out.append(sample)
        return out

    def images() -> List[torch.Tensor]:
        return [torch.randint(0, 256, (3, h, w), generator=generator, dtype=torch.uint8) for _ in range(batch_size)]

    return dict(inputs=images(), data_samples=samples(True), target_inputs=images(),
                target_data_samples=samples(False))


class LogReader:
    """What happens to the log values after a step: read on the host at once (reference) or kept on
    the device and read every ``interval`` steps (fast), with the NaN check alike."""

    def __init__(self, deferred: bool, interval: int):
        self.deferred = deferred
        self.interval = interval
        self.pending: List[Dict[str, torch.Tensor]] = []

    def __call__(self, outputs: Dict[str, torch.Tensor]) -> None:
        self.pending.append(outputs)
        if not self.deferred or len(self.pending) >= self.interval:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        if self.deferred:
            values = torch.stack([v.float().mean() for record in self.pending for v in record.values()])
            finite = bool(torch.isfinite(values).all())
        else:
            values = [float(v.float().mean()) for v in self.pending[-1].values()]
            finite = all(map(math.isfinite, values))
        if not finite:
            raise RuntimeError('benchmark: a non-finite loss')
        self.pending = []


def synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def peak_memory_mb(device: torch.device) -> Tuple[float, str]:
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2**20, 'cuda_max_allocated'
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 'process_max_rss'


def target_pseudo_margins(cfg: Config) -> Optional[List[int]]:
    """The ``crop_pseudo_margins`` of the config's UDA target data set (HRDA, MIC), or None."""
    dataset = cfg.get('train_dataloader', {}).get('dataset', {})
    target = dataset.get('target') if isinstance(dataset, dict) else None
    return None if not target else target.get('crop_pseudo_margins')


def emulate_original(model, optim_wrapper) -> contextlib.ExitStack:
    """Give ``model`` (a DACS wrapper) the work of the original DAFormer step (torch 1.7, mmcv 1.x,
    kornia 0.5.8) that our DACS leaves out; the losses and forwards (the 2-D blur kernel too) are the
    same already.

    - ``_parse_losses`` reads every log value on the host (``.item()``) after each loss, three
      times a step (source, feature distance, mixed) instead of once after the step;
    - the pseudo-label weight is read on the host and the pseudo-labels are copied to it
      (``np.size(np.array(pseudo_label.cpu()))``);
    - ``optimizer.zero_grad()`` fills the gradients with zeros (torch 1.7) instead of freeing them;
    - float32 matrix products in TF32 on GPUs that have it (the default of torch 1.7 to 1.11; since 1.12
      off; convolutions use TF32 in both, cuDNN's default).

    Not emulated: the original's AdamW also walks the teacher's and ImageNet model's parameters
    (skipping them: no gradient), and its loader hands over float32 images (ours: uint8).
    Returns the patches as an exit stack that undoes them.
    """
    import numpy as np

    import mmseg.models.uda.dacs as dacs_module
    if not hasattr(dacs_module, 'pseudo_label_and_weight'):
        raise RuntimeError('benchmark: mmseg.models.uda.dacs.pseudo_label_and_weight is gone; update '
                           'emulate_original to where DACS computes its pseudo-labels')
    parse_losses = model.parse_losses

    def parse_losses_on_host(losses):
        loss, log_vars = parse_losses(losses)
        for value in log_vars.values():
            value.item()
        return loss, log_vars

    pseudo_labels = dacs_module.pseudo_label_and_weight

    def pseudo_labels_on_host(*args, **kwargs):
        pseudo = pseudo_labels(*args, **kwargs)
        np.size(pseudo.label.cpu().numpy())
        pseudo.fraction.item()
        return pseudo

    stack = contextlib.ExitStack()
    for owner, name, value in (
            (model, 'parse_losses', parse_losses_on_host),
            (dacs_module, 'pseudo_label_and_weight', pseudo_labels_on_host),
            (optim_wrapper, 'zero_grad', functools.partial(optim_wrapper.zero_grad, set_to_none=False))):
        stack.enter_context(mock.patch.object(owner, name, value))
    stack.enter_context(_matmul_tf32())
    return stack


@contextlib.contextmanager
def _matmul_tf32():
    before = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = True
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = before


def build(cfg: Config, device: torch.device):
    """The UDA wrapper (or segmentor) of ``cfg`` on ``device``, in training mode, and its optimiser wrapper."""
    model = MODELS.build(runner_config(cfg).model)
    model.init_weights()
    model.to(device).train()
    return model, build_optim_wrapper(model, cfg.optim_wrapper)


def time_training(model, optim_wrapper, batches: List[dict], warmup: int, iters: int, reader: LogReader,
                  device: torch.device, profile_path: Optional[Path]) -> Tuple[List[float], List[float]]:
    """Seconds of each of the ``iters`` timed steps after ``warmup`` untimed ones: host clock (the device is
    synchronised once, after the last) and the process's CPU time (all its threads; on a loaded machine
    with one thread, about the step's time on an idle one)."""
    for batch in batches[:warmup]:
        reader(model.train_step(batch, optim_wrapper))
    reader.flush()
    synchronize(device)
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats(device)
    stamps, cpu_stamps = [time.perf_counter()], [time.process_time()]
    for batch in batches[warmup:warmup + iters]:
        reader(model.train_step(batch, optim_wrapper))
        stamps.append(time.perf_counter())
        cpu_stamps.append(time.process_time())
    reader.flush()
    synchronize(device)
    stamps[-1], cpu_stamps[-1] = time.perf_counter(), time.process_time()
    if profile_path is not None:
        activities = [torch.profiler.ProfilerActivity.CPU]
        if device.type == 'cuda':
            activities.append(torch.profiler.ProfilerActivity.CUDA)
        with torch.profiler.profile(activities=activities, record_shapes=True) as prof:
            for batch in batches[warmup:warmup + 3]:
                reader(model.train_step(batch, optim_wrapper))
            reader.flush()
            synchronize(device)
        prof.export_chrome_trace(str(profile_path))
    return [b - a for a, b in zip(stamps, stamps[1:])], [b - a for a, b in zip(cpu_stamps, cpu_stamps[1:])]


def time_inference(model, size: Tuple[int, int], runs: int, amp_dtype: Optional[torch.dtype],
                   device: torch.device) -> List[float]:
    """Seconds per whole-image inference of the student (softmax logits at the image size)."""
    student = model.get_model() if hasattr(model, 'get_model') else model
    student.eval()
    img = torch.randn(1, 3, *size, device=device)
    metas = [dict(img_shape=size, ori_shape=size, pad_shape=size, flip=False)]
    times = []
    with torch.inference_mode(), torch.autocast(device.type, dtype=amp_dtype or torch.float32,
                                                enabled=amp_dtype is not None):
        for run in range(runs + 1):
            synchronize(device)
            start = time.perf_counter()
            student.inference(img, metas, rescale=True)
            synchronize(device)
            if run > 0:
                times.append(time.perf_counter() - start)
    return times


def summarise(seconds: List[float]) -> dict:
    ms = sorted(1000 * s for s in seconds)
    quartiles = statistics.quantiles(ms, n=4) if len(ms) > 1 else [ms[0]] * 3
    return dict(median=statistics.median(ms), mean=statistics.fmean(ms), q1=quartiles[0], q3=quartiles[2],
                min=ms[0], max=ms[-1], n=len(ms))


def run_mode(args: argparse.Namespace, mode: str) -> dict:
    """Benchmark one mode in this process; the result record."""
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    torch.backends.cudnn.benchmark = bool(cfg.get('env_cfg', {}).get('cudnn_benchmark', False))  # as the Runner
    amp = None if args.amp == 'none' else args.amp
    apply_speed_mode(cfg, mode, amp=amp, compile_model=args.compile)
    if cfg.model.get('compile_cfg') is not None:
        cfg.model.compile_cfg['backend'] = args.compile_backend
    if cfg.get('uda') is not None:
        cfg.uda['work_dir'] = None  # no debug images
    cfg.model['pretrained'] = None  # random initialisation: the cost is the same, no weight file needed
    cfg.model.backbone['pretrained'] = None
    DefaultScope.get_instance(f'benchmark-{mode}', scope_name='mmseg')
    MMLogger.get_instance(f'benchmark-{mode}', log_level='WARNING')  # no weight-initialisation report
    torch.manual_seed(args.seed)
    model, optim_wrapper = build(cfg, device)
    emulated = mode == 'reference' and cfg.get('uda') is not None
    original_work = emulate_original(model, optim_wrapper) if emulated else contextlib.ExitStack()
    batch_size = args.batch_size or cfg.train_dataloader.batch_size
    crop = tuple(args.crop or cfg.crop_size)
    generator = torch.Generator().manual_seed(args.seed)
    margins = target_pseudo_margins(cfg)
    batches = [synthetic_batch(batch_size, crop, generator, margins) for _ in range(args.warmup + args.iters + 3)]
    log_interval = cfg.default_hooks.get('logger', {}).get('interval', 50)
    reader = LogReader(deferred=mode == 'fast', interval=log_interval)
    profile_path = None
    if args.profile:
        profile_path = Path(args.out_dir) / f'{Path(args.config).stem}__{mode}_trace.json'
        profile_path.parent.mkdir(parents=True, exist_ok=True)
    with original_work:
        train_seconds, train_cpu_seconds = time_training(model, optim_wrapper, batches, args.warmup, args.iters,
                                                         reader, device, profile_path)
        load_after_training = os.getloadavg()
        matmul_tf32 = torch.backends.cuda.matmul.allow_tf32
        memory, memory_kind = peak_memory_mb(device)
        amp_dtype = getattr(optim_wrapper, 'cast_dtype', None)
        test_size = tuple(args.test_size or test_image_size(cfg))
        infer_seconds = time_inference(model, test_size, args.inference_runs, amp_dtype, device)
    train_ms = summarise(train_seconds)
    return dict(
        mode=mode,
        settings=dict(attn_impl=cfg.model.backbone.get('attn_impl', 'sdpa'),
                      fused_ema=cfg.get('uda', {}).get('fused_ema', True),
                      optimizer=dict(cfg.optim_wrapper.optimizer), amp_dtype=str(amp_dtype).replace('torch.', '')
                      if amp_dtype else 'float32', compile=bool(args.compile and mode == 'fast'),
                      compile_backend=args.compile_backend if args.compile and mode == 'fast' else None,
                      host_log_every_iteration=mode == 'reference', original_host_work=emulated,
                      cudnn_benchmark=torch.backends.cudnn.benchmark, matmul_tf32=matmul_tf32),
        batch_size=batch_size, crop=list(crop), warmup=args.warmup, iters=args.iters,
        train_ms_per_iter=train_ms, train_process_cpu_ms_per_iter=summarise(train_cpu_seconds),
        train_pairs_per_s=1000 * batch_size / train_ms['median'],
        peak_memory_mb=memory, peak_memory_kind=memory_kind,
        inference_size=list(test_size), inference_ms_per_image=summarise(infer_seconds),
        load_average_after_training=list(load_after_training), trace=str(profile_path) if profile_path else None)


def environment(device: torch.device, threads: int) -> dict:
    return dict(device=device_name(device), device_type=device.type, torch=torch.__version__,
                cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version() if device.type == 'cuda' else None,
                torch_threads=threads, python=platform.python_version(), git_revision=git_revision(),
                date=time.strftime('%Y-%m-%d %H:%M:%S'))


def child_command(args: argparse.Namespace, mode: str, result_file: str) -> List[str]:
    command = [sys.executable, str(Path(__file__).resolve()), args.config, '--mode', mode, '--iters', str(args.iters),
               '--warmup', str(args.warmup), '--inference-runs', str(args.inference_runs), '--amp', args.amp,
               '--seed', str(args.seed), '--out-dir', args.out_dir, '--result-file', result_file]
    for flag, value in (('--batch-size', args.batch_size), ('--threads', args.threads)):
        if value:
            command += [flag, str(value)]
    for flag, value in (('--crop', args.crop), ('--test-size', args.test_size)):
        if value:
            command += [flag, *map(str, value)]
    command += ['--compile'] * args.compile + ['--profile'] * args.profile
    command += ['--compile-backend', args.compile_backend]
    if args.cfg_options:
        command += ['--cfg-options'] + [f'{k}={json.dumps(v) if not isinstance(v, str) else v}'
                                        for k, v in args.cfg_options.items()]
    return command


def variant(args: argparse.Namespace) -> str:
    """File-name suffix of the non-default settings (none for both modes with the default autocast)."""
    parts = [args.mode] if args.mode != 'both' else []
    parts += [f'amp-{args.amp}'] if args.amp != 'auto' else []
    parts += ['compile' + ('' if args.compile_backend == 'inductor' else f'-{args.compile_backend}')] \
        if args.compile else []
    parts += [f'{args.threads}threads'] if args.threads else []
    return ''.join(f'__{part}' for part in parts)


def slug(text: str) -> str:
    return re.sub(r'[^A-Za-z0-9]+', '-', text).strip('-').lower()


def write_json(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = atomic_path(path)
    tmp_out.write_text(json.dumps(record, indent=2) + '\n')
    os.replace(tmp_out, path)


def count_flops(args: argparse.Namespace) -> dict:
    """``--flops``: the FLOP report of one training iteration of the config, printed and written."""
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    DefaultScope.get_instance('benchmark-flops', scope_name='mmseg')
    MMLogger.get_instance('benchmark-flops', log_level='WARNING')
    batch_size = args.batch_size or cfg.train_dataloader.batch_size
    crop = tuple(args.crop or cfg.crop_size)
    batch = synthetic_batch(batch_size, crop, torch.Generator().manual_seed(args.seed), target_pseudo_margins(cfg))
    test_size = tuple(args.test_size or test_image_size(cfg))
    config = os.path.relpath(Path(args.config).resolve(), REPO_ROOT)
    report = dict(config=config, batch_size=batch_size, crop=list(crop), torch=torch.__version__,
                  git_revision=git_revision(), date=time.strftime('%Y-%m-%d %H:%M:%S'),
                  flops=flops_report(cfg, batch, batch_size, crop, test_size))
    out = Path(args.out_dir) / f'{Path(args.config).stem}__flops.json'
    write_json(out, report)
    print_flops(config, report['flops'])
    print(f'benchmark: wrote {out}')
    return report


def main(argv=None) -> dict:
    args = parse_args(argv)
    if not Path(args.config).is_file():
        raise SystemExit(f'benchmark: config {args.config} does not exist')
    if args.flops:
        return count_flops(args)
    if args.result_file:
        record = run_mode(args, args.mode)
        Path(args.result_file).write_text(json.dumps(record))
        return record
    load_at_start = os.getloadavg()
    modes = SPEED_MODES if args.mode == 'both' else (args.mode, )
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for mode in modes:
            result_file = os.path.join(tmp, f'{mode}.json')
            print(f'benchmark: {mode} mode ({args.warmup} + {args.iters} iterations) ...', flush=True)
            child = subprocess.run(child_command(args, mode, result_file), cwd=REPO_ROOT)
            if child.returncode != 0:
                raise SystemExit(f'benchmark: the {mode} mode failed (exit code {child.returncode})')
            results[mode] = json.loads(Path(result_file).read_text())
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    report = dict(config=os.path.relpath(Path(args.config).resolve(), REPO_ROOT),
                  environment=dict(environment(device, args.threads or torch.get_num_threads()),
                                   load_average_at_start=list(load_at_start),
                                   load_average_at_end=list(os.getloadavg())),
                  modes=results)
    if len(results) == 2:
        report['fast_over_reference'] = dict(
            train_ms_per_iter=results['fast']['train_ms_per_iter']['median'] /
            results['reference']['train_ms_per_iter']['median'],
            inference_ms_per_image=results['fast']['inference_ms_per_image']['median'] /
            results['reference']['inference_ms_per_image']['median'],
            peak_memory=results['fast']['peak_memory_mb'] / results['reference']['peak_memory_mb'])
    out = Path(args.out_dir) / f'{Path(args.config).stem}__{slug(report["environment"]["device"])}{variant(args)}.json'
    write_json(out, report)
    print_table(report)
    print(f'benchmark: wrote {out}')
    return report


def print_table(report: dict) -> None:
    print(f"{report['config']} on {report['environment']['device']} (torch {report['environment']['torch']})")
    print(f"{'mode':<10} {'train ms/iter (median, IQR)':<30} {'CPU ms/iter':>11} {'pairs/s':>8} {'peak MB':>9} "
          f"{'infer ms/img':>13}")
    for mode, r in report['modes'].items():
        t = r['train_ms_per_iter']
        print(f"{mode:<10} {t['median']:>8.1f} ({t['q1']:.1f}-{t['q3']:.1f}){'':<12} "
              f"{r['train_process_cpu_ms_per_iter']['median']:>11.1f} {r['train_pairs_per_s']:>8.2f} "
              f"{r['peak_memory_mb']:>9.0f} {r['inference_ms_per_image']['median']:>13.1f}")
    env = report['environment']
    print(f"load average (1, 5, 15 min) at start {', '.join(f'{x:.2f}' for x in env['load_average_at_start'])}, "
          f"at end {', '.join(f'{x:.2f}' for x in env['load_average_at_end'])}")
    if 'fast_over_reference' in report:
        ratio = report['fast_over_reference']
        print(f"fast / reference: training {ratio['train_ms_per_iter']:.2f}x, inference "
              f"{ratio['inference_ms_per_image']:.2f}x, peak memory {ratio['peak_memory']:.2f}x")


if __name__ == '__main__':
    main()
