"""Reference behaviour that a drift would break silently: the teachers' determinism and kornia-0.5 colour jitter.

The whole-iteration golden cases (``dacs_iter_*``, ``mic_iter_*``) run with dropout rates of 0; these
tests cover what they cannot: a teacher whose model has dropout, attention dropout and drop-path
must give the same pseudo-labels whatever the random state, in both attention kernels, and the colour
jitter must have kornia 0.5's semantics on fixed parameters.
"""
import colorsys
import copy

import numpy as np
import pytest
import torch

import mmseg.models.uda.dacs as dacs_module
from mmseg.models.uda.masking_consistency_module import MaskingConsistencyModule
from mmseg.models.utils.color_jitter import apply_color_jitter
from mmseg.models.utils.dacs_transforms import color_jitter, denorm, renorm
from mmseg.registry import MODELS
from tests.test_dacs import DACS_CFG, TINY_MODEL, _seed

SIZE = 32


def _stochastic_model(attn_impl: str) -> dict:
    """The tiny DAFormer with every stochastic layer on: dropout, attention dropout, drop-path, head dropout."""
    model = copy.deepcopy(TINY_MODEL)
    model['backbone'].update(drop_rate=0.3, attn_drop_rate=0.3, drop_path_rate=0.3, attn_impl=attn_impl)
    model['decode_head']['dropout_ratio'] = 0.3
    return model


def _target(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    img = torch.randn(2, 3, SIZE, SIZE, generator=g)
    metas = [dict(img_norm_cfg=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]))] * 2
    return img, metas


@pytest.mark.parametrize('attn_impl', ['sdpa', 'math'])
def test_dacs_teacher_logits_do_not_depend_on_the_random_state(attn_impl, monkeypatch):
    """Two identical DACS wrappers, the same iteration 0, different torch seeds: the teacher's logits
    (what the pseudo-labels come from) are identical, while the student's forward is not."""
    _seed()
    dacs = MODELS.build(dict(copy.deepcopy(DACS_CFG), model=_stochastic_model(attn_impl))).train()
    seen = []
    original = dacs_module.pseudo_label_and_weight
    monkeypatch.setattr(dacs_module, 'pseudo_label_and_weight',
                        lambda logits, *a, **k: seen.append(logits.clone()) or original(logits, *a, **k))
    img, metas = _target(1)
    gt = torch.randint(0, 19, (2, 1, SIZE, SIZE), generator=torch.Generator().manual_seed(2))
    target_img, target_metas = _target(3)
    losses = []
    for seed in (10, 11):
        copy_ = copy.deepcopy(dacs)
        _seed(seed)
        log_vars = copy_.forward_train(img, metas, gt, target_img, target_metas)
        losses.append(float(log_vars['decode.loss_seg']))
    assert losses[0] != losses[1], 'the student should be stochastic (dropout, drop-path are on)'
    assert torch.equal(seen[0], seen[1]), 'the teacher forward depends on the random state'


@pytest.mark.parametrize('attn_impl', ['sdpa', 'math'])
def test_mic_own_teacher_is_deterministic(attn_impl):
    model = _stochastic_model(attn_impl)
    mic = MaskingConsistencyModule(True, dict(model=model, mask_mode='separatetrg', mask_lambda=1.,
                                              mask_generator=dict(type='block', mask_ratio=0.7, mask_block_size=8)))
    student = MODELS.build(copy.deepcopy(model)).train()
    mic.train()
    mic.update_weights(student, 0)
    target_img, target_metas = _target(4)
    outputs = []
    for seed in (20, 21):
        torch.manual_seed(seed)
        outputs.append(mic.teacher(target_img, target_metas).prob)
    assert torch.equal(outputs[0], outputs[1])


def _params(brightness=1., contrast=1., saturation=1., hue=0., order=(0, 1, 2, 3)) -> dict:
    return dict(brightness_factor=torch.tensor([brightness]), contrast_factor=torch.tensor([contrast]),
                saturation_factor=torch.tensor([saturation]), hue_factor=torch.tensor([hue]),
                order=torch.tensor(order))


def _image() -> torch.Tensor:
    return torch.rand(1, 3, 6, 7, generator=torch.Generator().manual_seed(5))


def _kornia05_jitter(img: np.ndarray, brightness: float, contrast: float, saturation: float, hue: float,
                     order) -> np.ndarray:
    """An independent statement of kornia 0.5 ColorJitter on a (3, H, W) [0, 1] image, per pixel in float64:
    brightness adds ``factor - 1``, contrast multiplies (both clamped), saturation scales S and hue shifts H
    (in turns) in HSV."""
    out = img.astype(np.float64).copy()
    for op in order:
        if op == 0:
            out = np.clip(out + (brightness - 1), 0, 1)
        elif op == 1:
            out = np.clip(out * contrast, 0, 1)
        else:
            for y in range(out.shape[1]):
                for x in range(out.shape[2]):
                    h, s, v = colorsys.rgb_to_hsv(*out[:, y, x])
                    if op == 2:
                        s = min(max(s * saturation, 0.), 1.)
                    else:
                        h = (h + hue) % 1.
                    out[:, y, x] = colorsys.hsv_to_rgb(h, s, v)
    return out


def test_color_jitter_is_kornia_05_color_jitter_with_its_draws():
    """``color_jitter`` of DACS on a seeded generator equals kornia 0.5: factors drawn brightness, contrast,
    hue, saturation (one ``torch.rand`` each), then ``randperm(4)``, applied with kornia 0.5's semantics."""
    mean, std = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1), torch.tensor([58.395, 57.12, 57.375])
    std = std.view(1, 3, 1, 1)
    img01 = _image() * 0.8 + 0.1
    out, _ = color_jitter(1.0, mean, std, data=renorm(img01, mean, std), s=0.2,
                          generator=torch.Generator().manual_seed(7))
    g = torch.Generator().manual_seed(7)
    brightness, contrast, hue, saturation = (float(low + torch.rand(1, generator=g) * 0.4)
                                             for low in (0.8, 0.8, -0.2, 0.8))
    order = torch.randperm(4, generator=g).tolist()
    expected = _kornia05_jitter(img01[0].numpy(), brightness, contrast, saturation, hue, order)
    np.testing.assert_allclose(denorm(out, mean, std)[0].numpy(), expected, atol=2e-5)


def test_brightness_is_additive_and_clamped():
    img = _image()
    out = apply_color_jitter(img, _params(brightness=1.2))
    torch.testing.assert_close(out, (img + 0.2).clamp(0, 1))


def test_contrast_is_multiplicative_and_clamped():
    img = _image()
    torch.testing.assert_close(apply_color_jitter(img, _params(contrast=1.3)), (img * 1.3).clamp(0, 1))


@pytest.mark.parametrize('op, factors', [(2, dict(saturation=0.5)), (2, dict(saturation=1.15)), (3, dict(hue=0.1)),
                                         (3, dict(hue=-0.17))])
def test_saturation_and_hue_act_in_hsv(op, factors):
    img = _image()
    out = apply_color_jitter(img, _params(**factors))
    expected = _kornia05_jitter(img[0].numpy(), 1., 1., factors.get('saturation', 1.), factors.get('hue', 0.), [op])
    np.testing.assert_allclose(out[0].numpy(), expected, atol=2e-5)


def test_operations_run_in_the_drawn_order():
    img = _image() * 0.5 + 0.3
    brightness_then_contrast = apply_color_jitter(img, _params(brightness=1.2, contrast=1.5, order=(0, 1, 2, 3)))
    contrast_then_brightness = apply_color_jitter(img, _params(brightness=1.2, contrast=1.5, order=(1, 0, 2, 3)))
    torch.testing.assert_close(brightness_then_contrast, ((img + 0.2).clamp(0, 1) * 1.5).clamp(0, 1))
    torch.testing.assert_close(contrast_then_brightness, ((img * 1.5).clamp(0, 1) + 0.2).clamp(0, 1))
