"""ResNetV1c / ResNeSt: d8 layout, norm_eval and frozen stages, loading open-mmlab ImageNet weights (and the errors for
files of another depth, kind or naming), tools/check_pretrained.py on them."""
from pathlib import Path

import pytest
import torch

import mmseg.models  # noqa: F401
from mmseg.registry import MODELS

# Narrow versions of the full-width backbones (same depth, key names and order): quick to build and save.
NARROW = dict(stem_channels=16, base_channels=16)
D8 = dict(strides=(1, 2, 1, 1), dilations=(1, 1, 2, 4), contract_dilation=True)
TORCHVISION_STEM_KEYS = ['conv1.weight', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var',
                         'bn1.num_batches_tracked']


def build(type: str = 'ResNetV1c', depth: int = 50, **kwargs) -> torch.nn.Module:
    return MODELS.build(dict(type=type, depth=depth, **NARROW, **kwargs))


def imagenet_file(path: Path, model: torch.nn.Module) -> Path:
    """``model``'s weights as an ImageNet checkpoint with its 1000-class classifier ``fc``."""
    state = {k: torch.randn_like(v) if v.is_floating_point() else v for k, v in model.state_dict().items()}
    state.update({'fc.weight': torch.zeros(1000, model.out_channels[-1]), 'fc.bias': torch.zeros(1000)})
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({'state_dict': state}, path)
    return path


def test_d8_resnet_keeps_output_stride_8_with_contracted_dilation():
    model = build(depth=50, **D8).eval()
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 65, 65))
    assert [tuple(o.shape[1:]) for o in outs] == [(64, 17, 17), (128, 9, 9), (256, 9, 9), (512, 9, 9)]
    assert model.out_channels == [64, 128, 256, 512]
    # contract_dilation: the first block of a dilated stage uses half the dilation
    assert [model.layer3[0].conv2.dilation, model.layer3[1].conv2.dilation] == [(1, 1), (2, 2)]
    assert [model.layer4[0].conv2.dilation, model.layer4[1].conv2.dilation] == [(2, 2), (4, 4)]
    assert model.layer3[0].conv2.stride == (1, 1) and model.layer2[0].conv2.stride == (2, 2)
    # the reference's random initialisation: the last BN of every residual branch is zero
    assert not any(bool(block.bn3.weight.any()) for block in model.layer1)


def test_norm_eval_and_frozen_stages_survive_train_mode():
    model = build(depth=18, frozen_stages=1, norm_eval=True).train()
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and not any(m.training for m in norms)
    frozen = [p.requires_grad for m in (model.stem, model.layer1) for p in m.parameters()]
    assert frozen and not any(frozen)
    assert all(p.requires_grad for p in model.layer2.parameters())
    model = build(depth=18, frozen_stages=1).train()
    assert not model.stem[1].training and not model.layer1[0].bn1.training and model.layer2[0].bn1.training


def test_open_mmlab_weights_load_from_pretrained_without_conversion(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = build(depth=101)
    imagenet_file(tmp_path / 'pretrained' / 'resnet101_v1c-e67eebb6.pth', source)
    model = build(depth=101, pretrained='open-mmlab://resnet101_v1c')
    model.init_weights()
    file_state = torch.load(tmp_path / 'pretrained' / 'resnet101_v1c-e67eebb6.pth', weights_only=True)['state_dict']
    assert all(torch.equal(value, file_state[key]) for key, value in model.state_dict().items())
    assert list(model.state_dict())[:7] == ['stem.0.weight', 'stem.1.weight', 'stem.1.bias', 'stem.1.running_mean',
                                            'stem.1.running_var', 'stem.1.num_batches_tracked', 'stem.3.weight']


def test_missing_weights_say_where_to_download_them(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = build(depth=101, pretrained='open-mmlab://resnet101_v1c')
    with pytest.raises(FileNotFoundError) as error:
        model.init_weights()
    message = str(error.value)
    assert 'pretrained/resnet101_v1c-e67eebb6.pth' in message
    assert 'https://download.openmmlab.com/pretrain/third_party/resnet101_v1c-e67eebb6.pth' in message
    with pytest.raises(ValueError, match=r"open-mmlab://resnet102_v1c.*known are open-mmlab://resnet50_v1c"):
        build(depth=101, pretrained='open-mmlab://resnet102_v1c').init_weights()


def test_weights_of_another_depth_are_refused_naming_both_depths(tmp_path):
    path = imagenet_file(tmp_path / 'resnet50_v1c-2cccc1ad.pth', build(depth=50))
    model = build(depth=101, pretrained=str(path))
    with pytest.raises(ValueError, match=r'resnet50_v1c-2cccc1ad.pth is a ResNetV1c of depth 50 \(blocks per stage 3, '
                                         r'4, 6, 3\), but the model is ResNetV1c-101 \(depth 101 \(blocks per stage '
                                         r'3, 4, 23, 3\)\): set backbone.depth'):
        model.init_weights()


def test_torchvision_names_are_refused_with_how_to_use_them(tmp_path):
    torchvision_like = build(type='ResNet', depth=50)
    assert list(torchvision_like.state_dict())[:6] == TORCHVISION_STEM_KEYS
    path = imagenet_file(tmp_path / 'resnet50_torchvision.pth', torchvision_like)
    with pytest.raises(ValueError) as error:
        build(depth=50, pretrained=str(path)).init_weights()
    message = str(error.value)
    assert 'key names of a torchvision ResNet' in message and 'conv1.weight (16, 3, 7, 7)' in message
    assert "type='ResNet', depth=50" in message and 'resnet50_v1c-2cccc1ad.pth' in message
    plain = build(type='ResNet', depth=50, pretrained=str(path))  # the advice works: loads unchanged
    plain.init_weights()
    assert torch.equal(plain.conv1.weight, torch.load(path, weights_only=True)['state_dict']['conv1.weight'])


def test_resnest_weights_are_not_taken_for_a_resnet(tmp_path):
    path = imagenet_file(tmp_path / 'resnest50_d2-7497a55b.pth', build(type='ResNeSt', depth=50))
    with pytest.raises(ValueError, match=r'is a ResNeSt checkpoint \(split-attention convs.*but the model is '
                                         r'ResNetV1c-50'):
        build(depth=50, pretrained=str(path)).init_weights()


def test_check_pretrained_recognises_the_resnet_files(tmp_path, monkeypatch, capsys):
    from tools import check_pretrained
    # the tool checks a file named after open-mmlab's weights against that backbone (narrowed here)
    monkeypatch.setitem(check_pretrained.OPEN_MMLAB_BACKBONES, 'resnet50_v1c', dict(type='ResNetV1c', depth=50,
                                                                                    **NARROW))
    good = imagenet_file(tmp_path / 'resnet50_v1c-2cccc1ad.pth', build(depth=50))
    wrong = imagenet_file(tmp_path / 'resnest50_d2-7497a55b.pth', build(type='ResNeSt', depth=50))
    assert check_pretrained.main([str(good), str(wrong)]) == 1
    ok, fail = capsys.readouterr().out.strip().split('\n', 1)
    assert ok.startswith('[OK]') and 'resnet50_v1c (ResNetV1c-50), all 330 backbone tensors match' in ok
    assert fail.startswith('[FAIL]') and 'wrong shape' in fail and 'stem.0.weight: (8, 3, 3, 3) in the file' in fail


def test_activation_checkpointing_gives_the_same_gradients():
    torch.manual_seed(0)
    plain, checkpointed = build(depth=50, **D8).train(), build(depth=50, with_cp=True, **D8).train()
    for norm in (m for m in plain.modules() if isinstance(m, torch.nn.BatchNorm2d)):
        torch.nn.init.uniform_(norm.weight, 0.5, 1.5)  # no zero-initialised residual branch
    checkpointed.load_state_dict(plain.state_dict())
    img = torch.randn(2, 3, 33, 33)
    for model in (plain, checkpointed):
        sum(out.square().mean() for out in model(img)).backward()
    grad = plain.layer3[2].conv2.weight.grad
    assert grad.abs().sum() > 0 and torch.allclose(grad, checkpointed.layer3[2].conv2.weight.grad, atol=1e-6)
    assert torch.allclose(plain.stem[0].weight.grad, checkpointed.stem[0].weight.grad, atol=1e-6)
