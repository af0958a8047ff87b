"""Checker for the evaluation golden case: mmseg 0.16 ``intersect_and_union`` ... ``CustomDataset.evaluate``."""
from mmseg.evaluation.iou_metric import (eval_metrics, evaluate_results, intersect_and_union, mean_iou,
                                         total_intersect_and_union)
from tests.golden_utils import assert_matches

AREA_NAMES = ('area_intersect', 'area_union', 'area_pred_label', 'area_label')


def check_miou(case: dict) -> None:
    config = case['config']
    num_classes, ignore_index = config['num_classes'], config['ignore_index']
    # the reference received numpy arrays: int64 predictions, uint8 labels
    preds = [p.numpy() for p in case['inputs']['preds']]
    labels = [lbl.numpy() for lbl in case['inputs']['labels']]
    outputs = {
        'intersect_and_union': [
            dict(zip(AREA_NAMES, intersect_and_union(p, lbl, num_classes, ignore_index)))
            for p, lbl in zip(preds, labels)
        ],
        'total_intersect_and_union': dict(
            zip(AREA_NAMES, total_intersect_and_union(preds, labels, num_classes, ignore_index))),
        'mean_iou': mean_iou(preds, labels, num_classes, ignore_index),
        'mean_iou_nan_to_num0': mean_iou(preds, labels, num_classes, ignore_index, nan_to_num=0),
        'eval_metrics_all': eval_metrics(preds, labels, num_classes, ignore_index, ['mIoU', 'mDice', 'mFscore']),
        'dataset_evaluate': evaluate_results(preds, labels, config['classes'], ignore_index, 'mIoU'),
    }
    assert_matches(outputs, case['outputs'], case['atol'], case['rtol'])
    assert list(outputs['dataset_evaluate']) == list(case['outputs']['dataset_evaluate']), 'key order differs'
    for name, expected in case['outputs']['intersect_and_union'][0].items():
        assert outputs['intersect_and_union'][0][name].dtype == expected.dtype, f'{name}: dtype differs'
    for name, expected in case['outputs']['total_intersect_and_union'].items():
        assert outputs['total_intersect_and_union'][name].dtype == expected.dtype, f'{name}: dtype differs'
