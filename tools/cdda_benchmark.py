"""Time and peak memory of the CDDA step (similarity + reweighting + relabeling) at the real bank size.

    python tools/cdda_benchmark.py                                   # N = 24966 (GTA), 512² and 1024², batch 2
    python tools/cdda_benchmark.py --dacs-result benchmarks/results/<config>__<device>.json

The bank is ``[N, 19, 256]`` counts drawn like crops (a few classes per crop, each with a bump-shaped depth
histogram, ``H·W`` pixels in all); the target batch has block-shaped pseudo-labels and random depth. Both
thresholds are forced below every score and every relabeled class passes its gate, so reweighting and relabeling
run for every image (the worst case).
Modes: ``vectorised`` is :meth:`DepthGuidance.step`; ``reference`` re-states the reference's similarity, which
tiles the target matrix N times and builds several ``[N, 19, 256]`` temporaries per image (similarity only, its
reweighting and relabeling are the same per-class loops). Peak memory: CUDA max allocated above the bank, or
the resident memory sampled above its level before the step on CPU. ``--dacs-result``: a ``tools/benchmark.py``
JSON of the same device whose training step the CDDA step is compared with. Results go to
``benchmarks/results/cdda_step__<device>.json``.
"""
import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Callable, List, Optional

import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run from a checkout without installing the package
    sys.path.insert(0, str(REPO_ROOT))

from mmseg.models.uda.depth_guidance import DepthGuidance  # noqa: E402
from mmseg.models.uda.depth_similarity import DepthBank, count_matrix  # noqa: E402
from tools.benchmark import environment, slug, write_json  # noqa: E402

NUM_CLASSES, BINS = 19, 256
GTA_BANK_SIZE = 24966


def synthetic_bank(num_crops: int, crop: int, generator: torch.Generator) -> torch.Tensor:
    """``[N, 19, 256]`` counts of crops with about 8 classes each, bump-shaped depth histograms, crop² pixels."""
    present = torch.rand(num_crops, NUM_CLASSES, generator=generator) < 0.45
    shares = torch.rand(num_crops, NUM_CLASSES, generator=generator) * present
    shares = shares / shares.sum(1, keepdim=True).clamp_min(1e-6)
    centre = torch.rand(num_crops, NUM_CLASSES, 1, generator=generator) * BINS
    width = 4 + torch.rand(num_crops, NUM_CLASSES, 1, generator=generator) * 40
    bump = torch.exp(-((torch.arange(BINS).float() - centre) / width) ** 2)
    bump = bump / bump.sum(2, keepdim=True)
    return torch.floor(shares[:, :, None] * bump * crop * crop)


def synthetic_target(batch: int, crop: int, generator: torch.Generator):
    """Pseudo-labels of 32-pixel blocks of 10 classes per image, their probabilities, q and depth values of a
    bilinear resize."""
    classes = torch.stack([torch.randperm(NUM_CLASSES, generator=generator)[:10] for _ in range(batch)])
    blocks = torch.randint(0, 10, (batch, crop // 32, crop // 32), generator=generator)
    blocks = torch.gather(classes, 1, blocks.flatten(1)).reshape(blocks.shape)
    label = blocks.repeat_interleave(32, 1).repeat_interleave(32, 2)
    prob = torch.rand(batch, crop, crop, generator=generator)
    depth = torch.rand(batch, crop, crop, generator=generator) * 255
    return label, prob, (prob >= 0.968).double().mean(), depth


def reference_similarity(bank: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The reference's per-image similarity with the target tiled N times (``depth_math``): the total [N]."""
    n = bank.shape[0]
    tgt_num = target[None].repeat(n, 1, 1)
    src_sum, tgt_sum = bank.sum(2, keepdim=True), tgt_num.sum(2, keepdim=True)
    src, tgt = torch.nan_to_num(bank / src_sum), torch.nan_to_num(tgt_num / tgt_sum)
    simi_cos = torch.cosine_similarity(src, tgt, dim=2)
    z = src_sum + tgt_sum
    simi_num = torch.nan_to_num((bank / z - tgt_num / z).abs()).sum(2)
    simi = (simi_cos + 1 - simi_num) / 2
    simi[:, target.sum(1) == 0] = 0
    cls_cos = torch.cosine_similarity(bank.sum(2), tgt_num.sum(2), dim=1)
    return simi.sum(1) * cls_cos


def resident_mib() -> float:
    """The process's resident memory now (Linux ``/proc/self/statm``)."""
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20


def peak_memory(device: torch.device, run: Callable[[], None]) -> float:
    """MiB above the memory in use before ``run``: CUDA max allocated, or on CPU the resident memory sampled
    every 0.2 ms by a thread."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
        base = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        run()
        torch.cuda.synchronize(device)
        return (torch.cuda.max_memory_allocated(device) - base) / 2**20
    base, peak, done = resident_mib(), [0.0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], resident_mib())
            time.sleep(0.0002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        run()
    finally:
        done.set()
        sampler.join()
    return max(peak[0] - base, 0.0)


def timed(device: torch.device, run: Callable[[], None], repeats: int) -> List[float]:
    times = []
    for _ in range(repeats):
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        run()
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        times.append((time.perf_counter() - start) * 1000)
    return times


def benchmark(num_crops: int, crop: int, batch: int, device: torch.device, repeats: int, modes: List[str]) -> dict:
    generator = torch.Generator().manual_seed(crop)
    counts = synthetic_bank(num_crops, crop, generator)
    label, prob, fraction, depth = (t.to(device) for t in synthetic_target(batch, crop, generator))
    guidance = DepthGuidance('gta', -1.0, -1.0, 0.0, bank=(DepthBank(counts).to(device), None),
                             legacy_exact_depth_gate=False, legacy_last_class_flag=False)
    result = dict(num_crops=num_crops, crop=crop, batch=batch)

    fired = []

    def step():
        out = guidance.step(0, label, prob, fraction, depth)
        assert all(n >= 0 for n in out.bank_index)
        fired.append(out.soft_target is not None)

    runs = dict(vectorised=step)
    if 'reference' in modes:
        bank = counts.to(device)
        targets = [count_matrix(label[i], depth[i]) for i in range(batch)]
        runs['reference'] = lambda: [reference_similarity(bank, t) for t in targets]
    for mode in modes:
        fired.clear()
        runs[mode]()  # warm-up
        memory = peak_memory(device, runs[mode])
        times = timed(device, runs[mode], repeats)
        result[mode] = dict(ms_median=statistics.median(times), ms_min=min(times), ms_max=max(times),
                            peak_mib=round(memory, 1), repeats=repeats)
        if mode == 'vectorised':
            result[mode]['guidance_loss_fired'] = all(fired)
        print(f'{mode:10s} N={num_crops} {crop}² batch {batch}: {statistics.median(times):.1f} ms (median of '
              f'{repeats}), peak {memory:.0f} MiB', flush=True)
    return result


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description='Benchmark the CDDA step')
    parser.add_argument('--num-crops', type=int, default=GTA_BANK_SIZE)
    parser.add_argument('--crops', type=int, nargs='+', default=[512, 1024])
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument('--repeats', type=int, default=10)
    parser.add_argument('--modes', nargs='+', choices=['vectorised', 'reference'], default=['vectorised', 'reference'])
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--dacs-result', nargs='*', default=[], help='tools/benchmark.py JSON files (same device)')
    parser.add_argument('--out-dir', default=str(REPO_ROOT / 'benchmarks' / 'results'))
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    torch.manual_seed(0)
    results = [benchmark(args.num_crops, crop, args.batch_size, device, args.repeats, args.modes)
               for crop in args.crops]
    dacs = {}
    for path in args.dacs_result:
        record = json.loads(Path(path).read_text())
        dacs[path] = dict(config=record.get('config'), device=record['environment']['device'],
                          **{mode: run['train_ms_per_iter']['median'] for mode, run in record['modes'].items()})
    env = environment(device, torch.get_num_threads())
    out = Path(args.out_dir) / f'cdda_step__{slug(env["device"])}.json'
    write_json(out, dict(environment=env, load_average=list(os.getloadavg()), results=results, dacs_iterations=dacs))
    print(f'written to {out}')


if __name__ == '__main__':
    main()
