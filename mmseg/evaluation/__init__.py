"""Evaluation: the mmseg 0.16 segmentation metrics, the mmengine ``IoUMetric`` and its per-target variant."""
from .iou_metric import (SYNTHIA_CLASSES, IoUMetric, eval_metrics, evaluate_results, intersect_and_union,
                         mean_iou, total_area_to_metrics, total_intersect_and_union)
from .multi_target_iou_metric import MultiTargetIoUMetric

__all__ = [
    'IoUMetric', 'MultiTargetIoUMetric', 'SYNTHIA_CLASSES', 'eval_metrics', 'evaluate_results',
    'intersect_and_union', 'mean_iou', 'total_area_to_metrics', 'total_intersect_and_union'
]
