"""Translate a config dumped by the original DAFormer / HRDA / MIC (mmcv 1.x schema, JSON) for testing.

A released run directory holds the merged config as ``<run>.json``. Testing needs only the model
and the test data, so these keys are read (everything else, e.g. ``uda``, ``optimizer``,
``data.train``, is ignored):

- ``model``: the segmentor, with the reference's ``update_legacy_cfg`` renames (``UniHead`` →
  ``DAFormerHead`` dropping ``decoder_params.fusion_cfg.fusion``, ``MultiResEncoderDecoder`` →
  ``HRDAEncoderDecoder``, ``MultiResAttentionWrapper`` → ``HRDAHead``, no
  ``backbone.ema_drop_path_rate``) and ``pretrained=None`` (weights come from the checkpoint);
- ``img_norm_cfg`` (``mean``, ``std``, ``to_rgb``): the model's ``SegDataPreProcessor``;
- ``data.test``: ``type``, ``data_root``, ``img_dir``, ``ann_dir``, ``split``, ``img_suffix``,
  ``seg_map_suffix`` and the ``MultiScaleFlipAug`` ``img_scale`` of its pipeline (a keep-ratio
  resize; ``flip=True`` test-time augmentation is not supported);
- ``crop_size`` (for ``--inference-mode slide``) and ``data.train.source.type`` (a Synthia source
  adds the 16-class mIoU line).
"""
import copy
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from mmengine.config import Config

from mmseg.models.data_preprocessor import IMAGENET_MEAN, IMAGENET_STD

LEGACY_TYPE_NAMES = {
    'UniHead': 'DAFormerHead',
    'MultiResEncoderDecoder': 'HRDAEncoderDecoder',
    'MultiResAttentionWrapper': 'HRDAHead',
}
# data.test keys of the mmseg 0.16 CustomDataset that map onto ours
DATASET_KEYS = dict(data_root='data_root', split='ann_file', img_suffix='img_suffix', seg_map_suffix='seg_map_suffix')


def is_legacy_config(path: Union[str, Path]) -> bool:
    """Whether ``path`` is a config dumped by the original code (JSON with ``data.test``)."""
    return Path(path).suffix == '.json'


def update_legacy_model(model: Dict[str, Any]) -> Dict[str, Any]:
    """The reference's ``update_legacy_cfg`` on a model dict (renames, dropped keys), recursively."""
    model = copy.deepcopy(model)

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get('type') in LEGACY_TYPE_NAMES:
                if node['type'] == 'UniHead':
                    node.get('decoder_params', {}).get('fusion_cfg', {}).pop('fusion', None)
                node['type'] = LEGACY_TYPE_NAMES[node['type']]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(model)
    if isinstance(model.get('backbone'), dict):
        model['backbone'].pop('ema_drop_path_rate', None)
    model['pretrained'] = None
    return model


def _test_img_scale(pipeline: List[dict], source: str) -> Optional[tuple]:
    """The keep-ratio ``img_scale`` of the test pipeline's ``MultiScaleFlipAug`` (None: no resize)."""
    for step in pipeline:
        if step.get('type') != 'MultiScaleFlipAug':
            continue
        if step.get('flip', False) or step.get('img_ratios'):
            raise ValueError(f'{source}: data.test MultiScaleFlipAug with flip/img_ratios (test-time augmentation) '
                             'is not supported')
        resizes = [t for t in step.get('transforms', []) if t.get('type') == 'Resize']
        if resizes and not resizes[0].get('keep_ratio', True):
            raise ValueError(f'{source}: data.test Resize with keep_ratio=False is not supported')
        scale = step.get('img_scale')
        return tuple(scale) if scale is not None and resizes else None
    return None


def legacy_test_dataset(data_test: Dict[str, Any], source: str) -> Dict[str, Any]:
    """Our data-set config (type, folders, pipeline with labels) from a legacy ``data.test`` dict."""
    for key in ('type', 'img_dir'):
        if key not in data_test:
            raise KeyError(f'{source}: data.test has no {key!r}; expected an mmseg 0.16 data set config')
    dataset = dict(type=data_test['type'])
    dataset.update({ours: data_test[theirs] for theirs, ours in DATASET_KEYS.items() if data_test.get(theirs)})
    dataset['data_prefix'] = dict(img_path=data_test['img_dir'])
    if data_test.get('ann_dir'):
        dataset['data_prefix']['seg_map_path'] = data_test['ann_dir']
    pipeline = [dict(type='LoadImageFromFile')]
    scale = _test_img_scale(data_test.get('pipeline', []), source)
    if scale is not None:
        pipeline.append(dict(type='Resize', scale=scale, keep_ratio=True))
    if 'seg_map_path' in dataset['data_prefix']:
        pipeline.append(dict(type='LoadAnnotations'))
    pipeline.append(dict(type='PackSegInputs'))
    dataset['pipeline'] = pipeline
    return dataset


def load_legacy_config(path: Union[str, Path]) -> Config:
    """A test-ready config (``model``, ``test_dataloader``, ``test_evaluator``) from a legacy JSON config."""
    path = Path(path)
    try:
        legacy = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f'{path}: not a valid JSON config ({error})') from error
    if not isinstance(legacy.get('model'), dict):
        raise KeyError(f'{path}: no "model" dict; expected a config dumped by the original DAFormer/HRDA/MIC')
    data_test = legacy.get('data', {}).get('test')
    if not isinstance(data_test, dict):
        raise KeyError(f'{path}: no "data.test" dict; expected a config dumped by the original DAFormer/HRDA/MIC')
    model = update_legacy_model(legacy['model'])
    norm = legacy.get('img_norm_cfg', {})
    model['data_preprocessor'] = dict(type='SegDataPreProcessor', mean=list(norm.get('mean', IMAGENET_MEAN)),
                                      std=list(norm.get('std', IMAGENET_STD)), bgr_to_rgb=norm.get('to_rgb', True),
                                      pad_val=0, seg_pad_val=255)
    source_type = legacy.get('data', {}).get('train', {}).get('source', {}).get('type')
    cfg = dict(
        default_scope='mmseg',
        model=model,
        test_dataloader=dict(batch_size=1, num_workers=legacy.get('data', {}).get('workers_per_gpu', 2),
                             sampler=dict(type='DefaultSampler', shuffle=False),
                             dataset=legacy_test_dataset(data_test, str(path))),
        test_evaluator=dict(type='IoUMetric', with_miou16=source_type == 'SynthiaDataset'),
        legacy_config=str(path),
    )
    for key in ('crop_size', 'name', 'exp', 'seed'):
        if key in legacy:
            cfg[key] = tuple(legacy[key]) if key == 'crop_size' else legacy[key]
    return Config(cfg, filename=str(path))
