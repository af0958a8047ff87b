"""tools/make_depth_maps.py: Depth Anything V2 maps in the CDDA layouts, batched and resumable."""
import importlib.util
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from mmseg.datasets import CityscapesDataset
from tests.test_datasets import make_cityscapes, make_gta

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
from tools.make_depth_maps import HFDepthEstimator, depth_jobs, detect_layout, main, write_depth_maps  # noqa: E402


def brightness(images):
    """A stand-in estimator: the grey value at a quarter of the resolution (any monotone map would do)."""
    batch = torch.from_numpy(np.stack(images)).float().mean(-1)
    return torch.nn.functional.avg_pool2d(batch[:, None], 4)[:, 0]


def test_writes_8bit_maps_in_the_cdda_layouts_batched_and_resumes(tmp_path):
    make_cityscapes(tmp_path / 'cs', dict(train=['a_000000_000001', 'a_000000_000002'], val=['b_000000_000001']),
                    size=(32, 64))
    make_gta(tmp_path / 'gta', ['00001', '00002', '00003'], size=(40, 48))
    assert detect_layout(str(tmp_path / 'cs')) == 'cityscapes' and detect_layout(str(tmp_path / 'gta')) == 'gta'
    jobs = depth_jobs(str(tmp_path / 'cs'), 'cityscapes')
    assert [Path(d).relative_to(tmp_path / 'cs').as_posix() for _, d in jobs] == [
        'depth_any/train/a_000000_000001_depth.png', 'depth_any/train/a_000000_000002_depth.png',
        'depth_any/val/b_000000_000001_depth.png']
    calls = []
    assert write_depth_maps(jobs, lambda images: calls.append(len(images)) or brightness(images), batch_size=2) == 3
    assert calls == [2, 1]
    depth = cv2.imread(str(tmp_path / 'cs' / 'depth_any/train/a_000000_000001_depth.png'), cv2.IMREAD_UNCHANGED)
    assert depth.dtype == np.uint8 and depth.shape == (32, 64) and depth.min() == 0 and depth.max() == 255
    image = cv2.imread(str(tmp_path / 'cs' / 'leftImg8bit/train/a_000000_000001_leftImg8bit.png')).mean(-1)
    assert np.corrcoef(cv2.resize(cv2.resize(image, (16, 8), interpolation=cv2.INTER_AREA), (64, 32)).ravel(),
                       depth.ravel().astype(float))[0, 1] > 0.9  # the estimate, resized to the image
    (tmp_path / 'cs' / 'depth_any/val/b_000000_000001_depth.png').unlink()
    assert len(depth_jobs(str(tmp_path / 'cs'), 'cityscapes')) == 1  # finished maps are kept
    dataset = CityscapesDataset(data_root=str(tmp_path / 'cs'), pipeline=[dict(type='LoadImageFromFile')],
                                data_prefix=dict(img_path='leftImg8bit/train', depth_path='depth_any/train'))
    assert dataset[0]['gt_depth_map'].shape == (32, 64)
    with pytest.raises(FileNotFoundError, match='expected exactly one image folder'):
        detect_layout(str(tmp_path))


@pytest.mark.skipif(importlib.util.find_spec('transformers') is None,
                    reason='Hugging Face transformers is an optional extra (pip install -e .[depth]); CI does not '
                           'install it')
def test_tiny_random_depth_anything_v2_from_a_config(tmp_path, monkeypatch):
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config, DPTImageProcessor
    backbone = Dinov2Config(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64,
                            image_size=56, patch_size=14, out_features=['stage1', 'stage2', 'stage3', 'stage4'],
                            reshape_hidden_states=False)
    torch.manual_seed(0)
    model = DepthAnythingForDepthEstimation(DepthAnythingConfig(
        backbone_config=backbone, fusion_hidden_size=16, neck_hidden_sizes=[8, 16, 32, 32], head_hidden_size=8,
        reassemble_hidden_size=32, depth_estimation_type='relative'))
    processor = DPTImageProcessor(size={'height': 56, 'width': 56}, keep_aspect_ratio=True, ensure_multiple_of=14)
    make_gta(tmp_path / 'gta', ['00001', '00002'], size=(40, 48))
    monkeypatch.setattr(HFDepthEstimator, 'from_pretrained',
                        classmethod(lambda cls, name, device='cpu': cls(model, processor, device)))
    main([str(tmp_path / 'gta'), '--model', 'tiny-random', '--batch-size', '2', '--device', 'cpu'])
    for name in ('00001.png', '00002.png'):
        depth = cv2.imread(str(tmp_path / 'gta' / 'depth_any' / name), cv2.IMREAD_UNCHANGED)
        assert depth.shape == (40, 48) and depth.dtype == np.uint8 and depth.max() == 255 and depth.min() == 0
