"""Tiny DDB models, batches and checkpoints shared by the tests of ST, CKD, their DDP and the pipeline."""
import copy
import random
from pathlib import Path
from typing import Dict, Optional

import numpy as np
import torch
from mmengine.structures import PixelData

from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

BN = dict(type='BN', requires_grad=True)
GN = dict(type='GN', num_groups=4, requires_grad=True)


def tiny_model(norm_cfg: dict = BN, channels: int = 8, dropout_ratio: float = 0.1) -> dict:
    """UDAEncoderDecoder: ResNetV1c-18 of width 8 (output stride 8) and a DLV2AdapterHead of ``channels``."""
    return dict(
        type='UDAEncoderDecoder',
        backbone=dict(type='ResNetV1c', depth=18, stem_channels=8, base_channels=8, dilations=(1, 1, 2, 4),
                      strides=(1, 2, 1, 1), contract_dilation=True, norm_cfg=norm_cfg),
        decode_head=dict(type='DLV2AdapterHead', in_channels=64, channels=channels, dilations=(6, 12),
                         dropout_ratio=dropout_ratio, num_classes=19, norm_cfg=norm_cfg, align_corners=False),
        test_cfg=dict(mode='whole'))


def seed_all(seed: int = 0) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def bridging_batch(seed: int = 0, size: int = 32, batch: int = 2) -> dict:
    """A DomainBridgingDataset batch as the data loader gives it: uint8 source / target images, source labels,
    float bridged images and cut-like masks (the left half from the source)."""
    g = torch.Generator().manual_seed(seed)

    def sample(with_label: bool) -> SegDataSample:
        data_sample = SegDataSample(metainfo=dict(ori_shape=(size, size), flip=False))
        if with_label:
            data_sample.gt_sem_seg = PixelData(data=torch.randint(0, 19, (1, size, size), generator=g))
        return data_sample

    def images():
        return [torch.randint(0, 256, (3, size, size), generator=g, dtype=torch.uint8) for _ in range(batch)]
    mask = torch.zeros((1, size, size), dtype=torch.int64)
    mask[..., :size // 2] = 1
    return dict(inputs=images(), data_samples=[sample(True) for _ in range(batch)], target_inputs=images(),
                target_data_samples=[sample(False) for _ in range(batch)],
                bridging_inputs=[img.float() for img in images()], bridging_mask=[mask.clone() for _ in range(batch)])


def part(batch: dict, index: slice) -> dict:
    """The samples ``index`` of a batch."""
    return {key: values[index] for key, values in batch.items()}


def save_checkpoint(path: Path, prefixes: Dict[str, dict]) -> Path:
    """A training checkpoint (``state_dict``) holding each state dict under its prefix (``'model.'``, ...)."""
    state = {f'{prefix}{key}': value for prefix, weights in prefixes.items() for key, value in weights.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(dict(state_dict=state, meta=dict(iter=1)), path)
    return path


def random_state(model_cfg: dict, seed: int) -> dict:
    """The state dict of a freshly built model of ``model_cfg`` (seeded)."""
    seed_all(seed)
    return MODELS.build(copy.deepcopy(model_cfg)).state_dict()


def st_checkpoint(path: Path, model_cfg: dict, student_seed: int = 1, teacher_seed: int = 2) -> Path:
    """An ST checkpoint whose student (``model.*``) and EMA teacher (``ema_model.*``) differ."""
    return save_checkpoint(path, {'model.': random_state(model_cfg, student_seed),
                                  'ema_model.': random_state(model_cfg, teacher_seed)})


def prototypes_file(path: Path, channels: int, seed: int = 0, num_classes: int = 19) -> Path:
    """A [num_classes, channels] prototype tensor."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(torch.randn(num_classes, channels, generator=torch.Generator().manual_seed(seed)), path)
    return path


def ckd_config(tmp_path: Path, model_cfg: dict, proto_rectify: bool = True, channels: Optional[int] = None,
               **overrides) -> dict:
    """A CKD wrapper config with ST checkpoints (and prototypes) of ``model_cfg`` written below ``tmp_path``."""
    channels = channels or model_cfg['decode_head']['channels']
    cfg = dict(type='CKD', model=model_cfg, max_iters=10, proto_rectify=proto_rectify,
               cu_model_load_from=str(st_checkpoint(tmp_path / 'cu.pth', model_cfg, 1, 2)),
               ca_model_load_from=str(st_checkpoint(tmp_path / 'ca.pth', model_cfg, 3, 4)))
    if proto_rectify:
        cfg.update(cu_proto_path=str(prototypes_file(tmp_path / 'cu_proto.pth', channels, 0)),
                   ca_proto_path=str(prototypes_file(tmp_path / 'ca_proto.pth', channels, 1)))
    cfg.update(overrides)
    return cfg


def tiny_synthetic_pair(tmp_path_factory) -> Path:
    """The embedded synthetic pair at its smallest (4 source, 4 target-train, 2 val images, with the Synscapes and
    Mapillary styles), made once per test session."""
    from tools import make_synthetic_data
    data = tmp_path_factory.getbasetemp() / 'ddb' / 'data' / 'synthetic'  # configs read data/synthetic below 'ddb'
    if not (data / 'generator.json').is_file():
        make_synthetic_data.main(['--out-dir', str(data), '--num', '4', '--num-target-train', '4', '--num-val', '2'])
    return data
