"""AdvSeg beyond the golden iteration: the discriminator-optimiser quirk and its fix, HRDA and MIC students, the
two-optimiser runner config, and exact resume of segmentor, discriminators and both optimisers."""
import copy

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

import mmseg.engine  # noqa: F401  (registers the optimiser wrapper constructors)
from mmseg.apis.checkpoint import load_checkpoint
from mmseg.apis.inference import WRAPPER_LEFTOVER_PREFIXES
from mmseg.apis.train_config import runner_config
from mmseg.engine.adversarial_optim_wrapper_constructor import AdversarialOptimWrapperConstructor
from mmseg.models.uda.advseg import AdvSeg
from mmseg.registry import MODELS
from tests.test_dacs import MIC, TINY_MODEL, _batch, _seed
from tests.test_hrda import hrda_cfg
from tests.test_train_runner import experiment_config

ADVSEG = dict(type='AdvSeg', max_iters=10, discriminator=dict(type='FCDiscriminator', ndf=8))
SGD = dict(type='OptimWrapper', constructor='ReferenceOptimWrapperConstructor',
           optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4), paramwise_cfg=dict(custom_keys={}))
LOGS = {'decode.loss_seg', 'decode.acc_seg', 'G_trg.loss.main', 'D_src.loss.main', 'D_trg.loss.main'}


def _build(model=TINY_MODEL, **overrides) -> AdvSeg:
    _seed()
    return MODELS.build(dict(copy.deepcopy(ADVSEG), model=copy.deepcopy(model), **overrides)).train()


def _optim_wrappers(advseg: AdvSeg, segmentor=SGD, **model_overrides):
    """The two wrappers as tools/train.py builds them from a config with one optimiser."""
    cfg = Config(dict(model=dict(ADVSEG, **model_overrides), optim_wrapper=copy.deepcopy(segmentor),
                      param_scheduler=[], train_cfg=dict(max_iters=10)))
    AdvSeg.split_optimizers(cfg)
    optim = cfg.optim_wrapper.to_dict()
    optim.pop('constructor')
    return AdversarialOptimWrapperConstructor(optim)(advseg)


def _discriminator(advseg):
    return {k: v.detach().clone() for k, v in advseg.model_D.state_dict().items()}


def test_iteration_logs_the_reference_losses_steps_both_optimisers_and_draws_the_debug_grid(tmp_path):
    advseg = _build(work_dir=str(tmp_path))
    before = _discriminator(advseg)
    logs = advseg.train_step(_batch(), _optim_wrappers(advseg))
    assert set(logs) == LOGS and all(torch.isfinite(v) and not v.requires_grad for v in logs.values())
    assert advseg.local_iter == 1 and advseg.mic is None
    assert all(not torch.equal(before[k], v) for k, v in _discriminator(advseg).items())
    assert all(p.grad is None for p in advseg.parameters())  # both wrappers zeroed their gradients
    assert sorted(p.name for p in (tmp_path / 'class_mix_debug').iterdir()) == ['000001_0_s.png', '000001_1_s.png']


def test_the_fix_leaves_the_discriminators_to_adam_and_the_segmentor_update_unchanged():
    quirk, fixed = _build(), _build(discriminator_in_segmentor_optimizer=False)
    quirk_wrappers = _optim_wrappers(quirk)
    fixed_wrappers = _optim_wrappers(fixed, discriminator_in_segmentor_optimizer=False)
    disc_params = {id(p) for p in fixed.model_D.parameters()}
    held = {id(p) for group in fixed_wrappers['segmentor'].optimizer.param_groups for p in group['params']}
    assert not disc_params & held
    for advseg, wrappers in ((quirk, quirk_wrappers), (fixed, fixed_wrappers)):
        _seed(1)
        advseg.train_step(_batch(), wrappers)
    quirk_state, fixed_state = quirk.state_dict(), fixed.state_dict()
    differing = {k.split('.')[0] for k in quirk_state if not torch.equal(quirk_state[k], fixed_state[k])}
    assert differing == {'model_D'}  # SGD's extra step moved only the discriminator


def test_optimisers_that_do_not_match_the_model_are_refused():
    advseg = _build(discriminator_in_segmentor_optimizer=False)
    with pytest.raises(ValueError, match='discriminator_in_segmentor_optimizer=False, but the segmentor optimiser '
                                         'holds the discriminator parameters'):
        advseg.train_step(_batch(), _optim_wrappers(advseg))
    with pytest.raises(TypeError, match="expected an OptimWrapperDict with the wrappers 'segmentor' and "
                                        "'discriminator', got OptimWrapper"):
        advseg.train_step(_batch(), OptimWrapper(torch.optim.SGD(advseg.parameters(), lr=0.01)))
    with pytest.raises(ValueError, match=r"discriminator_type='WGAN'; expected one of \['LS', 'Vanilla'\]"):
        _build(discriminator_type='WGAN')
    fp16 = dict(SGD, type='MixedPrecisionOptimWrapper', dtype='float16')
    with DefaultScope.overwrite_default_scope('mmseg'), pytest.raises(ValueError, match='float16 loss scaling'):
        _optim_wrappers(advseg, segmentor=fp16, discriminator_in_segmentor_optimizer=False)


def test_hrda_student_and_mic_on_top():
    """HRDA: D sees the fused prediction at half the input size; MIC: its own teacher after the discriminators
    in the state dict (the reference order) and the masked loss in the log."""
    advseg = _build(model=hrda_cfg(), **MIC)
    assert list(dict.fromkeys(k.split('.')[0] for k in advseg.state_dict())) == ['model', 'model_D', 'mic']
    sizes = []
    advseg.model_D['main'].register_forward_hook(lambda module, args, out: sizes.append(tuple(args[0].shape[2:])))
    logs = advseg.train_step(_batch(size=64), _optim_wrappers(advseg))
    assert sizes == [(32, 32)] * 3  # G on the target, D on the source and the target
    detail = {'decode.hr.loss_seg', 'decode.hr.acc_seg'}
    assert set(logs) == LOGS | detail | {f'masked.{key}' for key in {'decode.loss_seg', 'decode.acc_seg'} | detail}


def test_the_student_of_an_advseg_checkpoint_loads_for_testing():
    """test.sh / init_model: the reference key revision turns ``model_D.main.x`` into ``D.main.x``, left over."""
    advseg = _build(**MIC)
    student = MODELS.build(copy.deepcopy(TINY_MODEL))
    _, report = load_checkpoint(student, dict(state_dict=advseg.state_dict()), ignore_prefixes=WRAPPER_LEFTOVER_PREFIXES)
    assert report.missing == [] and report.unexpected == []
    assert all(torch.equal(v, advseg.model.state_dict()[k]) for k, v in student.state_dict().items())


def test_resumed_run_ends_with_the_same_segmentor_discriminator_and_optimisers(tmp_path):
    """Through the Runner: 4 iterations at once, and resumed from that run's iteration-2 checkpoint, give
    bit-identical weights (student, discriminator), optimiser states (SGD, Adam) and schedules (poly of each)."""

    def run(work_dir, resume_from=None):
        cfg = experiment_config(tmp_path / 'data', max_iters=4)
        cfg.uda = dict(type='AdvSeg', discriminator=dict(type='FCDiscriminator', ndf=8), debug_img_interval=0)
        cfg.optim_wrapper = copy.deepcopy(SGD)
        cfg.work_dir = str(work_dir)
        cfg.train_dataloader.num_workers = 1
        cfg.train_cfg.val_interval = 100  # no evaluation
        cfg.custom_hooks = [dict(type='TrainingStateHook')]
        cfg.resume, cfg.load_from = resume_from is not None, resume_from
        runner = Runner.from_cfg(runner_config(cfg))
        runner.train()
        return runner

    straight = run(tmp_path / 'straight')
    assert 'train/discriminator.lr' in straight.message_hub.log_scalars
    run(tmp_path / 'resumed', resume_from=str(tmp_path / 'straight' / 'iter_2.pth'))
    ours = [torch.load(tmp_path / run_dir / 'iter_4.pth', map_location='cpu', weights_only=True)
            for run_dir in ('straight', 'resumed')]
    assert {k.split('.')[0] for k in ours[0]['state_dict']} == {'model', 'model_D'}
    for key in ('state_dict', 'optimizer', 'param_schedulers'):
        _assert_identical(ours[0][key], ours[1][key], key)
    assert set(ours[0]['optimizer']) == {'segmentor', 'discriminator'}
    assert ours[0]['optimizer']['discriminator']['state']  # Adam's moments travel with the checkpoint
    assert set(ours[0]['param_schedulers']) == {'segmentor', 'discriminator'}


def _assert_identical(a, b, path: str) -> None:
    if isinstance(a, dict):
        assert set(a) == set(b), f'{path}: keys differ'
        for key in a:
            _assert_identical(a[key], b[key], f'{path}.{key}')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), f'{path}: lengths differ'
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_identical(x, y, f'{path}[{i}]')
    elif torch.is_tensor(a):
        assert torch.equal(a, b), f'{path}: tensors differ'
    else:
        assert a == b, f'{path}: {a!r} != {b!r}'
