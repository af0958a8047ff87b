"""Evaluation: the mmseg 0.16 segmentation metrics and the mmengine ``IoUMetric``."""
from .iou_metric import (SYNTHIA_CLASSES, IoUMetric, eval_metrics, evaluate_results, intersect_and_union,
                         mean_iou, total_area_to_metrics, total_intersect_and_union)

__all__ = [
    'IoUMetric', 'SYNTHIA_CLASSES', 'eval_metrics', 'evaluate_results', 'intersect_and_union', 'mean_iou',
    'total_area_to_metrics', 'total_intersect_and_union'
]
