"""Input-pipeline throughput of a config's UDA training data, on generated images of the real sizes.

    python tools/benchmark_data.py CONFIG [--formats png jpeg] [--images 6] [--pairs 30] [--warmup 3]
                                   [--iteration-ms 90 45] [--scale 1.0] [--out-dir benchmarks/results]

Writes GTA-like (1914x1052) and Cityscapes-like (2048x1024) images with their train-id labels in
the data sets' folder layouts (and the converter's rare-class statistics) into a temporary folder,
as PNG (the data sets' format) and as JPEG (quality 95). The images are scenes of class regions
with shading and blurred noise, about as compressible as the real photographs (about 2.1 MB per
generated Cityscapes PNG; the real leftImg8bit set averages 2.2 MB: 11 GB for 5000 images). Then
the config's training data set (``UDADataset``: rare class sampling, the source and target
pipelines) is built on them and read in this process, with one torch and OpenCV thread as in a
loader worker: source-target pairs per second per worker (from the process's CPU time, which with
one thread is the time on an idle core also on a loaded machine; the wall time is recorded beside
it), the time of each pipeline step, and how many workers keep up with an iteration of
``--iteration-ms`` (90 ms: HRDA in an hour; 45 ms: DAFormer in 30 minutes). Last, the image
decoders on one file of each kind (OpenCV, Pillow, and where installed pyspng for PNG, simplejpeg
and PyTurboJPEG for JPEG), with whether their pixels equal those of the pipeline's decoder (OpenCV
for images, Pillow for labels).

Writes ``<out-dir>/<config name>__data__<cpu>.json``; ``--scale`` shrinks the images (tests).
"""
import argparse
import copy
import io
import json
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import cv2
import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from PIL import Image  # noqa: E402
from tqdm import tqdm  # noqa: E402

import mmseg.datasets  # noqa: E402,F401  (registers the data sets and transforms)
from mmseg.datasets.conversion import save_class_stats  # noqa: E402
from mmseg.registry import DATASETS  # noqa: E402
from tools.benchmark import device_name, git_revision, slug, write_json  # noqa: E402

GTA_SIZE = (1052, 1914)  # (H, W)
CITYSCAPES_SIZE = (1024, 2048)
NUM_CLASSES = 19
FORMATS = {'png': '.png', 'jpeg': '.jpg'}
JPEG_QUALITY = 95
CLASS_BLOCK = 128  # pixels per side of a class region before the shading
NOISE_SIGMA = 5.0  # then blurred 3x3: about the PNG size of the real images


def scene(rng: np.random.Generator, size: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray]:
    """A BGR uint8 image and its train-id label: class regions, smooth shading, blurred noise."""
    h, w = size
    grid = rng.integers(0, NUM_CLASSES, (max(h // CLASS_BLOCK, 1), max(w // CLASS_BLOCK, 1)), dtype=np.uint8)
    label = cv2.resize(grid, (w, h), interpolation=cv2.INTER_NEAREST)
    colours = rng.integers(0, 256, (NUM_CLASSES, 3)).astype(np.float32)
    shade = cv2.resize(rng.random((8, 16), dtype=np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    image = colours[label] * (0.6 + 0.8 * shade)[..., None] + rng.normal(0, NOISE_SIGMA, (h, w, 3))
    image = cv2.GaussianBlur(image.astype(np.float32), (3, 3), 0)
    return np.clip(image, 0, 255).astype(np.uint8), label


def write_image(path: Path, image: np.ndarray) -> None:
    """PNG through Pillow (zlib level 6, as most tools write them) or JPEG through OpenCV."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == '.png':
        Image.fromarray(image[..., ::-1]).save(path, 'PNG')
    elif not cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY]):
        raise OSError(f'benchmark_data: could not write {path}')


def write_label(path: Path, label: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(label).save(path, 'PNG')


def generate(root: Path, images: int, scale: float, seed: int) -> None:
    """GTA and Cityscapes layouts under ``root`` in both formats (the label PNGs shared), with the rare-class
    statistics of the GTA labels (``sample_class_stats.json``, ``samples_with_class.json``)."""
    rng = np.random.default_rng(seed)
    stats = []
    gta_size = tuple(round(scale * s) for s in GTA_SIZE)
    cs_size = tuple(round(scale * s) for s in CITYSCAPES_SIZE)
    for i in tqdm(range(images), desc='benchmark_data: generating images'):
        image, label = scene(rng, gta_size)
        label_path = root / 'gta' / 'labels' / f'{i:05d}_labelTrainIds.png'
        write_label(label_path, label)
        counts = np.bincount(label.ravel(), minlength=NUM_CLASSES)
        stats.append({**{c: int(n) for c, n in enumerate(counts) if n > 0}, 'file': str(label_path)})
        for suffix in FORMATS.values():
            write_image(root / 'gta' / 'images' / f'{i:05d}{suffix}', image)
        image, label = scene(rng, cs_size)
        base = f'bench/bench_{i:06d}_000019'
        write_label(root / 'cityscapes' / 'gtFine' / 'train' / f'{base}_gtFine_labelTrainIds.png', label)
        for suffix in FORMATS.values():
            write_image(root / 'cityscapes' / 'leftImg8bit' / 'train' / f'{base}_leftImg8bit{suffix}', image)
    save_class_stats(str(root / 'gta'), stats)


def dataset_config(cfg: Config, root: Path, fmt: str) -> dict:
    """The config's training data set, reading the generated ``fmt`` images under ``root``."""
    dataset = copy.deepcopy(cfg.train_dataloader.dataset)
    if dataset.get('type') != 'UDADataset':
        raise ValueError(f'config {cfg.filename}: train_dataloader.dataset.type={dataset.get("type")!r}; '
                         "benchmark_data reads a UDA config's 'UDADataset'")
    suffix = FORMATS[fmt]
    dataset['source'].update(data_root=str(root / 'gta'), img_suffix=suffix)
    dataset['target'].update(data_root=str(root / 'cityscapes'), img_suffix=f'_leftImg8bit{suffix}')
    return dataset


def clocks() -> Tuple[float, float]:
    """(wall, this process's CPU) seconds. With one thread the CPU time of a piece of work is its wall time on
    an idle core, also while other work loads the machine."""
    return time.perf_counter(), time.process_time()


class TimedStep:
    """A pipeline step that appends its (wall, CPU) seconds to ``record[name]``."""

    def __init__(self, step: Callable, name: str, record: Dict[str, List[Tuple[float, float]]]):
        self.step, self.name, self.record = step, name, record

    def __call__(self, results: dict):
        wall, cpu = clocks()
        out = self.step(results)
        wall_end, cpu_end = clocks()
        self.record.setdefault(self.name, []).append((wall_end - wall, cpu_end - cpu))
        return out


def time_steps(dataset, domain: str, record: Dict[str, List[float]]) -> None:
    """Wrap each step of ``dataset``'s pipeline so that its time goes to ``record['<domain> <step>']``."""
    transforms = dataset.pipeline.transforms
    for i, step in enumerate(transforms):
        transforms[i] = TimedStep(step, f'{domain} {type(step).__name__}', record)


def _ms(seconds: List[float]) -> dict:
    return dict(mean=1000 * statistics.fmean(seconds), median=1000 * statistics.median(seconds),
                min=1000 * min(seconds), max=1000 * max(seconds))


def measure_pairs(dataset_cfg: dict, pairs: int, warmup: int, seed: int) -> dict:
    """Per source-target pair through ``UDADataset.__getitem__`` in this process: CPU ms (what a loader
    worker with a core of its own spends) and wall ms, in all and per pipeline step."""
    dataset = DATASETS.build(dataset_cfg)
    steps: Dict[str, List[Tuple[float, float]]] = {}
    time_steps(dataset.source, 'source', steps)
    time_steps(dataset.target, 'target', steps)
    np.random.seed(seed)
    wall, cpu = [], []
    for i in tqdm(range(warmup + pairs), desc='benchmark_data: reading pairs', leave=False):
        if i == warmup:
            steps.clear()
        start = clocks()
        dataset[i % len(dataset)]
        end = clocks()
        if i >= warmup:
            wall.append(end[0] - start[0])
            cpu.append(end[1] - start[1])
    source_loads = len(steps.get('source LoadImageFromFile', [])) / pairs
    return dict(pair_cpu_ms=_ms(cpu), pair_wall_ms=_ms(wall),
                pairs_per_s_per_worker=len(cpu) / sum(cpu),
                source_pipeline_runs_per_pair=source_loads,
                step_cpu_ms_per_pair={name: 1000 * sum(t[1] for t in times) / pairs for name, times in steps.items()},
                step_wall_ms_per_pair={name: 1000 * sum(t[0] for t in times) / pairs for name, times in steps.items()})


def _label_decoders() -> Dict[str, Callable[[bytes], np.ndarray]]:
    """Decoders of a grey train-id label PNG; 'pillow' is the one ``LoadAnnotations`` uses (the reference's)."""
    decoders = {
        'pillow': lambda data: np.asarray(Image.open(io.BytesIO(data))),
        'opencv': lambda data: cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED),
    }
    try:
        import pyspng
        decoders['pyspng'] = lambda data: pyspng.load(data)
    except ImportError:
        pass
    return decoders


def _decoders(kind: str) -> Dict[str, Callable[[bytes], np.ndarray]]:
    """BGR uint8 decoders of the encoded bytes of one image ('opencv': the one ``LoadImageFromFile`` uses)."""
    if kind == 'label':
        return _label_decoders()
    decoders = {
        'opencv': lambda data: cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR),
        'pillow': lambda data: np.asarray(Image.open(io.BytesIO(data)).convert('RGB'))[..., ::-1],
    }
    if kind == 'png':
        try:
            import pyspng
            decoders['pyspng'] = lambda data: pyspng.load(data)[..., ::-1]
        except ImportError:
            pass
    if kind == 'jpeg':
        try:
            import simplejpeg
            decoders['simplejpeg'] = lambda data: simplejpeg.decode_jpeg(data, colorspace='BGR')
        except ImportError:
            pass
        try:
            from turbojpeg import TurboJPEG
            turbo = TurboJPEG()
            decoders['pyturbojpeg'] = lambda data: turbo.decode(data)
        except (ImportError, RuntimeError):
            pass
    return decoders


def measure_decoders(path: Path, kind: str, runs: int) -> dict:
    """CPU ms per decode (median of ``runs``) of each decoder of ``kind`` ('png', 'jpeg' or 'label') and whether
    its pixels equal those of the first one, the pipeline's (OpenCV for images, Pillow for labels)."""
    data = path.read_bytes()
    decoders = _decoders(kind)
    reference = next(iter(decoders.values()))(data)
    out = {}
    for name, decode in decoders.items():
        times = []
        for _ in range(runs + 1):
            start = time.process_time()
            pixels = decode(data)
            times.append(time.process_time() - start)
        out[name] = dict(ms=1000 * statistics.median(times[1:]), identical_to_pipeline=bool(
            pixels.shape == reference.shape and np.array_equal(pixels, reference)))
    return dict(file_bytes=len(data), decoders=out)


def workers_needed(pair_ms: float, batch_size: int, iteration_ms: float) -> int:
    """Loader workers that deliver ``batch_size`` pairs every ``iteration_ms``."""
    return math.ceil(batch_size * pair_ms / iteration_ms)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('--formats', nargs='+', choices=tuple(FORMATS), default=list(FORMATS))
    parser.add_argument('--images', type=int, default=6, help='generated images per domain')
    parser.add_argument('--pairs', type=int, default=30, help='timed pairs per format')
    parser.add_argument('--warmup', type=int, default=3, help='untimed pairs first')
    parser.add_argument('--decoder-runs', type=int, default=5)
    parser.add_argument('--iteration-ms', type=float, nargs='+', default=[90.0, 45.0])
    parser.add_argument('--scale', type=float, default=1.0, help='image size factor (1: the real sizes)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out-dir', default=str(REPO_ROOT / 'benchmarks' / 'results'))
    args = parser.parse_args(argv)
    if args.images < 1 or args.pairs < 1 or args.warmup < 0 or not 0 < args.scale <= 1:
        parser.error('--images and --pairs must be >= 1, --warmup >= 0, 0 < --scale <= 1')
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    if not Path(args.config).is_file():
        raise SystemExit(f'benchmark_data: config {args.config} does not exist')
    cfg = Config.fromfile(args.config)
    dataset_config(cfg, Path(args.out_dir), args.formats[0])  # a UDA config, before generating anything
    DefaultScope.get_instance('benchmark-data', scope_name='mmseg')
    torch.set_num_threads(1)
    cv2.setNumThreads(0)  # as mmengine's loader workers (env_cfg.mp_cfg.opencv_num_threads=0)
    load_at_start = os.getloadavg()
    batch_size = cfg.train_dataloader.batch_size
    formats: Dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix='benchmark-data-') as tmp:
        root = Path(tmp)
        generate(root, args.images, args.scale, args.seed)
        for fmt in args.formats:
            record = measure_pairs(dataset_config(cfg, root, fmt), args.pairs, args.warmup, args.seed)
            record['workers_needed'] = {str(ms): workers_needed(record['pair_cpu_ms']['mean'], batch_size, ms)
                                        for ms in args.iteration_ms}
            suffix = FORMATS[fmt]
            record['decoding'] = {
                f'gta {fmt}': measure_decoders(root / 'gta' / 'images' / f'00000{suffix}', fmt, args.decoder_runs),
                f'cityscapes {fmt}': measure_decoders(next((root / 'cityscapes' / 'leftImg8bit').rglob(f'*{suffix}')),
                                               fmt, args.decoder_runs),
                'gta label png': measure_decoders(root / 'gta' / 'labels' / '00000_labelTrainIds.png', 'label',
                                              args.decoder_runs)}
            formats[fmt] = record
    report = dict(config=os.path.relpath(Path(args.config).resolve(), REPO_ROOT), batch_size=batch_size,
                  image_sizes=dict(gta=[round(args.scale * s) for s in GTA_SIZE],
                                   cityscapes=[round(args.scale * s) for s in CITYSCAPES_SIZE]),
                  images_per_domain=args.images, pairs=args.pairs, formats=formats,
                  environment=dict(cpu=device_name(torch.device('cpu')), torch=torch.__version__,
                                   opencv=cv2.__version__, pillow=Image.__version__, git_revision=git_revision(),
                                   load_average_at_start=list(load_at_start), load_average_at_end=list(os.getloadavg()),
                                   date=time.strftime('%Y-%m-%d %H:%M:%S')))
    out = Path(args.out_dir) / f'{Path(args.config).stem}__data__{slug(report["environment"]["cpu"])}.json'
    write_json(out, report)
    print_report(report)
    print(f'benchmark_data: wrote {out}')
    return report


def print_report(report: dict) -> None:
    print(f"{report['config']}: batch {report['batch_size']} source + target, one loader worker "
          f"({report['environment']['cpu']}, load {report['environment']['load_average_at_start'][0]:.1f})")
    for fmt, record in report['formats'].items():
        needed = ', '.join(f'{n} at {ms} ms' for ms, n in record['workers_needed'].items())
        print(f"  {fmt}: {record['pair_cpu_ms']['mean']:.0f} CPU ms per pair "
              f"(wall {record['pair_wall_ms']['mean']:.0f}; {record['pairs_per_s_per_worker']:.2f} pairs/s per worker; "
              f"{record['source_pipeline_runs_per_pair']:.2f} source pipeline runs per pair); workers per iteration: "
              f"{needed}")
        for name, ms in sorted(record['step_cpu_ms_per_pair'].items(), key=lambda item: -item[1]):
            print(f'    {name:<34} {ms:8.1f} CPU ms per pair')
        for domain, decoding in record['decoding'].items():
            timings = ', '.join(f"{name} {d['ms']:.1f} ms{'' if d['identical_to_pipeline'] else ' (other pixels)'}"
                                for name, d in decoding['decoders'].items())
            print(f"    decode one {domain} ({decoding['file_bytes'] / 1e6:.2f} MB, CPU ms): {timings}")


if __name__ == '__main__':
    main()
