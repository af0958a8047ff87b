"""Collect the evaluation results of runs, group the seeds of each configuration and tabulate them.

    python tools/analyze_results.py RUN_DIR_OR_FOLDER... [--out DIR] [--plot] [--sort {name,miou,names}]
        [--names JSON]
    python tools/analyze_results.py --from-csv analysis.csv [--plot] [--names JSON] [--out DIR]   # re-draw

Each argument is a run directory or a folder searched recursively for run directories (a directory with
a run config, see ``mmseg.apis.run_dir.find_run_config``, and ``test_results.json`` or
``<timestamp>/vis_data/scalars.json``). The result of a run is the ``metrics`` of its ``test_results.json``
(written by ``test.sh``; source ``test``) unless that file is older than the run's newest checkpoint (then it
is ignored with a warning), else the last validation record of the newest log folder that has one (source
``val@<step>``); a run with neither is skipped with a warning.

Runs are seeds of one configuration (one row) when their config ``name`` is the same once the date prefix,
the uuid suffix and a trailing ``_s<seed>`` are removed **and** their resolved configs are equal apart from
the seed and the per-run entries (name, work_dir, git_rev, resume, load_from, launcher, and the checkpoints and
prototypes a DDB pipeline hands from stage to stage). Runs of one name
whose configs differ form separate rows, named by what differs (``name [key=value, ...]``). Per configuration:
the number of runs, their seeds (``randomness.seed``), the mIoU mean ± std over the seeds (population std, ddof=0 as numpy's default, so
0.00 for a single run), each run's mIoU and source, for SYNTHIA -> Cityscapes the 16-class mIoU mean ± std
(computed from the per-class IoU where the results lack ``mIoU16``) and the reference's reported number
``mIoU19x19/16`` (the 19-class mIoU times 19/16), for a multi-target evaluation (``<target>/mIoU`` in the
results, e.g. Foggy + Rain Cityscapes) the mIoU mean ± std of each target, and the per-class IoU averaged over
the seeds that have a value (``-`` in Markdown, empty in CSV, where no seed has one; multi-target: the mean over
the targets of each seed's ``<target>/IoU.<class>``).

The Markdown table is printed; ``analysis.md``, ``analysis.csv`` and with ``--plot`` ``analysis.png`` (mIoU
mean ± std per configuration) and ``analysis_per_class.png`` (a configuration x class heatmap of the IoU) are
written to ``--out`` (default: the folder when a single folder is given, else work_dirs/analysis).
``--names JSON`` maps configuration names (or the parts that tell them apart in the figures) to display
names for the figures and the table; ``--sort names`` orders the rows as its entries (e.g. the stages of a
pipeline in their order). ``--from-csv`` redraws the table and figures from a written
``analysis.csv`` (e.g. the committed ``docs/exp200/analysis.csv``) without the run directories.
"""
import argparse
import csv
import json
import math
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from mmengine.config import Config  # noqa: E402

from mmseg.apis.run_dir import find_run_config  # noqa: E402
from mmseg.datasets.conversion import write_text  # noqa: E402
from mmseg.evaluation.iou_metric import MIOU19_SCALED, SYNTHIA_CLASSES  # noqa: E402
from mmseg.utils.label_images import atomic_path  # noqa: E402
from mmseg.utils.result_plots import plot_iou_heatmap, save_figure  # noqa: E402

TEST_RESULTS = 'test_results.json'
CHECKPOINTS = ('*.pth', )  # iter_<n>.pth, latest.pth
# config entries that differ between the runs of one configuration by construction
PER_RUN_KEYS = ('name', 'work_dir', 'git_rev', 'resume', 'load_from', 'launcher', 'seed', 'randomness.seed')
# entries per run below other keys: the run folder, and the files a DDB pipeline hands from stage to stage
# (tools/ddb_pipeline.py: the ST checkpoints and prototypes of CKD, the distilled student of Round 2)
PER_RUN_LEAVES = ('work_dir', 'git_rev', 'cu_model_load_from', 'ca_model_load_from', 'cu_proto_path', 'ca_proto_path',
                  'distilled_model_path')
LOG_SCALARS = '*/vis_data/scalars.json'  # <timestamp>/vis_data/scalars.json of mmengine
RUN_NAME = re.compile(r'\d{6}_\d{4}_(?P<base>.+)_[0-9a-f]{5}')  # <yymmdd>_<HHMM>_<base name>_<uuid5>
SEED_SUFFIX = re.compile(r'_s\d+$')
METRIC_KEY = re.compile(r'([^/]+/)?(aAcc|mIoU|mAcc|mIoU16|mIoU19x19/16|(IoU|Acc)\..+)')  # '<target>/': multi-target
TARGET_MIOU = re.compile(r'(?P<target>[^/]+)/mIoU')
CLASS_IOU = re.compile(r'([^/]+/)?IoU\.(?P<cls>.+)')
DEFAULT_OUT = REPO_ROOT / 'work_dirs' / 'analysis'
PathLike = Union[str, Path]


@dataclass
class RunResult:
    """The evaluation result of one run directory (metrics in %, NaN for a class without pixels)."""
    run_dir: Path
    config_key: str
    seed: Optional[int]
    dataset: Optional[str]  # the config's name_dataset, e.g. synthia2cityscapes
    source: str  # 'test' or 'val@<step>'
    metrics: Dict[str, float]
    classes: List[str]
    config: Dict[str, object] = field(default_factory=dict)  # the flat resolved config without PER_RUN_KEYS

    @property
    def is_synthia(self) -> bool:
        """Trained on SYNTHIA (its 16-class mIoU is reported)."""
        return (self.dataset or '').startswith('synthia') or 'mIoU16' in self.metrics

    def miou16(self) -> float:
        """The reported ``mIoU16``, else the mean IoU over the 16 Cityscapes classes with SYNTHIA labels."""
        if 'mIoU16' in self.metrics:
            return self.metrics['mIoU16']
        if len(self.classes) != 19:
            raise ValueError(f'{self.run_dir}: mIoU16 needs the 19 Cityscapes classes, got {len(self.classes)}')
        return nanmean([self.metrics.get(f'IoU.{self.classes[i]}', math.nan) for i in SYNTHIA_CLASSES])

    def miou19_scaled(self) -> float:
        """The reference's SYNTHIA number ``mIoU19x19/16``: the 19-class mIoU times 19/16."""
        return self.metrics.get(MIOU19_SCALED, self.metrics['mIoU'] * 19 / 16)

    @property
    def targets(self) -> List[str]:
        """The targets of a multi-target evaluation (``<target>/mIoU`` keys), in order; empty otherwise."""
        return [m.group('target') for m in map(TARGET_MIOU.fullmatch, self.metrics) if m]

    def class_iou(self, name: str) -> float:
        """``IoU.<name>``; for a multi-target evaluation the mean of ``<target>/IoU.<name>`` over the targets."""
        if f'IoU.{name}' in self.metrics or not self.targets:
            return self.metrics.get(f'IoU.{name}', math.nan)
        return nanmean([self.metrics.get(f'{t}/IoU.{name}', math.nan) for t in self.targets])


@dataclass
class ConfigSummary:
    """The runs of one configuration (sorted by seed) and their statistics over the seeds."""
    key: str
    runs: List[RunResult]
    miou_mean: float
    miou_std: float
    miou16_mean: Optional[float]  # SYNTHIA -> Cityscapes only
    miou16_std: Optional[float]
    miou19_scaled_mean: Optional[float]  # SYNTHIA -> Cityscapes only: the reference's mIoU19 x 19/16
    miou19_scaled_std: Optional[float]
    class_iou: Dict[str, float]  # nanmean over the seeds; NaN where every seed has NaN
    target_miou: Dict[str, Tuple[float, float]] = field(default_factory=dict)  # multi-target: mean, std per target

    @property
    def seeds(self) -> List[Optional[int]]:
        """The seed of each run (None where the config has none)."""
        return [run.seed for run in self.runs]

    @property
    def mious(self) -> List[float]:
        """The mIoU of each run."""
        return [run.metrics['mIoU'] for run in self.runs]


def warn(message: str) -> None:
    """A warning line on stderr (stdout keeps the table)."""
    print(f'Warning: {message}', file=sys.stderr)


def nanmean(values: Sequence[float]) -> float:
    """Mean of the non-NaN values; NaN (without numpy's warning) when there is none."""
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan


def as_float(value: Optional[float]) -> float:
    """A metric value as float; JSON null (how test.sh may write NaN) becomes NaN."""
    return math.nan if value is None else float(value)


def config_key(name: str) -> str:
    """The run name without date prefix, uuid suffix and trailing ``_s<seed>``."""
    match = RUN_NAME.fullmatch(name)
    return SEED_SUFFIX.sub('', match.group('base') if match else name)


def class_names(metrics: Dict[str, float]) -> List[str]:
    """The classes of the ``IoU.<class>`` (multi-target: ``<target>/IoU.<class>``) keys, in order."""
    return list(dict.fromkeys(m.group('cls') for m in map(CLASS_IOU.fullmatch, metrics) if m))


def read_test_results(path: Path) -> Tuple[Dict[str, float], List[str]]:
    """Metrics and classes of a ``test_results.json``."""
    record = json.loads(path.read_text())
    metrics = {key: as_float(value) for key, value in record.get('metrics', {}).items()}
    if 'mIoU' not in metrics:
        raise ValueError(f'{path}: no mIoU in "metrics"')
    return metrics, record.get('classes') or class_names(metrics)


def read_json_lines(path: Path) -> List[dict]:
    """The records of an mmengine ``scalars.json``; a line that does not parse (being written) is skipped."""
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def last_validation_record(run_dir: Path) -> Optional[dict]:
    """The last record with an mIoU in the newest log folder that has one."""
    for scalars in sorted(run_dir.glob(LOG_SCALARS), key=lambda p: p.parent.parent.name, reverse=True):
        validations = [record for record in read_json_lines(scalars) if 'mIoU' in record]
        if validations:
            return validations[-1]
    return None


def flat_config(node, prefix: str = '') -> Dict[str, object]:
    """A resolved config as ``{'dotted.key': value}`` (lists by index), without :data:`PER_RUN_KEYS` (also
    below other keys, e.g. the UDA wrapper's ``model.work_dir``) and the :data:`PER_RUN_LEAVES`."""
    if hasattr(node, 'to_dict'):
        node = node.to_dict()
    if isinstance(node, dict):
        items = node.items()
    elif isinstance(node, (list, tuple)):
        items = ((str(i), v) for i, v in enumerate(node))
    else:
        return {prefix: node}
    flat: Dict[str, object] = {}
    for key, value in items:
        dotted = f'{prefix}.{key}' if prefix else str(key)
        if dotted in PER_RUN_KEYS or str(key) in PER_RUN_LEAVES:
            continue
        flat.update(flat_config(value, dotted))
    return flat


def stale_test_results(run_dir: Path) -> Optional[str]:
    """Why the run's ``test_results.json`` is out of date (older than its newest checkpoint), or None."""
    checkpoints = [p for pattern in CHECKPOINTS for p in run_dir.glob(pattern)]
    if not checkpoints:
        return None
    newest = max(checkpoints, key=lambda p: p.stat().st_mtime)
    if (run_dir / TEST_RESULTS).stat().st_mtime < newest.stat().st_mtime:
        return f'{TEST_RESULTS} is older than {newest.name}'
    return None


def load_run(run_dir: Path) -> Optional[RunResult]:
    """The result of a run directory (a current ``test_results.json``, else the logs); None when it has none."""
    stale = (run_dir / TEST_RESULTS).is_file() and stale_test_results(run_dir)
    if stale:
        warn(f'{run_dir}: {stale}, ignored (run test.sh again); using the logs')
    if (run_dir / TEST_RESULTS).is_file() and not stale:
        metrics, classes = read_test_results(run_dir / TEST_RESULTS)
        source = 'test'
    else:
        record = last_validation_record(run_dir)
        if record is None:
            return None
        metrics = {key: as_float(value) for key, value in record.items() if METRIC_KEY.fullmatch(key)}
        classes, source = class_names(metrics), f"val@{record.get('step')}"
    cfg = Config.fromfile(find_run_config(run_dir), import_custom_modules=False)
    randomness = cfg.get('randomness') or {}
    seed = randomness.get('seed', cfg.get('seed'))  # top-level 'seed' in configs of the original code
    return RunResult(run_dir=run_dir, config_key=config_key(cfg.get('name') or run_dir.name), seed=seed,
                     dataset=cfg.get('name_dataset'), source=source, metrics=metrics, classes=list(classes),
                     config=flat_config(cfg))


def has_run_config(folder: Path) -> bool:
    """Whether ``find_run_config`` finds a config in ``folder``."""
    try:
        find_run_config(folder)
    except FileNotFoundError:
        return False
    return True


def is_run_dir(folder: Path) -> bool:
    """A run config and a results source (``test_results.json`` or mmengine scalars)."""
    has_results = (folder / TEST_RESULTS).is_file() or any(folder.glob(LOG_SCALARS))
    return has_results and has_run_config(folder)


def find_run_dirs(folder: Path) -> List[Path]:
    """``folder`` if it is a run directory, else the run directories below it (sorted, depth first)."""
    if is_run_dir(folder):
        return [folder]
    return [run_dir for child in sorted(folder.iterdir()) if child.is_dir() for run_dir in find_run_dirs(child)]


def collect_runs(paths: Sequence[PathLike]) -> List[RunResult]:
    """The results of the run directories given and of those below the folders given. A run directory
    without results is skipped with a warning; SystemExit for a path that is not a directory or when no run
    has results."""
    paths = [Path(p) for p in paths]
    for path in paths:
        if not path.is_dir():
            raise SystemExit(f'Not a directory: {path}')
    runs = []
    for path in paths:
        run_dirs = find_run_dirs(path) or ([path] if has_run_config(path) else [])
        for run_dir in run_dirs:
            result = load_run(run_dir)
            if result is None:
                warn(f'{run_dir}: no results (no {TEST_RESULTS}, no validation record in {LOG_SCALARS}), skipped')
            else:
                runs.append(result)
    if not runs:
        raise SystemExit(f'No run with results found in {", ".join(map(str, paths))}')
    return runs


def summarize(key: str, runs: Sequence[RunResult]) -> ConfigSummary:
    """Statistics over the seeds of one configuration; warns about runs that share a seed."""
    runs = sorted(runs, key=lambda r: (r.seed is None, r.seed or 0, str(r.run_dir)))
    for seed, count in Counter(r.seed for r in runs).items():
        if count > 1:
            shared = ', '.join(str(r.run_dir) for r in runs if r.seed == seed)
            warn(f'{key}: {count} runs with seed {seed} (all kept): {shared}')
    mious = [r.metrics['mIoU'] for r in runs]
    miou16_mean = miou16_std = miou19_scaled_mean = miou19_scaled_std = None
    if any(r.is_synthia for r in runs):
        miou16 = [r.miou16() for r in runs]
        miou16_mean, miou16_std = float(np.mean(miou16)), float(np.std(miou16))
        scaled = [r.miou19_scaled() for r in runs]
        miou19_scaled_mean, miou19_scaled_std = float(np.mean(scaled)), float(np.std(scaled))
    classes = dict.fromkeys(c for r in runs for c in r.classes)
    class_iou = {c: nanmean([r.class_iou(c) for r in runs]) for c in classes}
    target_miou = {}
    for target in dict.fromkeys(t for r in runs for t in r.targets):
        values = [r.metrics.get(f'{target}/mIoU', math.nan) for r in runs]
        target_miou[target] = (float(np.mean(values)), float(np.std(values)))
    return ConfigSummary(key=key, runs=runs, miou_mean=float(np.mean(mious)), miou_std=float(np.std(mious)),
                         miou16_mean=miou16_mean, miou16_std=miou16_std, miou19_scaled_mean=miou19_scaled_mean,
                         miou19_scaled_std=miou19_scaled_std, class_iou=class_iou, target_miou=target_miou)


def config_groups(runs: Sequence[RunResult]) -> List[List[RunResult]]:
    """``runs`` (of one name) split into groups with equal configs, in first-seen order."""
    groups: List[List[RunResult]] = []
    for run in runs:
        for group in groups:
            if group[0].config == run.config:
                group.append(run)
                break
        else:
            groups.append([run])
    return groups


def difference_label(group: Sequence[RunResult], others: Sequence[Sequence[RunResult]], limit: int = 3) -> str:
    """``key=value, ...`` for the config entries in which ``group`` differs from some of ``others``."""
    mine = group[0].config
    keys = sorted({k for other in others if other is not group
                   for k in set(mine) | set(other[0].config) if mine.get(k) != other[0].config.get(k)})
    parts = [f'{k}={mine[k]!r}' if k in mine else f'{k} unset' for k in keys[:limit]]
    return ', '.join(parts + ([f'+{len(keys) - limit} more'] if len(keys) > limit else []))


def group_runs(runs: Sequence[RunResult]) -> List[ConfigSummary]:
    """One summary per configuration: runs of one name key whose configs are equal apart from the seed (see the
    module docstring); sorted by key."""
    by_name: Dict[str, List[RunResult]] = {}
    for run in runs:
        by_name.setdefault(run.config_key, []).append(run)
    summaries = []
    for key, members in sorted(by_name.items()):
        groups = config_groups(members)
        if len(groups) == 1:
            summaries.append(summarize(key, members))
            continue
        for group in groups:
            label = f'{key} [{difference_label(group, groups)}]'
            warn(f'{key}: runs with different configs are not seeds of one configuration; row {label!r}: '
                 + ', '.join(str(r.run_dir) for r in group))
            summaries.append(summarize(label, group))
    return summaries


def table_classes(summaries: Sequence[ConfigSummary]) -> List[str]:
    """The classes of all configurations, in first-seen order."""
    return list(dict.fromkeys(c for s in summaries for c in s.class_iou))


def table_targets(summaries: Sequence[ConfigSummary]) -> List[str]:
    """The targets of the multi-target configurations, in first-seen order (one mIoU column each)."""
    return list(dict.fromkeys(t for s in summaries for t in s.target_miou))


def mean_std_text(value: Optional[Tuple[float, float]]) -> str:
    """``mean ± std`` with 2 decimals; '-' where missing or NaN."""
    return '-' if value is None or math.isnan(value[0]) else f'{value[0]:.2f} ± {value[1]:.2f}'


def with_miou16(summaries: Sequence[ConfigSummary]) -> bool:
    """Whether the table has the mIoU16 column (some configuration is SYNTHIA -> Cityscapes)."""
    return any(s.miou16_mean is not None for s in summaries)


def seed_text(seed: Optional[int]) -> str:
    """A seed for the tables; '-' for a run without one."""
    return '-' if seed is None else str(seed)


def markdown_number(value: Optional[float], digits: int) -> str:
    """``value`` with ``digits`` decimals; '-' for a missing or NaN value."""
    return '-' if value is None or math.isnan(value) else f'{value:.{digits}f}'


def markdown_table(summaries: Sequence[ConfigSummary], labels: Optional[Sequence[str]] = None) -> str:
    """[variant |] config | n | seeds | mIoU mean ± std | per seed | source | [<target>/mIoU mean ± std ...] |
    [mIoU16, mIoU19x19/16 mean ± std] | per-class IoU; the variant column holds ``labels`` when given."""
    classes, targets, miou16 = table_classes(summaries), table_targets(summaries), with_miou16(summaries)
    header = (['config', 'n', 'seeds', 'mIoU', 'mIoU per seed', 'source'] + [f'{t}/mIoU' for t in targets]
              + (['mIoU16', MIOU19_SCALED] if miou16 else []) + classes)
    header = (['variant'] if labels else []) + header
    lines = ['| ' + ' | '.join(header) + ' |', '|' + ' --- |' * len(header)]
    for index, s in enumerate(summaries):
        cells = ([labels[index]] if labels else []) + [
            s.key, str(len(s.runs)), ', '.join(map(seed_text, s.seeds)), f'{s.miou_mean:.2f} ± {s.miou_std:.2f}',
            ', '.join(f'{v:.2f}' for v in s.mious), ', '.join(r.source for r in s.runs)]
        cells += [mean_std_text(s.target_miou.get(t)) for t in targets]
        if miou16:
            cells.append('-' if s.miou16_mean is None else f'{s.miou16_mean:.2f} ± {s.miou16_std:.2f}')
            cells.append('-' if s.miou19_scaled_mean is None else
                         f'{s.miou19_scaled_mean:.2f} ± {s.miou19_scaled_std:.2f}')
        cells += [markdown_number(s.class_iou.get(c), 1) for c in classes]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def csv_number(value: Optional[float]) -> Union[float, str]:
    """``value`` rounded to 4 decimals; empty for a missing or NaN value."""
    return '' if value is None or math.isnan(value) else round(value, 4)


def csv_rows(summaries: Sequence[ConfigSummary]) -> List[list]:
    """Header and one row per configuration; list cells are joined with ';', a missing value is empty."""
    classes, targets, miou16 = table_classes(summaries), table_targets(summaries), with_miou16(summaries)
    header = (['config', 'n', 'seeds', 'mIoU_mean', 'mIoU_std', 'mIoU_per_seed', 'source']
              + [f'{t}/mIoU_{stat}' for t in targets for stat in ('mean', 'std')]
              + (['mIoU16_mean', 'mIoU16_std', f'{MIOU19_SCALED}_mean', f'{MIOU19_SCALED}_std'] if miou16 else [])
              + [f'IoU.{c}' for c in classes])
    rows = [header]
    for s in summaries:
        row = [s.key, len(s.runs), ';'.join(map(seed_text, s.seeds)), csv_number(s.miou_mean), csv_number(s.miou_std),
               ';'.join(str(csv_number(v)) for v in s.mious), ';'.join(r.source for r in s.runs)]
        row += [csv_number(s.target_miou[t][i]) if t in s.target_miou else '' for t in targets for i in (0, 1)]
        if miou16:
            row += [csv_number(s.miou16_mean), csv_number(s.miou16_std), csv_number(s.miou19_scaled_mean),
                    csv_number(s.miou19_scaled_std)]
        rows.append(row + [csv_number(s.class_iou.get(c)) for c in classes])
    return rows


def write_csv(summaries: Sequence[ConfigSummary], path: Path) -> None:
    """Write the table as CSV atomically."""
    tmp = atomic_path(path)
    try:
        with open(tmp, 'w', newline='') as file:
            csv.writer(file).writerows(csv_rows(summaries))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def short_labels(keys: Sequence[str]) -> List[str]:
    """The configuration names without the ``_``-separated parts that all of them share at the start and
    at the end (a name that would become empty stays whole)."""
    if len(keys) < 2:
        return list(keys)
    parts = [key.split('_') for key in keys]
    shortest = min(len(p) for p in parts)
    head = next((i for i in range(shortest) if len({p[i] for p in parts}) > 1), shortest)
    tail = next((i for i in range(shortest - head) if len({p[-1 - i] for p in parts}) > 1), shortest - head)
    return ['_'.join(p[head:len(p) - tail]) or key for p, key in zip(parts, keys)]


def display_labels(summaries: Sequence[ConfigSummary], names: Optional[Dict[str, str]] = None) -> List[str]:
    """Figure labels: ``names[config key]`` or ``names[short label]`` where given, else the short label (what
    tells the configurations apart, :func:`short_labels`)."""
    names = names or {}
    shorts = short_labels([s.key for s in summaries])
    return [names.get(s.key, names.get(short, short)) for s, short in zip(summaries, shorts)]


def plot_miou(summaries: Sequence[ConfigSummary], labels: Sequence[str], path: Path) -> None:
    """Horizontal bars: mIoU mean with the std over seeds as error bar and the value written beside it."""
    fig = Figure(figsize=(9, 1.2 + 0.5 * len(summaries)))
    ax = fig.subplots()
    positions = np.arange(len(summaries))[::-1]
    ax.barh(positions, [s.miou_mean for s in summaries], xerr=[s.miou_std for s in summaries], capsize=4,
            color='tab:blue', height=0.6)
    for y, s in zip(positions, summaries):
        ax.annotate(f'{s.miou_mean:.1f} ± {s.miou_std:.1f} (n={len(s.runs)})', (s.miou_mean + s.miou_std, y),
                    textcoords='offset points', xytext=(4, 0), va='center', fontsize='small')
    ax.set_yticks(positions, labels)
    ax.set_xlabel('mIoU (%), mean ± std over seeds')
    ax.set_xlim(0, max(s.miou_mean + s.miou_std for s in summaries) * 1.25)
    ax.set_title('mIoU per configuration')
    ax.grid(axis='x', alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path)


def plot_per_class_heatmap(summaries: Sequence[ConfigSummary], labels: Sequence[str], path: Path) -> None:
    """Configuration x class heatmap of the IoU (mean over seeds), each cell written; classes without a value in
    any configuration are left out, a missing value is grey."""
    classes = [c for c in table_classes(summaries) if any(not math.isnan(s.class_iou.get(c, math.nan))
                                                          for s in summaries)]
    values = np.array([[s.class_iou.get(c, math.nan) for c in classes] for s in summaries], dtype=float)
    fig = Figure(figsize=(2.5 + 0.62 * len(classes), 1.6 + 0.45 * len(summaries)))
    ax = fig.subplots()
    plot_iou_heatmap(ax, values, labels, classes)
    ax.set_title('IoU per class (%), mean over seeds')
    fig.tight_layout()
    save_figure(fig, path)


def default_out_dir(paths: Sequence[Path]) -> Path:
    """The folder when a single folder (not a run directory) is given, else work_dirs/analysis."""
    if len(paths) == 1 and not is_run_dir(paths[0]):
        return paths[0]
    return DEFAULT_OUT


def summaries_from_csv(path: Path) -> List[ConfigSummary]:
    """The rows of a written ``analysis.csv`` (for redrawing; the runs carry seed, mIoU and source only)."""
    if not path.is_file():
        raise SystemExit(f'Not a file: {path}')
    with open(path, newline='') as file:
        rows = list(csv.DictReader(file))
    if not rows or 'mIoU_mean' not in rows[0]:
        raise SystemExit(f'{path}: not an analysis.csv of tools/analyze_results.py (no mIoU_mean column)')
    summaries = []
    for row in rows:
        classes = [key[len('IoU.'):] for key in row if key.startswith('IoU.')]
        runs = [RunResult(run_dir=path, config_key=row['config'], seed=None if seed == '-' else int(seed),
                          dataset=None, source=source, metrics={'mIoU': float(miou)}, classes=classes)
                for seed, miou, source in zip(row['seeds'].split(';'), row['mIoU_per_seed'].split(';'),
                                              row['source'].split(';'))]
        number = (lambda text: math.nan if text in ('', None) else float(text))
        summaries.append(ConfigSummary(
            key=row['config'], runs=runs, miou_mean=float(row['mIoU_mean']), miou_std=float(row['mIoU_std']),
            miou16_mean=number(row['mIoU16_mean']) if row.get('mIoU16_mean') else None,
            miou16_std=number(row['mIoU16_std']) if row.get('mIoU16_std') else None,
            miou19_scaled_mean=number(row[f'{MIOU19_SCALED}_mean']) if row.get(f'{MIOU19_SCALED}_mean') else None,
            miou19_scaled_std=number(row[f'{MIOU19_SCALED}_std']) if row.get(f'{MIOU19_SCALED}_std') else None,
            class_iou={c: number(row[f'IoU.{c}']) for c in classes},
            target_miou={key[:-len('/mIoU_mean')]: (number(row[key]), number(row[key[:-len('mean')] + 'std']))
                         for key in row if key.endswith('/mIoU_mean') and row[key] not in ('', None)}))
    return summaries


def read_names(path: Optional[Path]) -> Dict[str, str]:
    """The ``--names`` JSON object (configuration name or short label -> display name)."""
    if path is None:
        return {}
    names = json.loads(path.read_text())
    if not isinstance(names, dict) or not all(isinstance(v, str) for v in names.values()):
        raise SystemExit(f'{path}: expected a JSON object of configuration name -> display name')
    return names


def order_by_names(summaries: Sequence[ConfigSummary], names: Dict[str, str]) -> List[ConfigSummary]:
    """The configurations in the order of their entries (key or short label) in ``names``, the others after."""
    order = {name: index for index, name in enumerate(names)}
    shorts = short_labels([s.key for s in summaries])
    ranks = [order.get(s.key, order.get(short, len(order))) for s, short in zip(summaries, shorts)]
    return [s for _, s in sorted(zip(ranks, summaries), key=lambda item: item[0])]  # stable: ties keep their order


def main(argv: Optional[List[str]] = None) -> List[ConfigSummary]:
    """Command line entry (see the module docstring); returns the table's rows."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('paths', nargs='*', type=Path, metavar='RUN_DIR_OR_FOLDER')
    parser.add_argument('--from-csv', type=Path, help='redraw from this analysis.csv instead of run directories')
    parser.add_argument('--out', type=Path, help='output folder (default: see above)')
    parser.add_argument('--plot', action='store_true', help='also write analysis.png and analysis_per_class.png')
    parser.add_argument('--sort', choices=('name', 'miou', 'names'), default='name',
                        help='row order (miou: best first; names: the order of --names, the others after)')
    parser.add_argument('--names', type=Path, help='JSON: configuration name (or short label) -> display name')
    args = parser.parse_args(argv)
    if bool(args.paths) == bool(args.from_csv):
        parser.error('give run directories / folders, or --from-csv analysis.csv')
    names = read_names(args.names)
    summaries = summaries_from_csv(args.from_csv) if args.from_csv else group_runs(collect_runs(args.paths))
    if args.sort == 'miou':
        summaries.sort(key=lambda s: -s.miou_mean)
    elif args.sort == 'names':
        if not names:
            parser.error('--sort names needs --names JSON')
        summaries = order_by_names(summaries, names)
    out = args.out or (args.from_csv.parent if args.from_csv else default_out_dir(args.paths))
    out.mkdir(parents=True, exist_ok=True)
    labels = display_labels(summaries, names)
    table = markdown_table(summaries, labels if names else None)
    write_text(str(out / 'analysis.md'), table + '\n')
    written = ['analysis.md']
    if not args.from_csv:
        write_csv(summaries, out / 'analysis.csv')
        written.append('analysis.csv')
    if args.plot:
        plot_miou(summaries, labels, out / 'analysis.png')
        plot_per_class_heatmap(summaries, labels, out / 'analysis_per_class.png')
        written += ['analysis.png', 'analysis_per_class.png']
    print(table)
    print(f'Written to {out}: {", ".join(written)}')
    return summaries


if __name__ == '__main__':
    main()
