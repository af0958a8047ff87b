"""MultiTargetDataset (training union / balanced, per-target validation), MultiTargetIoUMetric and the per-target
output of tools/test.py and test.sh, on tiny Foggy / Rain Cityscapes trees."""
import copy
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from PIL import Image

from mmseg.apis import inference_model, init_model
from mmseg.apis.train_config import runner_config
from mmseg.datasets import CityscapesDataset, MultiTargetDataset, UDADataset
from mmseg.evaluation import IoUMetric, MultiTargetIoUMetric
from mmseg.evaluation.iou_metric import mean_iou
from mmseg.registry import DATASETS, MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import register_all_modules
from tests.test_dacs import DACS_CFG, TINY_MODEL
from tests.test_foggy_rain import TEST_PIPELINE, make_weather_cityscapes
from tests.test_test_tool import run_test_sh

TRAIN_PIPELINE = [dict(type='LoadImageFromFile'), dict(type='RandomCrop', crop_size=(32, 32)),
                  dict(type='PackSegInputs')]


@pytest.fixture(scope='module', autouse=True)
def mmseg_scope():
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmseg'):
        yield


@pytest.fixture(scope='module')
def root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp('cityscapes')
    make_weather_cityscapes(root)
    return root


def targets_cfg(root: Path, split: str, labels: bool) -> dict:
    """Foggy (β 0.02: one image per frame) and Rain (four renderings per frame) of ``split``."""
    def prefix(folder: str) -> dict:
        return dict(img_path=f'{folder}/{split}', **(dict(seg_map_path=f'gtFine/{split}') if labels else {}))
    return dict(foggy=dict(type='FoggyCityscapesDataset', data_root=str(root), data_prefix=prefix('leftImg8bit_foggy'),
                           sort_files=True),
                rain=dict(type='RainCityscapesDataset', data_root=str(root), data_prefix=prefix('leftImg8bit_rain'),
                          sort_files=True))


def multi(root: Path, split: str = 'train', sampling: str = 'union', labels: bool = False) -> MultiTargetDataset:
    pipeline = TEST_PIPELINE if labels else TRAIN_PIPELINE
    return DATASETS.build(dict(type='MultiTargetDataset', targets=targets_cfg(root, split, labels), sampling=sampling,
                               pipeline=pipeline))


def test_union_indexes_every_image_once_in_target_order(root):
    dataset = multi(root)
    assert dataset.target_lengths() == dict(foggy=2, rain=8) and len(dataset) == 10
    located = [dataset.locate(i) for i in range(len(dataset))]
    assert located == [('foggy', 0), ('foggy', 1)] + [('rain', j) for j in range(8)]
    assert dataset.metainfo['target_names'] == ['foggy', 'rain']
    assert list(dataset.metainfo['classes']) == list(CityscapesDataset.METAINFO['classes'])
    with pytest.raises(IndexError, match='index 10 out of range 0..9'):
        dataset.locate(10)


def test_balanced_draws_each_target_equally_and_spreads_its_images(root):
    dataset = multi(root, sampling='balanced')
    assert len(dataset) == 2 * 8
    located = [dataset.locate(i) for i in range(len(dataset))]
    assert Counter(name for name, _ in located) == dict(foggy=8, rain=8)
    assert Counter(j for name, j in located if name == 'foggy') == {0: 4, 1: 4}
    assert sorted(j for name, j in located if name == 'rain') == list(range(8))


def test_samples_carry_their_target_name_through_the_shared_pipeline(root):
    dataset = multi(root)
    for i, (name, j) in enumerate(dataset.locate(i) for i in range(len(dataset))):
        sample = dataset[i]
        assert sample['data_samples'].metainfo['target_name'] == name
        assert sample['data_samples'].metainfo['img_path'] == dataset.datasets[name].get_data_info(j)['img_path']
        assert tuple(sample['inputs'].shape) == (3, 32, 32)  # the shared pipeline's crop
        assert 'gt_sem_seg' not in sample['data_samples']


def test_uda_dataset_pairs_source_samples_with_multi_target_samples(root):
    source = dict(type='CityscapesDataset', data_root=str(root),
                  data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'), pipeline=TEST_PIPELINE)
    target = dict(type='MultiTargetDataset', targets=targets_cfg(root, 'train', labels=False), pipeline=TRAIN_PIPELINE)
    pairs = UDADataset(source=source, target=target)
    assert len(pairs) == 2 * 10
    names = [pairs[i]['target_data_samples'].metainfo['target_name'] for i in range(10)]
    assert names == ['foggy'] * 2 + ['rain'] * 8
    assert 'gt_sem_seg' in pairs[0]['data_samples']


def test_bad_multi_target_configs_are_errors(root):
    targets = targets_cfg(root, 'train', labels=False)
    with pytest.raises(ValueError, match='targets must be a non-empty dict'):
        MultiTargetDataset(targets={})
    with pytest.raises(ValueError, match=r"target names \['foggy/0.02'\] are not made of"):
        MultiTargetDataset(targets={'foggy/0.02': targets['foggy']})
    with pytest.raises(ValueError, match=r"sampling='uniform'; expected one of \('union', 'balanced'\)"):
        MultiTargetDataset(targets=targets, sampling='uniform')
    other = dict(targets['rain'], metainfo=dict(classes=tuple(f'c{i}' for i in range(19))))
    with pytest.raises(ValueError, match="targets 'foggy' and 'rain' have other classes"):
        MultiTargetDataset(targets=dict(foggy=targets['foggy'], rain=other), pipeline=TRAIN_PIPELINE)
    built = DATASETS.build(dict(targets['rain'], pipeline=TRAIN_PIPELINE))
    with pytest.raises(ValueError, match="target 'rain' is a built data set; the shared pipeline"):
        MultiTargetDataset(targets=dict(rain=built), pipeline=TRAIN_PIPELINE)


def prediction(label: np.ndarray, seed: int) -> np.ndarray:
    """The label with a quarter of the pixels replaced by random classes."""
    rng = np.random.RandomState(seed)
    noisy = label.copy()
    change = rng.rand(*label.shape) < 0.25
    noisy[change] = rng.randint(0, 19, change.sum())
    return noisy


def test_metric_scores_each_target_like_iou_metric_and_reports_their_mean(root):
    dataset = multi(root, split='train', labels=True)
    evaluator = Evaluator(dict(type='MultiTargetIoUMetric'))  # passes the samples as dicts, as in validation
    evaluator.dataset_meta = dataset.metainfo
    per_target = {name: IoUMetric() for name in dataset.names}
    for metric in per_target.values():
        metric.dataset_meta = dataset.metainfo
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        label = sample.gt_sem_seg.data[0].numpy()
        sample.pred_sem_seg = sample.gt_sem_seg.__class__(data=torch.from_numpy(prediction(label, i))[None])
        evaluator.process([sample])
        per_target[sample.metainfo['target_name']].process(None, [sample])
    metrics = evaluator.evaluate(len(dataset))
    for name, metric in per_target.items():
        expected = metric.compute_metrics(metric.results)
        ours = {key[len(name) + 1:]: value for key, value in metrics.items() if key.startswith(f'{name}/')}
        assert list(ours) == list(expected)
        np.testing.assert_equal(ours, expected)  # NaN (class absent from predictions and labels) equals NaN
    for key in ('aAcc', 'mIoU', 'mAcc'):
        assert metrics[key] == pytest.approx((metrics[f'foggy/{key}'] + metrics[f'rain/{key}']) / 2, abs=0.0051)
    assert metrics['foggy/mIoU'] != metrics['rain/mIoU']
    assert not any(key.startswith('IoU.') for key in metrics)


def test_metric_errors_name_the_sample_or_the_targets():
    metric = MultiTargetIoUMetric()
    sample = SegDataSample(metainfo=dict(img_path='x/a.png'))
    with pytest.raises(KeyError, match=r"sample of 'x/a.png' has no 'target_name'.*must be a MultiTargetDataset"):
        metric.process(None, [sample])
    metric.dataset_meta = dict(classes=tuple('abc'), target_names=['foggy', 'rain'])
    areas = tuple(torch.ones(3, dtype=torch.float64) for _ in range(4))
    with pytest.raises(ValueError, match=r"results of targets \['foggy'\], but the data set has \['foggy', 'rain'\] "
                                         r"\(unknown: \[\], without results: \['rain'\]\)"):
        metric.compute_metrics([('foggy', areas)])


def multi_target_run_dir(tmp_path: Path, root: Path) -> Path:
    """A run directory whose test data set is Foggy + Rain val, scored by MultiTargetIoUMetric."""
    run = tmp_path / 'work_dirs' / 'local-basic' / '211121_1200_tiny_multi_abcde'
    run.mkdir(parents=True)
    uda = {k: v for k, v in copy.deepcopy(DACS_CFG).items() if k not in ('model', 'max_iters')}
    dataset = dict(type='MultiTargetDataset', targets=targets_cfg(root, 'val', labels=True), pipeline=TEST_PIPELINE)
    cfg = Config(dict(
        default_scope='mmseg', work_dir=str(run), model=copy.deepcopy(TINY_MODEL), uda=uda,
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=4),
        test_dataloader=dict(batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                             dataset=dataset),
        test_evaluator=dict(type='MultiTargetIoUMetric')))
    folded = runner_config(cfg)
    folded.dump(str(run / f'{run.name}.py'))
    torch.manual_seed(0)
    torch.save(dict(meta=dict(iter=4), state_dict=MODELS.build(folded.model).state_dict()), run / 'iter_4.pth')
    return run


def test_test_sh_reports_and_writes_each_target_and_their_mean(tmp_path, root):
    run = multi_target_run_dir(tmp_path, root)
    result = run_test_sh(run)
    output = result.stdout + result.stderr
    assert 'Target foggy (1 images):' in output and 'Target rain (4 images):' in output
    assert output.count('per class results') == 2 and 'Targets (the mean is over the targets)' in output
    record = json.loads((run / 'test_results.json').read_text())
    assert record['images'] == 5 and record['dataset'] == 'MultiTargetDataset'
    model = init_model(run / f'{run.name}.py', run / 'iter_4.pth')
    for name, target in record['targets'].items():
        folder = Path(target['img_dir'])
        images = sorted(folder.rglob(dict(foggy='*_beta_0.02.png', rain='*.png')[name]))
        assert target['images'] == len(images) == dict(foggy=1, rain=4)[name]
        predictions = [s.pred_sem_seg.data[0].numpy() for s in inference_model(model, [str(p) for p in images])]
        frame = 'lindau_000000_000019'
        label = np.array(Image.open(root / 'gtFine' / 'val' / 'lindau' / f'{frame}_gtFine_labelTrainIds.png'))
        expected = round(float(np.nanmean(mean_iou(predictions, [label] * len(images), 19, 255)['IoU'])) * 100, 2)
        assert target['metrics']['mIoU'] == record['metrics'][f'{name}/mIoU'] == expected
        assert f'Summary {name} ({len(images)} images): aAcc: ' in result.stdout
        for image, predicted in zip(images, predictions):
            written = run / 'preds' / name / image.relative_to(folder).with_name(image.stem + '_labelTrainIds.png')
            np.testing.assert_array_equal(np.array(Image.open(written)), predicted)
    mean = (record['metrics']['foggy/mIoU'] + record['metrics']['rain/mIoU']) / 2
    assert record['metrics']['mIoU'] == pytest.approx(mean, abs=0.0051)
    assert 'Summary (5 images, mean over the targets): aAcc: ' in result.stdout


def test_test_tool_refuses_a_multi_target_set_with_a_plain_metric(tmp_path, root):
    from tools import test as test_tool
    run = multi_target_run_dir(tmp_path, root)
    config = run / f'{run.name}.py'
    with pytest.raises(ValueError, match=r"MultiTargetDataset \(foggy, rain\) but the evaluator is IoUMetric"):
        test_tool.main([str(config), str(run / 'iter_4.pth'), '--eval', 'mIoU',
                        '--cfg-options', 'test_evaluator.type=IoUMetric'])


def test_validation_loop_of_the_runner_logs_each_target(tmp_path, root):
    loader = Runner.build_dataloader(dict(
        batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(type='MultiTargetDataset', targets=targets_cfg(root, 'val', labels=True),
                     pipeline=TEST_PIPELINE)))
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(TINY_MODEL)).eval()
    evaluator = Evaluator(dict(type='MultiTargetIoUMetric'))
    evaluator.dataset_meta = loader.dataset.metainfo
    with torch.no_grad():
        for batch in loader:
            evaluator.process(model.val_step(batch), batch)
    metrics = evaluator.evaluate(len(loader.dataset))
    assert {'mIoU', 'foggy/mIoU', 'rain/mIoU', 'foggy/IoU.road', 'rain/IoU.road'} <= set(metrics)
