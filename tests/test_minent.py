"""MinEnt beyond the golden cases: the entropy's range and input check, the iteration's log with MIC on top, and the
half-resolution entropy of an HRDA student."""
import copy
import math

import pytest
import torch
from mmengine.optim import OptimWrapper

import mmseg.models.uda.minent as minent_module
from mmseg.models.uda.minent import entropy_loss, entropy_map
from mmseg.registry import MODELS
from tests.test_dacs import MIC, TINY_MODEL, _batch, _seed
from tests.test_hrda import hrda_cfg


def _build(model=TINY_MODEL, **overrides):
    _seed()
    return MODELS.build(dict(type='MinEnt', model=copy.deepcopy(model), max_iters=10, **overrides)).train()


def _optim(minent):
    return OptimWrapper(torch.optim.SGD([p for p in minent.parameters() if p.requires_grad], lr=0.01))


def test_entropy_is_0_for_certain_and_1_for_uniform_predictions():
    prob = torch.zeros(2, 19, 4, 6)
    prob[0, 3] = 1  # image 0: certain
    prob[1] = 1 / 19  # image 1: uniform
    entropy = entropy_map(prob)
    assert entropy.shape == (2, 4, 6)
    assert torch.equal(entropy[0], torch.zeros(4, 6)) and torch.allclose(entropy[1], torch.ones(4, 6))
    assert math.isclose(float(entropy_loss(prob)), 0.5, rel_tol=1e-6)
    with pytest.raises(ValueError, match=r'expected \(N, C, H, W\) class probabilities, got shape \(19, 4, 6\)'):
        entropy_loss(prob[0])


def test_iteration_with_mic_logs_the_entropy_and_the_masked_losses(tmp_path):
    """The masked losses are logged (the reference's MinEnt drops them from its log: golden quirk 5)."""
    minent = _build(work_dir=str(tmp_path), **MIC)
    teacher = minent.mic.teacher.ema_model
    logs = minent.train_step(_batch(), _optim(minent))
    assert set(logs) == {'decode.loss_seg', 'decode.acc_seg', 'ent.loss.main', 'masked.decode.loss_seg',
                         'masked.decode.acc_seg'}
    assert 0 < float(logs['ent.loss.main']) <= 0.001  # lambda 0.001 x an entropy in [0, 1]
    assert all(not p.requires_grad for p in teacher.parameters())
    assert (tmp_path / 'class_mix_debug' / '000001_0_s.png').is_file()


def test_hrda_student_takes_the_entropy_at_half_resolution(monkeypatch):
    shapes = []

    def recording(prob):
        shapes.append(tuple(prob.shape))
        return entropy_loss(prob)

    monkeypatch.setattr(minent_module, 'entropy_loss', recording)
    minent = _build(model=hrda_cfg())
    logs = minent.train_step(_batch(size=64), _optim(minent))
    assert shapes == [(2, 19, 32, 32)]
    assert set(logs) == {'decode.loss_seg', 'decode.acc_seg', 'decode.hr.loss_seg', 'decode.hr.acc_seg',
                         'ent.loss.main'}
