"""IoUMetric and the mmseg 0.16 evaluation functions on small hand-computed label maps."""
import math

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData

from mmseg.evaluation import IoUMetric, eval_metrics, evaluate_results, intersect_and_union, mean_iou
from mmseg.evaluation import iou_metric as iou_metric_module
from mmseg.registry import METRICS
from mmseg.structures import SegDataSample

# Two images, 3 classes, 255 = ignore. Summed over both images:
# intersection [2, 2, 2], prediction [3, 3, 3], label [4, 3, 2] -> union [5, 4, 3].
PRED_A = [[0, 0, 1], [1, 2, 2]]
GT_A = [[0, 1, 1], [1, 2, 255]]
PRED_B = [[2, 2], [0, 1]]
GT_B = [[2, 0], [0, 0]]
IOU = [2 / 5, 2 / 4, 2 / 3]
ACC = [2 / 4, 2 / 3, 2 / 2]


def _dict_sample(pred, gt) -> dict:
    return {'pred_sem_seg': {'data': torch.tensor([pred])},
            'gt_sem_seg': {'data': torch.tensor([gt], dtype=torch.uint8)}}


def _object_sample(pred, gt) -> SegDataSample:
    sample = SegDataSample()
    sample.pred_sem_seg = PixelData(data=torch.tensor([pred]))
    sample.gt_sem_seg = PixelData(data=torch.tensor([gt]))
    return sample


def _run(metric: IoUMetric, samples) -> dict:
    for sample in samples:
        metric.process({}, [sample])
    return metric.evaluate(len(samples))


def test_dataset_level_metrics_through_process_and_evaluate():
    metric = IoUMetric()
    metric.dataset_meta = {'classes': ['a', 'b', 'c']}
    results = _run(metric, [_dict_sample(PRED_A, GT_A), _object_sample(PRED_B, GT_B)])
    assert list(results) == ['aAcc', 'mIoU', 'mAcc', 'IoU.a', 'IoU.b', 'IoU.c', 'Acc.a', 'Acc.b', 'Acc.c']
    assert results['aAcc'] == round(100 * 6 / 9, 2)
    assert results['mIoU'] == round(100 * float(np.mean(IOU)), 2) == 52.22
    assert results['mAcc'] == round(100 * float(np.mean(ACC)), 2) == 72.22
    # averaging per image instead would give 50.0
    assert metric.results == []


def test_reference_functions_match_hand_computed_values():
    preds = [np.array(PRED_A), np.array(PRED_B)]
    labels = [np.array(GT_A, dtype=np.uint8), np.array(GT_B, dtype=np.uint8)]
    intersect, union, pred_area, label_area = intersect_and_union(preds[0], labels[0], 3, 255)
    assert intersect.dtype == torch.float32
    assert intersect.tolist() == [1, 2, 1] and union.tolist() == [2, 3, 1]
    assert pred_area.tolist() == [2, 2, 1] and label_area.tolist() == [1, 3, 1]
    result = mean_iou(preds, labels, 3, 255)
    np.testing.assert_allclose(result['IoU'], IOU)
    np.testing.assert_allclose(result['Acc'], ACC)
    assert float(result['aAcc']) == pytest.approx(6 / 9)
    summary = evaluate_results(preds, labels, ['a', 'b', 'c'])
    assert list(summary) == ['aAcc', 'mIoU', 'mAcc', 'IoU.a', 'IoU.b', 'IoU.c', 'Acc.a', 'Acc.b', 'Acc.c']
    assert summary['mIoU'] == pytest.approx(0.5222, abs=1e-12) and summary['IoU.c'] == pytest.approx(0.6667, abs=1e-12)


def test_dice_and_fscore():
    preds = [np.array(PRED_A), np.array(PRED_B)]
    labels = [np.array(GT_A), np.array(GT_B)]
    result = eval_metrics(preds, labels, 3, 255, ['mDice', 'mFscore'])
    np.testing.assert_allclose(result['Dice'], [2 * 2 / 7, 2 * 2 / 6, 2 * 2 / 5])
    np.testing.assert_allclose(result['Precision'], [2 / 3, 2 / 3, 2 / 3])
    np.testing.assert_allclose(result['Fscore'], result['Dice'])  # F1 == Dice
    metric = IoUMetric(num_classes=3, iou_metrics=['mIoU', 'mDice', 'mFscore'])
    results = _run(metric, [_dict_sample(PRED_A, GT_A), _dict_sample(PRED_B, GT_B)])
    per_class = {f'{name}.{c}' for name in ('IoU', 'Acc', 'Dice', 'Fscore', 'Precision', 'Recall') for c in range(3)}
    assert set(results) == {'aAcc', 'mIoU', 'mAcc', 'mDice', 'mFscore', 'mPrecision', 'mRecall'} | per_class
    assert results['Dice.1'] == round(100 * 4 / 6, 2)
    assert results['mDice'] == round(100 * (4 / 7 + 4 / 6 + 4 / 5) / 3, 2)


def test_absent_class_is_nan_and_skipped(monkeypatch):
    logged = []
    monkeypatch.setattr(iou_metric_module, 'print_log', lambda msg, **kwargs: logged.append(msg))
    metric = IoUMetric()
    metric.dataset_meta = {'classes': ['a', 'b', 'c', 'never']}
    results = _run(metric, [_dict_sample(PRED_A, GT_A), _dict_sample(PRED_B, GT_B)])
    assert results['mIoU'] == 52.22 and results['mAcc'] == 72.22  # class 3 skipped, not counted as 0
    assert results['IoU.a'] == 40.0 and math.isnan(results['IoU.never'])
    assert 'never' in logged[0] and 'nan' in logged[0]
    assert ' 40.0 ' in logged[0]  # IoU of class 'a' in percent

    zeroed = IoUMetric(nan_to_num=0)
    zeroed.dataset_meta = {'classes': ['a', 'b', 'c', 'never']}
    assert _run(zeroed, [_dict_sample(PRED_A, GT_A), _dict_sample(PRED_B, GT_B)])['mIoU'] == round(
        100 * sum(IOU) / 4, 2)
    result = mean_iou([np.array(PRED_A)], [np.array(GT_A)], 4, 255)
    assert math.isnan(result['IoU'][3]) and math.isnan(result['Acc'][3])


def test_prediction_only_class_counts_as_zero():
    metric = IoUMetric(num_classes=3)
    results = _run(metric, [_dict_sample([[0, 2]], [[0, 0]])])
    # class 0: I=1, U=2; class 2: predicted only -> IoU 0 (not NaN); class 1 absent -> NaN, skipped
    assert results['mIoU'] == round(100 * (0.5 + 0.0) / 2, 2)
    assert results['mAcc'] == 50.0  # Acc of class 2 is NaN (no label pixels), skipped


def test_ignore_index_pixels_do_not_count():
    metric = IoUMetric(num_classes=2, ignore_index=7, per_class_results=False)
    results = _run(metric, [_dict_sample([[0, 1, 1]], [[0, 1, 7]])])
    assert results == {'aAcc': 100.0, 'mIoU': 100.0, 'mAcc': 100.0}


def _synthia_samples(absent_classes_in_gt: bool):
    classes = [c for c in range(19) if not (absent_classes_in_gt and c in (9, 14, 16))]
    gt = torch.tensor(classes * 2).reshape(2, -1)
    pred = gt.clone()
    pred[1, :] = 0  # each class predicted once, correctly, in row 0; road everywhere in row 1
    pred[(pred == 9) | (pred == 14) | (pred == 16)] = 0  # never predicted, as by a SYNTHIA-trained model
    return [{'pred_sem_seg': {'data': pred[None]}, 'gt_sem_seg': {'data': gt[None]}}]


def test_miou16_matches_papers_conversion_when_absent_classes_score_zero():
    metric = IoUMetric(num_classes=19, with_miou16=True)
    results = _run(metric, _synthia_samples(absent_classes_in_gt=False))
    # road: I = 2, U = 19 + 4 predicted in the two rows; others I = 1, U = 2; 9, 14, 16: I = 0
    iou = np.array([2 / 23] + [0.5] * 18)
    iou[[9, 14, 16]] = 0.0
    assert results['mIoU'] == round(100 * iou.mean(), 2)
    assert results['mIoU16'] == round(100 * iou.sum() / 16, 2)
    assert results['mIoU16'] == pytest.approx(results['mIoU'] * 19 / 16, abs=0.01)
    assert results['mIoU19x19/16'] == round(100 * iou.mean() * 19 / 16, 2) == results['mIoU16']


def test_miou16_when_absent_classes_are_absent_everywhere():
    metric = IoUMetric(num_classes=19, with_miou16=True)
    results = _run(metric, _synthia_samples(absent_classes_in_gt=True))
    # the three classes are NaN, so mIoU already averages over the 16 classes
    assert results['mIoU16'] == results['mIoU'] == round(100 * (2 / 17 + 15 * 0.5) / 16, 2)
    # the reference's conversion still scales by 19/16, so it over-states this case
    assert results['mIoU19x19/16'] == round(100 * (2 / 17 + 15 * 0.5) / 16 * 19 / 16, 2) > results['mIoU16']


def test_configuration_errors():
    with pytest.raises(ValueError, match='mIoU'):
        IoUMetric(iou_metrics=['mDice'], with_miou16=True)
    with pytest.raises(KeyError):
        IoUMetric(iou_metrics=['mAP'])
    with pytest.raises(ValueError, match='num_classes'):
        IoUMetric().process({}, [_dict_sample(PRED_A, GT_A)])
    with pytest.raises(ValueError, match='differ in size'):
        IoUMetric(num_classes=3).process({}, [_dict_sample(PRED_A, GT_B)])
    metric = IoUMetric(num_classes=3, with_miou16=True)
    metric.process({}, [_dict_sample(PRED_A, GT_A)])
    with pytest.raises(ValueError, match='19'):
        metric.compute_metrics(metric.results)


def test_registered_and_built_from_config():
    metric = METRICS.build(dict(type='IoUMetric', iou_metrics=['mIoU'], with_miou16=True))
    assert isinstance(metric, IoUMetric) and metric.with_miou16
