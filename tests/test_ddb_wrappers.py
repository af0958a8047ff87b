"""DDB's wrappers on tiny models: ST and CKD steps, the hand-over of the stage checkpoints (students, never the EMA
teachers), and their errors (a teacher of another architecture, missing prototypes); the released weights layout."""
import copy

import pytest
import torch
from mmengine.optim import OptimWrapper

from mmseg.apis import init_model
from mmseg.models.uda.ckd import CKD
from mmseg.models.uda.st import ST
from mmseg.registry import MODELS
from tests.ddb_helpers import (bridging_batch, ckd_config, prototypes_file, random_state, save_checkpoint, seed_all,
                               st_checkpoint, tiny_model)

MODEL = tiny_model()


def _optim(model):
    return OptimWrapper(torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3))


def _build(cfg):
    seed_all(0)
    return MODELS.build(copy.deepcopy(cfg)).train()


def _equal(module, state):
    return all(torch.equal(value, state[key]) for key, value in module.state_dict().items()
               if not key.endswith('num_batches_tracked'))


def test_st_steps_log_the_reference_keys_and_follow_the_student_with_the_ema_teacher():
    st = _build(dict(type='ST', model=MODEL, max_iters=10))
    assert isinstance(st, ST) and list(st.state_dict())[0].startswith('model.')
    optim = _optim(st)
    logs = st.train_step(bridging_batch(0), optim)
    assert set(logs) == {'loss', 'decode.loss_ce', 'decode.acc_seg', 'mix.decode.loss_ce', 'mix.decode.acc_seg'}
    assert torch.equal(logs['loss'], logs['mix.decode.loss_ce'])  # the reference's overwritten 'loss'
    teacher_before = [p.detach().clone() for p in st.get_ema_model().parameters()]
    student_before = [p.detach().clone() for p in st.get_model().parameters()]
    st.train_step(bridging_batch(1), optim)
    assert st.local_iter == 2
    # iteration 1: momentum min(1 - 1/2, 0.99) = 0.5 towards the student of before the step (parameters only)
    for teacher, before, student in zip(st.get_ema_model().parameters(), teacher_before, student_before):
        torch.testing.assert_close(teacher, 0.5 * before + 0.5 * student, rtol=1e-6, atol=1e-7)


def test_st_and_ckd_write_debug_panels_into_their_work_dir(tmp_path):
    for cfg in (dict(type='ST', model=MODEL, max_iters=10), ckd_config(tmp_path, MODEL)):
        wrapper = _build(dict(cfg, work_dir=str(tmp_path / cfg['type']), debug_img_interval=2))
        for step in range(2):
            wrapper.train_step(bridging_batch(step, batch=1), _optim(wrapper))
        assert [p.name for p in (tmp_path / cfg['type'] / 'class_mix_debug').iterdir()] == ['000001_0.png']


def test_st_round_two_starts_student_and_teacher_from_the_distilled_student(tmp_path):
    distilled = random_state(MODEL, seed=7)
    path = save_checkpoint(tmp_path / 'ckd.pth', {'stu_model.': distilled, 'cu_model.': random_state(MODEL, 8),
                                                  'ca_model.': random_state(MODEL, 9)})
    st = _build(dict(type='ST', model=MODEL, max_iters=10, distilled_model_path=str(path)))
    st.forward_train(*_st_inputs(st, bridging_batch(0)))
    # at iteration 0 the distilled student is loaded, then the teacher copies it; no optimiser step in between
    assert all(torch.equal(t, distilled[name]) for name, t in st.get_ema_model().named_parameters())


def test_st_refuses_a_distilled_checkpoint_without_a_student_of_its_architecture(tmp_path):
    plain = save_checkpoint(tmp_path / 'st.pth', {'model.': random_state(MODEL, 1)})  # no stu_model.*
    with pytest.raises(ValueError, match=r"uda.distilled_model_path=.*st.pth.*missing key"):
        _build(dict(type='ST', model=MODEL, max_iters=10, distilled_model_path=str(plain)))
    with pytest.raises(FileNotFoundError, match=r'uda.distilled_model_path=.*nowhere.pth'):
        _build(dict(type='ST', model=MODEL, max_iters=10, distilled_model_path=str(tmp_path / 'nowhere.pth')))


def _st_inputs(wrapper, batch):
    source = wrapper.data_preprocessor(dict(inputs=batch['inputs'], data_samples=batch['data_samples']), True)
    target = wrapper.data_preprocessor(dict(inputs=batch['target_inputs'],
                                            data_samples=batch['target_data_samples']), True)
    bridging = wrapper.preprocess_bridging(batch, tuple(target['inputs'].shape[-2:]))
    gt = torch.stack([s.gt_sem_seg.data for s in source['data_samples']]).long()
    metas = [s.metainfo for s in source['data_samples']]
    return source['inputs'], metas, gt, target['inputs'], metas, bridging


@pytest.mark.parametrize('overrides', [dict(), dict(soft_distill=True), dict(proto_rectify=False, use_pl_weight=True)])
def test_ckd_distils_from_the_st_students_not_their_ema_teachers(tmp_path, overrides):
    ckd = _build(ckd_config(tmp_path, MODEL, **overrides))
    assert isinstance(ckd, CKD)
    assert [key.split('.')[0] for key in ckd.state_dict()][::len(ckd.get_model().state_dict())] == \
        ['stu_model', 'cu_model', 'ca_model']
    logs = ckd.train_step(bridging_batch(0), _optim(ckd))
    target_keys = {'stu_tgt.loss_distill'} if overrides.get('soft_distill') else {'stu_tgt.decode.loss_ce',
                                                                                  'stu_tgt.decode.acc_seg'}
    assert set(logs) == {'loss', 'stu_src.decode.loss_ce', 'stu_src.decode.acc_seg'} | target_keys
    st_cu = torch.load(tmp_path / 'cu.pth', weights_only=True)['state_dict']
    assert _equal(ckd.teacher('cu'), {k[len('model.'):]: v for k, v in st_cu.items() if k.startswith('model.')})
    assert not ckd.teacher('cu').training and not any(p.requires_grad for p in ckd.teacher('ca').parameters())
    assert all(p.grad is None for p in ckd.teacher('cu').parameters())


def test_ckd_refuses_a_teacher_of_another_architecture(tmp_path):
    cfg = ckd_config(tmp_path, MODEL)
    st_checkpoint(tmp_path / 'cu.pth', tiny_model(channels=16))  # the ST-cu run of another head width
    with pytest.raises(ValueError, match=r"uda.cu_model_load_from=.*cu.pth.*shape mismatch.*another architecture"):
        _build(cfg)
    with pytest.raises(FileNotFoundError, match=r'uda.ca_model_load_from=.*no such checkpoint.*ST-ca stage first'):
        _build(dict(cfg, ca_model_load_from=str(tmp_path / 'missing.pth'),
                    cu_model_load_from=cfg['ca_model_load_from']))


def test_missing_prototypes_name_the_command_that_makes_them(tmp_path):
    run_dir = tmp_path / 'r1_st_cu'
    (run_dir / 'r1_st_cu.py').parent.mkdir(parents=True)
    (run_dir / 'r1_st_cu.py').write_text('# the run config\n')
    cfg = ckd_config(tmp_path, MODEL, cu_model_load_from=str(st_checkpoint(run_dir / 'iter_4.pth', MODEL)))
    missing = tmp_path / 'prototypes' / 'r1_st_cu.pth'
    with pytest.raises(FileNotFoundError) as error:
        _build(dict(cfg, cu_proto_path=str(missing)))
    assert (f'python tools/compute_prototypes.py {run_dir / "r1_st_cu.py"} {run_dir / "iter_4.pth"} --out {missing}'
            in str(error.value))
    prototypes_file(missing, channels=16)  # prototypes of another feature width
    with pytest.raises(ValueError, match=r'uda.cu_proto_path=.*expected a \[19, 8\] tensor.*found \(19, 16\)'):
        _build(dict(cfg, cu_proto_path=str(missing)))


def test_released_ddb_weights_evaluate_the_student(tmp_path):
    """DDB's released checkpoints: CKD (stu_model.*, cu_model.*, ca_model.*) and ST (model.*, ema_model.*)."""
    config = tmp_path / 'ddb.py'
    config.write_text(f'model = {MODEL!r}\n')
    student = random_state(MODEL, 11)
    ckd = save_checkpoint(tmp_path / 'ckd.pth', {'stu_model.': student, 'cu_model.': random_state(MODEL, 12),
                                                 'ca_model.': random_state(MODEL, 13)})
    st = save_checkpoint(tmp_path / 'st.pth', {'model.': student, 'ema_model.': random_state(MODEL, 14)})
    for checkpoint in (ckd, st):
        assert _equal(init_model(str(config), str(checkpoint), device='cpu'), student), checkpoint.name
