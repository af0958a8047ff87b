"""DDB's model: the reference's initialisation quirk of DLV2AdapterHead, its loss name and feature output."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from mmseg.registry import MODELS
from tests.ddb_helpers import seed_all, tiny_model

REPO_ROOT = Path(__file__).resolve().parents[1]
HEAD = dict(type='DLV2AdapterHead', in_channels=64, channels=64, dilations=(6, 12), num_classes=19,
            norm_cfg=dict(type='BN', requires_grad=True), align_corners=False)


def test_the_released_init_cfg_draws_the_aspp_bn_gammas_and_leaves_conv_seg_at_pytorch_init():
    released = Config.fromfile(REPO_ROOT / 'configs/_base_/models/deeplabv2red_r101v1c-d8_adapter.py').model.decode_head
    seed_all(0)
    head = MODELS.build(dict(HEAD, init_cfg=released.init_cfg.to_dict()))
    head.init_weights()
    for branch in head.aspp_modules:
        assert branch.bn.weight.abs().max() < 0.05 and branch.bn.weight.std() < 0.02  # N(0, 0.01), not 1
        assert torch.equal(branch.bn.bias, torch.zeros_like(branch.bn.bias))
    assert torch.equal(head.bottleneck.bn.weight, torch.ones_like(head.bottleneck.bn.weight))  # ConvModule's 1 / 0
    # PyTorch's Conv2d init (uniform, bound 1/sqrt(fan_in) = 1/8), not the decode head's default N(0, 0.01)
    assert head.conv_seg.weight.std() > 0.03 and head.conv_seg.weight.abs().max() <= 1 / 8
    seed_all(0)
    default = MODELS.build(HEAD)
    default.init_weights()
    assert default.conv_seg.weight.std() < 0.02 and torch.equal(default.conv_seg.bias, torch.zeros(19))


def test_the_loss_is_named_as_the_reference_and_features_need_a_head_that_has_them():
    model = MODELS.build(tiny_model()).train()
    img = torch.randn(1, 3, 32, 32)
    losses = model.forward_train(img, None, torch.randint(0, 19, (1, 1, 32, 32)))
    assert set(losses) == {'decode.loss_ce', 'decode.acc_seg'}
    logits, feature = model.encode_decode(img, None, return_feature=True)
    assert logits.shape == (1, 19, 32, 32) and feature.shape == (1, 8, 32, 32)
    plain = MODELS.build(dict(tiny_model(), decode_head=dict(type='DLV2Head', in_channels=64, num_classes=19,
                                                              dilations=(6, 12))))
    with pytest.raises(TypeError, match='needs a decode head that returns its feature map.*DLV2Head'):
        plain.encode_decode(img, None, return_feature=True)
    with pytest.raises(ValueError, match='channels=10 must be divisible by the number of dilations 3'):
        MODELS.build(dict(HEAD, channels=10, dilations=(6, 12, 18)))
