"""Reading pretrained weights and loading them with clear reports and errors."""
import logging
from pathlib import Path
from typing import Dict, Iterable, List, NamedTuple, Optional, Tuple, Union

import torch
from mmengine.logging import print_log
from torch import nn

from mmseg.utils.safe_checkpoint_load import load_checkpoint_file

MIT_WEIGHTS_HELP = (
    'The MiT ImageNet-1k weights (mit_b0.pth ... mit_b5.pth) are released by the SegFormer authors '
    '(https://github.com/NVlabs/SegFormer, "ImageNet-1K pretrained weights" in its README). Download '
    'the file you need, put it at {path} (the configs expect pretrained/mit_b5.pth), and check it with '
    '`python tools/check_pretrained.py {path}`. The weights carry their authors\' licence.')


class LoadReport(NamedTuple):
    """What a non-strict load did: keys absent from the file, and file keys that were not used."""
    missing: List[str]
    unexpected: List[str]


def read_state_dict(path: Union[str, Path], help_text: str = MIT_WEIGHTS_HELP) -> Dict[str, torch.Tensor]:
    """Read a checkpoint on CPU and return its state dict (``state_dict``, else ``model``, else the object)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f'Pretrained weights not found: {path}. ' + help_text.format(path=path))
    checkpoint = load_checkpoint_file(path)  # weights_only; errors name the file
    if not isinstance(checkpoint, dict):
        raise ValueError(f'{path}: expected a dict of tensors (a state dict), got {type(checkpoint).__name__}')
    for key in ('state_dict', 'model'):
        if key in checkpoint:
            return checkpoint[key]
    return checkpoint


def check_shapes(module: nn.Module, state_dict: Dict[str, torch.Tensor], source: str) -> None:
    """Raise if a tensor of ``state_dict`` exists in ``module`` with another shape."""
    own = module.state_dict()
    wrong = [(k, tuple(v.shape), tuple(own[k].shape)) for k, v in state_dict.items()
             if k in own and tuple(v.shape) != tuple(own[k].shape)]
    if wrong:
        lines = '\n'.join(f'  {k}: {got} in the file, {expected} expected' for k, got, expected in wrong[:10])
        more = f'\n  ... and {len(wrong) - 10} more' if len(wrong) > 10 else ''
        raise ValueError(f'{source}: {len(wrong)} tensor(s) have the wrong shape for '
                         f'{type(module).__name__}:\n{lines}{more}')


def load_state_dict_checked(module: nn.Module,
                            state_dict: Dict[str, torch.Tensor],
                            source: str,
                            ignore_prefixes: Iterable[str] = ()) -> LoadReport:
    """Load non-strictly after a shape check; log and return missing / unexpected keys.

    Keys starting with one of ``ignore_prefixes`` (e.g. the ImageNet classifier ``head.``) are
    dropped silently.
    """
    ignore_prefixes = tuple(ignore_prefixes)
    state_dict = {k: v for k, v in state_dict.items() if not (ignore_prefixes and k.startswith(ignore_prefixes))}
    check_shapes(module, state_dict, source)
    result = module.load_state_dict(state_dict, strict=False)
    report = LoadReport(list(result.missing_keys), list(result.unexpected_keys))
    if report.missing:
        print_log(f'{source}: {len(report.missing)} missing key(s) in the file, e.g. {report.missing[:5]}',
                  logger='current', level=logging.WARNING)
    if report.unexpected:
        print_log(f'{source}: {len(report.unexpected)} unexpected key(s) ignored, e.g. {report.unexpected[:5]}',
                  logger='current', level=logging.WARNING)
    return report


OPEN_MMLAB_PREFIX = 'open-mmlab://'
# ImageNet weights of the CNN backbones, as mmcv 1.x's open-mmlab.json lists them (the reference's
# `pretrained='open-mmlab://<name>'`).
OPEN_MMLAB_URLS = {
    'resnet50_v1c': 'https://download.openmmlab.com/pretrain/third_party/resnet50_v1c-2cccc1ad.pth',
    'resnet101_v1c': 'https://download.openmmlab.com/pretrain/third_party/resnet101_v1c-e67eebb6.pth',
    'resnest50': 'https://download.openmmlab.com/pretrain/third_party/resnest50_d2-7497a55b.pth',
    'resnest101': 'https://download.openmmlab.com/pretrain/third_party/resnest101_d2-f3b931b2.pth',
    'resnest200': 'https://download.openmmlab.com/pretrain/third_party/resnest200_d2-ca88e41f.pth',
}
# The backbone each of these files holds (its keys and shapes; strides and dilations do not change them).
OPEN_MMLAB_BACKBONES = {
    'resnet50_v1c': dict(type='ResNetV1c', depth=50),
    'resnet101_v1c': dict(type='ResNetV1c', depth=101),
    'resnest50': dict(type='ResNeSt', depth=50, stem_channels=64),
    'resnest101': dict(type='ResNeSt', depth=101, stem_channels=128),
    'resnest200': dict(type='ResNeSt', depth=200, stem_channels=128),
}
PRETRAINED_DIR = Path('pretrained')
# Keys of the ImageNet classifiers, not part of the backbones.
CLASSIFIER_PREFIXES = ('fc.', 'head.')
# Prefixes of wrapped checkpoints (DataParallel, a classifier's backbone) that are stripped before loading.
WRAPPER_PREFIXES = ('module.', 'backbone.')


def open_mmlab_help(name: str) -> str:
    """Where to get the weights of ``open-mmlab://<name>`` (``{path}`` is filled in by :func:`read_state_dict`)."""
    url = OPEN_MMLAB_URLS[name]
    return (f"open-mmlab's ImageNet weights open-mmlab://{name} (mmcv 1.x model zoo) are at {url} . Download "
            f'the file into pretrained/ (`wget -P pretrained {url}`), keep its name, and check it with '
            '`python tools/check_pretrained.py {path}`.')


def open_mmlab_name(path: Union[str, Path]) -> Optional[str]:
    """The open-mmlab model a file is named after (``resnet101_v1c-e67eebb6.pth`` -> ``resnet101_v1c``), or None."""
    stem = Path(path).name
    names = [name for name in OPEN_MMLAB_URLS if stem == Path(OPEN_MMLAB_URLS[name]).name or stem.startswith(name)]
    return max(names, key=len) if names else None


def resolve_pretrained(pretrained: Union[str, Path]) -> Tuple[Path, str]:
    """The file of ``pretrained`` and the help text for when it is missing.

    ``open-mmlab://<name>`` is ``pretrained/<download name>`` (e.g. ``pretrained/resnet101_v1c-e67eebb6.pth``), or
    ``pretrained/<name>.pth``; anything else is a path.
    """
    pretrained = str(pretrained)
    if not pretrained.startswith(OPEN_MMLAB_PREFIX):
        name = open_mmlab_name(pretrained)
        return Path(pretrained), open_mmlab_help(name) if name else 'Check the path of `pretrained` in the config.'
    name = pretrained[len(OPEN_MMLAB_PREFIX):]
    if name not in OPEN_MMLAB_URLS:
        raise ValueError(f'pretrained={pretrained!r}: unknown open-mmlab weights; known are '
                         f'{", ".join(OPEN_MMLAB_PREFIX + n for n in OPEN_MMLAB_URLS)}, or give a file path')
    candidates = [PRETRAINED_DIR / Path(OPEN_MMLAB_URLS[name]).name, PRETRAINED_DIR / f'{name}.pth']
    path = next((candidate for candidate in candidates if candidate.is_file()), candidates[0])
    return path, open_mmlab_help(name)


def strip_wrapper_prefix(state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Drop a ``module.`` / ``backbone.`` prefix that every ResNet key of the file carries."""
    for prefix in WRAPPER_PREFIXES:
        if any(k.startswith(prefix + 'layer1.') for k in state_dict):
            return {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
    return state_dict


class ResNetLayout(NamedTuple):
    """What a ResNet state dict is: stem, blocks per stage, bottleneck or basic blocks, split attention."""
    deep_stem: bool
    stage_blocks: Tuple[int, ...]
    bottleneck: bool
    split_attention: bool


def resnet_layout(state_dict: Dict[str, torch.Tensor]) -> ResNetLayout:
    """Read the layout of a ResNet / ResNeSt state dict from its key names."""
    blocks = []
    for stage in range(1, 5):
        indices = {k.split('.')[1] for k in state_dict if k.startswith(f'layer{stage}.')}
        if not indices:
            break
        blocks.append(len(indices))
    return ResNetLayout(deep_stem='stem.0.weight' in state_dict, stage_blocks=tuple(blocks),
                        bottleneck='layer1.0.conv3.weight' in state_dict,
                        split_attention=any('.conv2.fc1.' in k for k in state_dict))


def describe_depth(model: nn.Module, layout: ResNetLayout) -> str:
    """``'ResNet-50 (blocks per stage 3, 4, 6, 3)'`` from the model class's ``arch_settings``."""
    depths = [depth for depth, (block, blocks) in type(model).arch_settings.items()
              if tuple(blocks[:len(layout.stage_blocks)]) == layout.stage_blocks
              and (block.expansion == 4) == layout.bottleneck]
    blocks = ', '.join(map(str, layout.stage_blocks))
    return f'depth {depths[0]} (blocks per stage {blocks})' if depths else f'blocks per stage {blocks}'


def check_resnet_layout(model: nn.Module, state_dict: Dict[str, torch.Tensor], source: str) -> None:
    """Raise, naming the mismatch, if ``state_dict`` is not a ResNet of the model's kind and depth."""
    name = f'{type(model).__name__}-{model.depth}'
    layout = resnet_layout(state_dict)
    if not layout.stage_blocks:
        raise ValueError(f'{source} is not a ResNet checkpoint: it has no layer1.* keys (first keys: '
                         f'{list(state_dict)[:5]})')
    model_split = hasattr(model, 'radix')
    if layout.split_attention != model_split:
        kinds = ('a ResNeSt checkpoint (split-attention convs layerN.i.conv2.conv/fc1/fc2)',
                 'a ResNet checkpoint (plain 3x3 convs layerN.i.conv2)')
        raise ValueError(f'{source} is {kinds[0] if layout.split_attention else kinds[1]}, but the model is '
                         f'{name}; use the weights of its kind (open-mmlab://resnest101, open-mmlab://resnet101_v1c, '
                         '...)')
    if model.deep_stem and not layout.deep_stem and 'conv1.weight' in state_dict:
        shape = tuple(state_dict['conv1.weight'].shape)
        raise ValueError(
            f'{source} has the key names of a torchvision ResNet (a single {shape[-2]}x{shape[-1]} stem conv '
            f'conv1.weight {shape}, bn1.*, fc.*), but {name} has the deep stem of three 3x3 convs '
            f'(stem.0/1/3/4/6/7). That stem cannot be converted from these weights; the stages can be used as they '
            f"are. Either build the plain-stem backbone (type='ResNet', depth={model.depth}), whose key names are "
            "torchvision's (conv1, bn1, layerN.i.conv1-3/bn1-3, layerN.0.downsample.0/1), so the file loads "
            f'without conversion, or download the ResNetV1c weights: '
            f'{OPEN_MMLAB_URLS.get(f"resnet{model.depth}_v1c", OPEN_MMLAB_URLS["resnet101_v1c"])}')
    if layout.deep_stem and not model.deep_stem:
        raise ValueError(f'{source} is a deep-stem checkpoint (stem.0/1/3/4/6/7), but {name} has a 7x7 stem '
                         "(conv1, bn1); build type='ResNetV1c' for it")
    own = ResNetLayout(model.deep_stem, tuple(model.stage_blocks), model.block.expansion == 4, model_split)
    if (layout.stage_blocks, layout.bottleneck) != (own.stage_blocks, own.bottleneck):
        raise ValueError(f'{source} is a {type(model).__name__} of {describe_depth(model, layout)}, but the model '
                         f'is {name} ({describe_depth(model, own)}): set backbone.depth to match the file, or use '
                         f'the weights of depth {model.depth}')


def verify_resnet_state_dict(model: nn.Module, state_dict: Dict[str, torch.Tensor], source: str) -> LoadReport:
    """Raise, naming the problem, unless ``state_dict`` holds every tensor of the ResNet / ResNeSt ``model`` with
    its shape (kind, depth and stem first); returns the file's keys that the model does not use (besides the
    ImageNet classifier)."""
    check_resnet_layout(model, state_dict, source)
    state_dict = {k: v for k, v in state_dict.items() if not k.startswith(CLASSIFIER_PREFIXES)}
    check_shapes(model, state_dict, source)
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    if missing:
        raise ValueError(f'{source}: {len(missing)} tensor(s) of {type(model).__name__}-{model.depth} are not in '
                         f'the file, e.g. {missing[:5]}')
    return LoadReport(missing=[], unexpected=[k for k in state_dict if k not in own])


def load_resnet_weights(model: nn.Module, pretrained: Union[str, Path]) -> LoadReport:
    """Load ImageNet weights (``open-mmlab://<name>`` or a path) into a ResNet / ResNeSt backbone.

    Key names are open-mmlab's, loaded as they are; the ImageNet classifier ``fc.*`` is ignored. A missing file,
    a checkpoint of another depth or kind, torchvision names on a deep-stem model, wrong shapes or missing keys
    raise an error that names the problem (:func:`verify_resnet_state_dict`).
    """
    path, help_text = resolve_pretrained(pretrained)
    state_dict = strip_wrapper_prefix(read_state_dict(path, help_text))
    verify_resnet_state_dict(model, state_dict, str(path))
    return load_state_dict_checked(model, state_dict, str(path), ignore_prefixes=CLASSIFIER_PREFIXES)
