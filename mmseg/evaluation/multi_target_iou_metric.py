"""The IoU metric per target of a multi-target validation set, plus the mean over the targets."""
from collections import OrderedDict
from typing import Any, Dict, List, Mapping, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log

from mmseg.datasets.multi_target_dataset import TARGET_NAME
from mmseg.registry import METRICS
from .iou_metric import Areas, IoUMetric, format_table

MEAN_ROW = 'mean'


def sample_target_name(data_sample: Any) -> str:
    """The ``target_name`` metainfo of a data sample (a dict, as mmengine's evaluator passes it, or a data element)."""
    if isinstance(data_sample, Mapping):
        name = data_sample.get(TARGET_NAME)
    else:
        name = getattr(data_sample, 'metainfo', {}).get(TARGET_NAME)
    if name is None:
        path = data_sample.get('img_path') if isinstance(data_sample, Mapping) else \
            getattr(data_sample, 'metainfo', {}).get('img_path')
        raise KeyError(f'MultiTargetIoUMetric: the sample of {path!r} has no {TARGET_NAME!r} in its metainfo; the '
                       'evaluated data set must be a MultiTargetDataset')
    return name


@METRICS.register_module()
class MultiTargetIoUMetric(IoUMetric):
    """:class:`IoUMetric` on each target of a :class:`~mmseg.datasets.MultiTargetDataset` separately.

    Each sample counts for the target named in its metainfo (``target_name``). ``compute_metrics`` logs, per
    target, IoUMetric's per-class and summary tables under a header, then one table of the targets' summaries
    with their mean; it returns IoUMetric's keys of every target as ``<target>/<key>`` (``foggy/mIoU``,
    ``foggy/IoU.road``, ...) and, under the plain names (``mIoU``, ``mAcc``, ``aAcc``, ...), the mean over the
    targets of each summary value, so that ``save_best='mIoU'`` keeps the best mean. The targets come in the
    order of ``dataset_meta['target_names']`` (set by the data set), else in the order first seen.
    Args: as :class:`IoUMetric`.
    """

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """IoUMetric's class histograms of each sample, stored with the sample's target name."""
        names = [sample_target_name(sample) for sample in data_samples]
        start = len(self.results)
        super().process(data_batch, data_samples)
        self.results[start:] = list(zip(names, self.results[start:]))

    def _target_order(self, seen: Sequence[str]) -> List[str]:
        expected = list((self.dataset_meta or {}).get('target_names') or [])
        if not expected:
            return list(seen)
        unknown, missing = sorted(set(seen) - set(expected)), [n for n in expected if n not in seen]
        if unknown or missing:
            raise ValueError(f'MultiTargetIoUMetric: results of targets {list(seen)}, but the data set has '
                             f'{expected} (unknown: {unknown}, without results: {missing})')
        return expected

    def compute_metrics(self, results: List[Tuple[str, Areas]]) -> Dict[str, float]:
        """Per target IoUMetric's summary and per-class values, and the mean of the summaries over the targets."""
        if not results:
            raise ValueError('MultiTargetIoUMetric received no results; was process() called?')
        grouped: Dict[str, List[Areas]] = OrderedDict()
        for name, areas in results:
            grouped.setdefault(name, []).append(areas)
        per_target = OrderedDict()
        for name in self._target_order(list(grouped)):
            print_log(f'Target {name} ({len(grouped[name])} images):', logger='current')
            per_target[name] = super().compute_metrics(grouped[name])
        summary_keys = [key for key in next(iter(per_target.values())) if '.' not in key]
        mean = OrderedDict((key, float(np.round(np.mean([m[key] for m in per_target.values()]), 2)))
                           for key in summary_keys)
        rows = list(per_target) + [MEAN_ROW]
        columns = {'Target': rows}
        columns.update((key, [m[key] for m in per_target.values()] + [mean[key]]) for key in summary_keys)
        print_log(f'Targets (the {MEAN_ROW} is over the targets):\n' + format_table(columns), logger='current')
        metrics = dict(mean)
        for name, target_metrics in per_target.items():
            metrics.update((f'{name}/{key}', value) for key, value in target_metrics.items())
        return metrics
