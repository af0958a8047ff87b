"""Semantic-segmentation evaluation of mmseg 0.16 (as used by DAFormer / HRDA) and its mmengine metric.

The statistics are data-set level: per image, the pixels whose label is ``ignore_index`` are
dropped and class histograms of the intersection (pred == label), the prediction and the label
are taken; these are summed over all images in float64 before any ratio is formed. A class
whose union is 0 (absent from predictions and labels) has IoU NaN and is skipped by the mean.
"""
from collections import OrderedDict
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmseg.registry import METRICS

LabelMap = Union[np.ndarray, torch.Tensor]
Areas = Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]

ALLOWED_METRICS = ('mIoU', 'mDice', 'mFscore')
# Cityscapes train ids without SYNTHIA labels: terrain (9), truck (14), train (16).
SYNTHIA_ABSENT_CLASSES = (9, 14, 16)
SYNTHIA_CLASSES = tuple(c for c in range(19) if c not in SYNTHIA_ABSENT_CLASSES)
# the reference's SYNTHIA number: 19-class mIoU x 19 / 16 (the papers' "mIoU16")
MIOU19_SCALED = 'mIoU19x19/16'


def _as_tensor(array: LabelMap) -> torch.Tensor:
    return array if torch.is_tensor(array) else torch.from_numpy(np.asarray(array))


def intersect_and_union(pred_label: LabelMap, label: LabelMap, num_classes: int,
                        ignore_index: int) -> Areas:
    """Float32 class histograms of one image: intersection, union, prediction and label areas."""
    pred_label = _as_tensor(pred_label)
    label = _as_tensor(label)
    mask = label != ignore_index
    pred_label = pred_label[mask]
    label = label[mask]
    intersect = pred_label[pred_label == label]

    def histogram(values: torch.Tensor) -> torch.Tensor:
        return torch.histc(values.float(), bins=num_classes, min=0, max=num_classes - 1)

    area_intersect = histogram(intersect)
    area_pred_label = histogram(pred_label)
    area_label = histogram(label)
    area_union = area_pred_label + area_label - area_intersect
    return area_intersect, area_union, area_pred_label, area_label


def total_intersect_and_union(results: Sequence[LabelMap], gt_seg_maps: Sequence[LabelMap],
                              num_classes: int, ignore_index: int) -> Areas:
    """The histograms of :func:`intersect_and_union` summed over all images, in float64."""
    if len(results) != len(gt_seg_maps):
        raise ValueError(f'{len(results)} predictions but {len(gt_seg_maps)} label maps')
    totals = [torch.zeros(num_classes, dtype=torch.float64) for _ in range(4)]
    for pred_label, label in zip(results, gt_seg_maps):
        for total, area in zip(totals, intersect_and_union(pred_label, label, num_classes, ignore_index)):
            total += area
    return tuple(totals)


def f_score(precision: torch.Tensor, recall: torch.Tensor, beta: float = 1) -> torch.Tensor:
    """The F-beta score of a precision and a recall."""
    return (1 + beta**2) * (precision * recall) / ((beta**2 * precision) + recall)


def total_area_to_metrics(total_area_intersect: torch.Tensor, total_area_union: torch.Tensor,
                          total_area_pred_label: torch.Tensor, total_area_label: torch.Tensor,
                          metrics: Sequence[str] = ('mIoU',), nan_to_num: Optional[float] = None,
                          beta: float = 1) -> Dict[str, np.ndarray]:
    """``aAcc`` plus per-class arrays (``IoU``/``Acc``, ``Dice``, ``Fscore``/``Precision``/``Recall``)."""
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    unknown = set(metrics) - set(ALLOWED_METRICS)
    if unknown:
        raise KeyError(f'metrics {sorted(unknown)} are not supported; choose from {ALLOWED_METRICS}')
    ret_metrics = OrderedDict(aAcc=total_area_intersect.sum() / total_area_label.sum())
    for metric in metrics:
        if metric == 'mIoU':
            ret_metrics['IoU'] = total_area_intersect / total_area_union
            ret_metrics['Acc'] = total_area_intersect / total_area_label
        elif metric == 'mDice':
            ret_metrics['Dice'] = 2 * total_area_intersect / (total_area_pred_label + total_area_label)
            ret_metrics['Acc'] = total_area_intersect / total_area_label
        else:
            precision = total_area_intersect / total_area_pred_label
            recall = total_area_intersect / total_area_label
            ret_metrics['Fscore'] = torch.tensor([f_score(p, r, beta) for p, r in zip(precision, recall)])
            ret_metrics['Precision'] = precision
            ret_metrics['Recall'] = recall
    ret_metrics = OrderedDict((name, value.numpy()) for name, value in ret_metrics.items())
    if nan_to_num is not None:
        ret_metrics = OrderedDict(
            (name, np.nan_to_num(value, nan=nan_to_num)) for name, value in ret_metrics.items())
    return ret_metrics


def eval_metrics(results: Sequence[LabelMap], gt_seg_maps: Sequence[LabelMap], num_classes: int,
                 ignore_index: int, metrics: Sequence[str] = ('mIoU',), nan_to_num: Optional[float] = None,
                 beta: float = 1) -> Dict[str, np.ndarray]:
    """Data-set level metrics of label maps (mmseg 0.16 ``eval_metrics``); NaN kept unless ``nan_to_num``."""
    areas = total_intersect_and_union(results, gt_seg_maps, num_classes, ignore_index)
    return total_area_to_metrics(*areas, metrics=metrics, nan_to_num=nan_to_num, beta=beta)


def mean_iou(results: Sequence[LabelMap], gt_seg_maps: Sequence[LabelMap], num_classes: int,
             ignore_index: int, nan_to_num: Optional[float] = None) -> Dict[str, np.ndarray]:
    """``aAcc``, per-class ``IoU`` and ``Acc`` (mmseg 0.16 ``mean_iou``)."""
    return eval_metrics(results, gt_seg_maps, num_classes, ignore_index, ['mIoU'], nan_to_num)


def summarize(ret_metrics: Mapping[str, np.ndarray]) -> Tuple[Dict[str, float], Dict[str, np.ndarray]]:
    """Percentages rounded to 2 decimals: the summary (``aAcc``, ``m<name>`` = nanmean) and the per-class arrays."""
    summary = OrderedDict(
        (name if name == 'aAcc' else 'm' + name, float(np.round(np.nanmean(value) * 100, 2)))
        for name, value in ret_metrics.items())
    per_class = OrderedDict(
        (name, np.round(value * 100, 2)) for name, value in ret_metrics.items() if name != 'aAcc')
    return summary, per_class


def format_table(columns: Mapping[str, Sequence[Any]]) -> str:
    """A plain-text table with one column per entry, framed like PrettyTable."""
    cells = [[str(name)] + [str(v) for v in values] for name, values in columns.items()]
    widths = [max(len(c) for c in column) for column in cells]
    rule = '+' + '+'.join('-' * (w + 2) for w in widths) + '+'

    def row(i: int) -> str:
        return '|' + '|'.join(f' {column[i]:^{w}} ' for column, w in zip(cells, widths)) + '|'

    body = [row(i) for i in range(1, len(cells[0]))]
    return '\n'.join([rule, row(0), rule, *body, rule])


def evaluate_results(results: Sequence[LabelMap], gt_seg_maps: Sequence[LabelMap], class_names: Sequence[str],
                     ignore_index: int = 255, metric: Union[str, Sequence[str]] = 'mIoU',
                     logger: Any = None) -> Dict[str, float]:
    """The summary of mmseg 0.16 ``CustomDataset.evaluate``, as fractions.

    ``aAcc`` and ``m<name>`` (nanmean over classes) plus ``<name>.<class>`` per class, each
    ``round(100 * x, 2) / 100``; classes absent from predictions and labels stay NaN. The
    per-class and summary tables are logged.
    """
    ret_metrics = eval_metrics(results, gt_seg_maps, len(class_names), ignore_index, metric)
    summary, per_class = summarize(ret_metrics)
    print_log('per class results:\n' + format_table({'Class': class_names, **per_class}), logger=logger)
    print_log('Summary:\n' + format_table({k: [v] for k, v in summary.items()}), logger=logger)
    eval_results = OrderedDict((name, value / 100.0) for name, value in summary.items())
    for name, values in per_class.items():
        eval_results.update((f'{name}.{cls}', float(values[i]) / 100.0) for i, cls in enumerate(class_names))
    return eval_results


def _field(obj: Any, name: str) -> Any:
    return obj[name] if isinstance(obj, Mapping) else getattr(obj, name)


def _label_map(data_sample: Any, field: str) -> torch.Tensor:
    data = _field(_field(data_sample, field), 'data')
    return data[0] if data.dim() == 3 else data


@METRICS.register_module()
class IoUMetric(BaseMetric):
    """Data-set level IoU metric (mmseg 1.x interface, mmseg 0.16 numbers).

    ``process`` takes data samples with ``pred_sem_seg.data`` and ``gt_sem_seg.data`` label maps
    (1 x H x W or H x W; dicts or data elements) and stores the class histograms of each image;
    ``compute_metrics`` sums them over the data set and returns percentages rounded to 2 decimals:
    ``aAcc``, ``mIoU`` and ``mAcc`` (plus ``mDice`` / ``mFscore``, ``mPrecision``, ``mRecall`` when
    requested). The per-class table is logged with the names of ``dataset_meta['classes']``.

    Args:
        num_classes: number of classes; default ``len(dataset_meta['classes'])``.
        ignore_index: label value excluded from every statistic.
        iou_metrics: any of ``'mIoU'``, ``'mDice'``, ``'mFscore'``.
        nan_to_num: replaces the NaN of classes absent from predictions and labels; by default
            they stay NaN and are skipped by the means.
        with_miou16: for SYNTHIA-trained models, also report ``mIoU16``, the mean IoU over the 16
            Cityscapes classes with SYNTHIA labels (all but terrain, truck and train), and
            ``mIoU19x19/16``, the reference's reported number: the 19-class mIoU times 19/16 (spec §11).
            The two are equal only when those three IoUs are exactly 0.
        collect_device, prefix: see :class:`mmengine.evaluator.BaseMetric`; the keys carry no prefix by
            default (``mIoU``, ``IoU.road``, the reference's log names), without mmengine's warning about it.
    """

    default_prefix = ''

    def __init__(self, num_classes: Optional[int] = None, ignore_index: int = 255,
                 iou_metrics: Sequence[str] = ('mIoU',), nan_to_num: Optional[float] = None,
                 with_miou16: bool = False, per_class_results: bool = True, collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.metrics = [iou_metrics] if isinstance(iou_metrics, str) else list(iou_metrics)
        unknown = set(self.metrics) - set(ALLOWED_METRICS)
        if unknown:
            raise KeyError(f'iou_metrics {sorted(unknown)} are not supported; choose from {ALLOWED_METRICS}')
        if with_miou16 and 'mIoU' not in self.metrics:
            raise ValueError("with_miou16 needs 'mIoU' in iou_metrics")
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.nan_to_num = nan_to_num
        self.with_miou16 = with_miou16
        self.per_class_results = per_class_results

    def _class_names(self) -> List[str]:
        classes = (self.dataset_meta or {}).get('classes')
        if classes is None:
            if self.num_classes is None:
                raise ValueError("IoUMetric needs num_classes or dataset_meta['classes']")
            return [str(c) for c in range(self.num_classes)]
        if self.num_classes is not None and self.num_classes != len(classes):
            raise ValueError(f"num_classes={self.num_classes} but dataset_meta has {len(classes)} classes")
        return list(classes)

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Store the class histograms of each predicted / ground-truth label-map pair."""
        num_classes = len(self._class_names())
        for data_sample in data_samples:
            pred = _label_map(data_sample, 'pred_sem_seg').cpu()
            label = _label_map(data_sample, 'gt_sem_seg').cpu()
            if pred.shape != label.shape:
                raise ValueError(f'prediction {tuple(pred.shape)} and label {tuple(label.shape)} differ in size')
            self.results.append(intersect_and_union(pred, label, num_classes, self.ignore_index))

    def compute_metrics(self, results: List[Areas]) -> Dict[str, float]:
        """Sum the histograms over the data set; log the per-class table; return the summary."""
        if not results:
            raise ValueError('IoUMetric received no results; was process() called?')
        class_names = self._class_names()
        totals = [torch.stack([areas[i] for areas in results]).double().sum(0) for i in range(4)]
        ret_metrics = total_area_to_metrics(*totals, metrics=self.metrics, nan_to_num=self.nan_to_num)
        summary, per_class = summarize(ret_metrics)
        if self.with_miou16:
            if len(class_names) != 19:
                raise ValueError(f'mIoU16 needs the 19 Cityscapes classes, got {len(class_names)}')
            summary['mIoU16'] = float(np.round(np.nanmean(ret_metrics['IoU'][list(SYNTHIA_CLASSES)]) * 100, 2))
            summary[MIOU19_SCALED] = float(np.round(np.nanmean(ret_metrics['IoU']) * 100 * 19 / 16, 2))
        print_log('per class results:\n' + format_table({'Class': class_names, **per_class}), logger='current')
        print_log('Summary:\n' + format_table({k: [v] for k, v in summary.items()}), logger='current')
        if self.per_class_results:
            for name, values in per_class.items():
                summary.update((f'{name}.{cls}', float(values[i])) for i, cls in enumerate(class_names))
        return dict(summary)
