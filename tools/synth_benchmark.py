"""The embedded benchmark behind ``make run``: synthetic GTA -> Cityscapes, four methods, N seeds.

    python tools/synth_benchmark.py [--data-seed 0] [--seeds 0 1 2 3 4] [--out work_dirs/synth_benchmark]
                                    [--methods dacs ...] [--amp] [--jobs 2]

Generates and converts the synthetic pair if needed (``tools/make_synthetic_data.py``), trains
source-only, source-only with DACS's photometric augmentation, DACS with rare class sampling and the
target-only oracle (``configs/synth/``) through ``run_experiments.py``, evaluates every run with
``test.sh``, then writes to ``--out``: ``results.json`` (per method ``miou_mean``, ``miou_std``,
``miou_per_seed``, ``per_class_iou``, ``data_seed``, ``wall_s``), ``results.md`` (the table),
``per_class_iou.png`` and ``predictions.png`` (target val images, labels and each method's prediction).
Each training run is its own process with one thread (``--jobs`` of them at a time: on a 2-core
machine two one-thread runs finish sooner than one two-thread run after the other).
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Optional

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

from mmseg.datasets import CITYSCAPES_CLASSES, CITYSCAPES_PALETTE  # noqa: E402
from mmseg.datasets.conversion import write_text  # noqa: E402
from mmseg.utils.label_images import colorize  # noqa: E402
from mmseg.utils.result_plots import plot_per_class_iou, save_figure  # noqa: E402

METHODS = {  # result key -> config
    'source_only': 'configs/synth/synth_gta2cs_source_only.py',
    'source_only_aug': 'configs/synth/synth_gta2cs_source_only_aug.py',
    'dacs': 'configs/synth/synth_gta2cs_dacs_rcs.py',
    'oracle': 'configs/synth/synth_cs_oracle.py',
}
DEFAULT_DATA_DIR = REPO_ROOT / 'data' / 'synthetic'


def data_root_options(method: str, data_dir: Path) -> List[str]:
    """``--cfg-options`` that point a synth config at ``data_dir`` instead of data/synthetic."""
    gta, cityscapes = f'{data_dir}/gta/', f'{data_dir}/cityscapes/'
    if method == 'oracle':
        train = [f'train_dataloader.dataset.data_root={cityscapes}']
    else:
        train = [f'train_dataloader.dataset.source.data_root={gta}',
                 f'train_dataloader.dataset.target.data_root={cityscapes}']
    return train + [f'val_dataloader.dataset.data_root={cityscapes}', f'test_dataloader.dataset.data_root={cityscapes}']


def run(command: List[str], log: Path) -> None:
    """Run a command from the repository root with one thread, its output to ``log``; raise with the
    log's tail on failure."""
    log.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1', OMP_WAIT_POLICY='PASSIVE')
    with open(log, 'w') as out:
        result = subprocess.run(command, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, env=env)
    if result.returncode != 0:
        tail = ''.join(log.read_text().splitlines(keepends=True)[-30:])
        raise RuntimeError(f'{" ".join(command)} failed (exit {result.returncode}); log {log}:\n{tail}')


def ensure_data(data_dir: Path, data_seed: int, generator_args: List[str], out: Path) -> None:
    """Generate and convert the synthetic pair for ``data_seed`` unless it is there already."""
    record = data_dir / 'generator.json'
    command = [sys.executable, 'tools/make_synthetic_data.py', '--out-dir', str(data_dir), '--seed', str(data_seed)]
    if record.is_file() and json.loads(record.read_text()).get('seed') != data_seed:
        command.append('--force')
    print(f'Data: {data_dir} (seed {data_seed})', flush=True)
    run(command + generator_args, out / 'logs' / 'make_synthetic_data.log')


def train_and_test(method: str, seed: int, out: Path, data_dir: Path, cfg_options: List[str],
                   amp: Optional[str] = None) -> Dict:
    """Train one method with one seed (mixed precision with ``amp``), evaluate it with test.sh; return
    test_results.json's content."""
    run_dir = out / 'runs' / f'{method}_s{seed}'
    options = [f'randomness.seed={seed}'] + data_root_options(method, data_dir) + cfg_options
    run([sys.executable, 'run_experiments.py', '--config', METHODS[method], '--work-dir', str(run_dir),
         '--gen-config-root', str(out / 'generated')] + (['--amp', amp] if amp else []) + ['--cfg-options', *options],
        out / 'logs' / f'{method}_s{seed}_train.log')
    run(['sh', 'test.sh', str(run_dir)], out / 'logs' / f'{method}_s{seed}_test.log')
    return json.loads((run_dir / 'test_results.json').read_text())


def summarize(records: Dict[str, List[Dict]], seeds: List[int], data_seed: int,
              wall: Dict[str, float]) -> Dict[str, Dict]:
    """Per method: mean, std (over seeds, ddof 0), per-seed mIoU and per-class IoU averaged over seeds."""
    summary = {}
    for method, runs in records.items():
        mious = [r['metrics']['mIoU'] for r in runs]
        per_class = {}
        for name in CITYSCAPES_CLASSES:
            values = [r['metrics'].get(f'IoU.{name}') for r in runs]
            values = [v for v in values if v is not None]
            per_class[name] = round(float(np.mean(values)), 2) if values else None
        summary[method] = dict(miou_mean=round(float(np.mean(mious)), 2), miou_std=round(float(np.std(mious)), 2),
                               miou_per_seed=dict(zip(map(str, seeds), mious)), per_class_iou=per_class,
                               data_seed=data_seed, wall_s=round(wall[method], 1))
    return summary


def markdown_table(summary: Dict[str, Dict]) -> str:
    """Method | mIoU mean ± std | per seed."""
    lines = ['| method | mIoU (mean ± std) | per seed | wall (s) |', '| --- | --- | --- | --- |']
    for method, s in summary.items():
        per_seed = ', '.join(f'{v:.1f}' for v in s['miou_per_seed'].values())
        lines.append(f"| {method} | {s['miou_mean']:.1f} ± {s['miou_std']:.1f} | {per_seed} | {s['wall_s']:.0f} |")
    return '\n'.join(lines)


def plot_per_class(summary: Dict[str, Dict], path: Path) -> None:
    """Grouped bars of the per-class IoU of each method (classes seen by any method)."""
    classes = [c for c in CITYSCAPES_CLASSES if any(s['per_class_iou'][c] is not None for s in summary.values())]
    fig = Figure(figsize=(max(8, len(classes) * 0.8), 4))
    series = {f"{method} ({s['miou_mean']:.1f})": [s['per_class_iou'][c] for c in classes]
              for method, s in summary.items()}
    plot_per_class_iou(fig.add_subplot(), classes, series)
    fig.tight_layout()
    save_figure(fig, path)


def plot_predictions(out: Path, data_dir: Path, seed: int, methods: List[str], path: Path, count: int = 4) -> None:
    """Target val images, their labels and each method's prediction (the runs of ``seed``)."""
    images = sorted((data_dir / 'cityscapes' / 'leftImg8bit' / 'val').rglob('*_leftImg8bit.png'))[:count]
    columns = ['image', 'ground truth'] + methods
    fig = Figure(figsize=(2 * len(columns), 2 * len(images)))
    axes = fig.subplots(len(images), len(columns), squeeze=False)
    for row, image in enumerate(images):
        relative = image.relative_to(data_dir / 'cityscapes' / 'leftImg8bit' / 'val')
        stem = relative.name[:-len('_leftImg8bit.png')]
        label = data_dir / 'cityscapes' / 'gtFine' / 'val' / relative.parent / f'{stem}_gtFine_labelTrainIds.png'
        panels = [np.array(Image.open(image).convert('RGB')), colorize(np.array(Image.open(label)), CITYSCAPES_PALETTE)]
        for method in methods:
            pred = out / 'runs' / f'{method}_s{seed}' / 'preds' / relative.parent / f'{stem}_labelTrainIds.png'
            panels.append(colorize(np.array(Image.open(pred)), CITYSCAPES_PALETTE))
        for col, panel in enumerate(panels):
            axes[row][col].imshow(panel)
            axes[row][col].axis('off')
            if row == 0:
                axes[row][col].set_title(columns[col])
    fig.tight_layout()
    save_figure(fig, path)


def main(argv: Optional[List[str]] = None) -> Dict[str, Dict]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data-seed', type=int, default=0, help='seed of the synthetic data generator')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0], help='training seeds')
    parser.add_argument('--methods', nargs='+', choices=list(METHODS), default=list(METHODS))
    parser.add_argument('--out', type=Path, default=REPO_ROOT / 'work_dirs' / 'synth_benchmark')
    parser.add_argument('--data-dir', type=Path, default=DEFAULT_DATA_DIR, help='where the synthetic pair lives')
    parser.add_argument('--generator-args', type=shlex.split, default=[],
                        help="more tools/make_synthetic_data.py options, one string, e.g. '--num 300'")
    parser.add_argument('--cfg-options', nargs='+', default=[], help='passed to every training run')
    parser.add_argument('--jobs', type=int, default=2, help='training runs at a time (one thread each)')
    parser.add_argument('--amp', nargs='?', const='auto', default=None, choices=['auto', 'bfloat16', 'float16'],
                        help='train in mixed precision (run_experiments.py --amp)')
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.time()
    ensure_data(args.data_dir, args.data_seed, args.generator_args, args.out)
    jobs = sorted(((m, s) for s in args.seeds for m in args.methods), key=lambda job: job[0] != 'dacs')  # longest first
    results: Dict[tuple, Dict] = {}
    wall: Dict[str, float] = {m: 0.0 for m in args.methods}

    def job(method: str, seed: int) -> None:
        t0 = time.time()
        results[method, seed] = train_and_test(method, seed, args.out, args.data_dir, args.cfg_options, args.amp)
        wall[method] += time.time() - t0
        elapsed = time.time() - start
        eta = elapsed / len(results) * (len(jobs) - len(results))
        print(f'[{len(results)}/{len(jobs)}] {method}, seed {seed}: mIoU {results[method, seed]["metrics"]["mIoU"]:.2f} '
              f'in {time.time() - t0:.0f} s (elapsed {elapsed / 60:.1f} min, ETA {eta / 60:.0f} min)', flush=True)

    print(f'{len(jobs)} runs, {args.jobs} at a time; logs in {args.out / "logs"}', flush=True)
    with ThreadPoolExecutor(args.jobs) as pool:
        for future in [pool.submit(job, method, seed) for method, seed in jobs]:
            future.result()
    records = {m: [results[m, s] for s in args.seeds] for m in args.methods}
    summary = summarize(records, args.seeds, args.data_seed, wall)
    table = markdown_table(summary)
    record = dict(methods=summary, seeds=args.seeds, data_seed=args.data_seed, wall_s=round(time.time() - start, 1))
    write_text(str(args.out / 'results.json'), json.dumps(record, indent=2) + '\n')
    write_text(str(args.out / 'results.md'), table + '\n')
    plot_per_class(summary, args.out / 'per_class_iou.png')
    plot_predictions(args.out, args.data_dir, args.seeds[0], args.methods, args.out / 'predictions.png')
    print(table)
    print(f'Results: {args.out}/results.json, results.md, per_class_iou.png, predictions.png '
          f'({(time.time() - start) / 60:.1f} min)')
    return summary


if __name__ == '__main__':
    main()
