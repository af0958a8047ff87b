"""One-screen summary of the JSON files of ``tools/benchmark.py`` in a folder (``tools/device_bench.sh``).

    python tools/device_bench_summary.py FOLDER [--status FILE] [--iterations 40000]

Per config and mode: train ms/iter (median), source-target pairs/s, peak memory, inference
ms/image, the time of a whole run of ``--iterations`` iterations, and the step's achieved
TFLOP/s and fraction of the H100's dense bfloat16 peak, from the FLOPs of one iteration
(``<config>__flops.json`` in FOLDER or in ``benchmarks/results/``; ``tools/benchmark.py --flops``).
"""
import argparse
import json
from pathlib import Path
from typing import List, Optional

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS = REPO_ROOT / 'benchmarks' / 'results'


def flops_of(config: str, folder: Path) -> Optional[dict]:
    """The FLOP report of ``config`` (its ``flops`` entry), from ``folder`` or the committed results."""
    for place in (folder, RESULTS):
        path = place / f'{Path(config).stem}__flops.json'
        if path.is_file():
            return json.loads(path.read_text())['flops']
    return None


def rows(folder: Path, iterations: int) -> List[List[str]]:
    out = []
    for path in sorted(folder.glob('*.json')):
        report = json.loads(path.read_text())
        if 'modes' not in report:
            continue
        flops = flops_of(report['config'], folder)
        for mode, record in report['modes'].items():
            ms = record['train_ms_per_iter']['median']
            label = mode + (' + compile' if record['settings'].get('compile') else '')
            label += f" ({record['settings']['amp_dtype']})"
            achieved = flops['step_expected'] / (ms / 1000) / 1e12 if flops else None
            out.append([Path(report['config']).stem[:28], label, f'{ms:.1f}', f"{record['train_pairs_per_s']:.2f}",
                        f"{record['peak_memory_mb']:.0f}", f"{record['inference_ms_per_image']['median']:.1f}",
                        f'{ms * iterations / 60000:.1f}',
                        '-' if achieved is None else f'{achieved:.0f}',
                        '-' if achieved is None else f"{100 * achieved / flops['peak_tflops']:.1f}"])
    return out


def environment(folder: Path) -> str:
    for path in sorted(folder.glob('*.json')):
        report = json.loads(path.read_text())
        if 'environment' in report:
            env = report['environment']
            return f"{env['device']}, torch {env['torch']}, CUDA {env['cuda']}, git {env['git_revision']}"
    return 'no timing results'


def main(argv=None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('folder', type=Path)
    parser.add_argument('--status', type=Path, help="device_bench.sh's run status lines")
    parser.add_argument('--iterations', type=int, default=40000, help='iterations of a whole run')
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        raise SystemExit(f'device_bench_summary: {args.folder} is not a folder')
    header = ['config', 'mode', 'ms/iter', 'pairs/s', 'peak MB', 'infer ms', f'{args.iterations // 1000}k min',
              'TFLOP/s', '% peak']
    table = [header] + rows(args.folder, args.iterations)
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = [environment(args.folder)]
    lines += ['  '.join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
              for row in table]
    lines.append('ms/iter: median train step; peak MB: CUDA max allocated (CPU: max RSS); % peak: of 790 TFLOP/s '
                 '(H100 dense bf16), FLOPs of benchmark.py --flops')
    if args.status and args.status.is_file():
        lines += args.status.read_text().splitlines()
    text = '\n'.join(lines)
    print(text)
    return text


if __name__ == '__main__':
    main()
