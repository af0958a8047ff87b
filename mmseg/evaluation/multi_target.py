"""What ``tools/test.py`` needs to evaluate a data set per target: the target of each sample, the folders its
predictions go to, the per-target summaries and JSON entries.

A plain data set is one unnamed target: its predictions keep their paths and nothing is added to the output. A
:class:`~mmseg.datasets.MultiTargetDataset` has one target per name: predictions go to ``<show-dir>/<name>/...``
(and ``<imgfile_prefix>/<name>/``), a summary line per target follows the mean, and ``test_results.json`` gets
``targets: {<name>: {dataset, images, img_dir, metrics}}`` beside the flat metrics (``mIoU`` the mean over the
targets, ``<name>/mIoU``, ``<name>/IoU.<class>``, ... from :class:`~mmseg.evaluation.MultiTargetIoUMetric`).
"""
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from mmengine.evaluator import BaseMetric
from torch.utils.data import Dataset

from mmseg.datasets.multi_target_dataset import TARGET_NAME, MultiTargetDataset
from .multi_target_iou_metric import MultiTargetIoUMetric


@dataclass(frozen=True)
class EvaluatedTarget:
    """One target of the evaluated data set ('' for a plain data set)."""
    name: str
    dataset: Dataset

    @property
    def img_dir(self) -> str:
        """The target's image folder (predictions keep their paths below it)."""
        return self.dataset.data_prefix['img_path']

    @property
    def img_suffix(self) -> str:
        return self.dataset.img_suffix

    @property
    def subdir(self) -> Path:
        """The folder of the target's predictions below ``--show-dir`` / ``imgfile_prefix``."""
        return Path(self.name)


class EvaluatedTargets:
    """The targets of the data set that ``tools/test.py`` evaluates (see the module docstring)."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self.multi = isinstance(dataset, MultiTargetDataset)
        datasets = dataset.datasets if self.multi else {'': dataset}
        self.targets = {name: EvaluatedTarget(name, target) for name, target in datasets.items()}

    def set_metric_meta(self, metric: BaseMetric, classes: Sequence[str], palette: Sequence[Sequence[int]]) -> None:
        """The metric's ``dataset_meta``: classes, palette and, for a multi-target data set, the target names, which
        only :class:`MultiTargetIoUMetric` scores separately."""
        meta = dict(classes=classes, palette=palette)
        if self.multi:
            if not isinstance(metric, MultiTargetIoUMetric):
                raise ValueError(f'the test data set is a MultiTargetDataset ({", ".join(self.targets)}) but the '
                                 f'evaluator is {type(metric).__name__}; set '
                                 "test_evaluator=dict(type='MultiTargetIoUMetric') to score each target")
            meta['target_names'] = list(self.targets)
        metric.dataset_meta = meta

    @property
    def with_labels(self) -> bool:
        """Whether every target has labels."""
        return all(target.dataset.with_labels for target in self.targets.values())

    @property
    def img_dir(self) -> Union[str, Dict[str, str]]:
        """The image folder, or the image folder per target."""
        if self.multi:
            return {name: target.img_dir for name, target in self.targets.items()}
        return self.targets[''].img_dir

    def of(self, data_sample: Any) -> EvaluatedTarget:
        """The target of a predicted data sample."""
        return self.targets[data_sample.metainfo[TARGET_NAME] if self.multi else '']

    def summary_lines(self, results: Mapping[str, float]) -> List[str]:
        """One ``Summary <name> (<n> images): key: value, ...`` line per target (none for a plain data set)."""
        if not self.multi:
            return []
        lines = []
        for name, length in self.dataset.target_lengths().items():
            values = {key[len(name) + 1:]: value for key, value in results.items() if key.startswith(f'{name}/')}
            summary = ', '.join(f'{key}: {value:.2f}' for key, value in values.items() if '.' not in key)
            lines.append(f'Summary {name} ({length} images): {summary}')
        return lines

    def record(self, results: Mapping[str, Optional[float]]) -> Dict[str, Any]:
        """``targets`` of the JSON record: per target its data set, images, image folder and metrics."""
        if not self.multi:
            return {}
        lengths = self.dataset.target_lengths()
        return dict(targets={
            name: dict(dataset=type(target.dataset).__name__, images=lengths[name], img_dir=target.img_dir,
                       metrics={key[len(name) + 1:]: value for key, value in results.items()
                                if key.startswith(f'{name}/')})
            for name, target in self.targets.items()})


def apply_to_target_configs(dataset_cfg: Any, function: Callable[[Any], None]) -> None:
    """``function`` on the data set config, or on each target config of a MultiTargetDataset config (the shared
    ``pipeline`` copied into the targets without one first, so that ``function`` sees each target's pipeline)."""
    if dataset_cfg.get('type') != MultiTargetDataset.__name__:
        function(dataset_cfg)
        return
    for target in dataset_cfg['targets'].values():
        if 'pipeline' not in target and dataset_cfg.get('pipeline') is not None:
            target['pipeline'] = [dict(step) for step in dataset_cfg['pipeline']]
        function(target)
