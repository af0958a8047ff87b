"""Checkers for the DDB cases: the DLV2Adapter model, domain bridging, ST (helpers and a whole step), prototypes,
CKD targets and losses, and the checkpoint hand-over between the stages."""
import random

import numpy as np
import torch

from mmseg.models.segmentors.encoder_decoder import add_prefix
from tests.golden_checks.models import _build_loaded, _no_dropout
from tests.golden_checks.resnet import check_resnet_segmentor
from tests.golden_utils import assert_matches


def check_ddb_model(case: dict) -> None:
    """UDAEncoderDecoder + DLV2AdapterHead: the segmentor checks (``decode.loss_ce``), then the prototype feature of
    ``encode_decode(return_feature=True)`` (stored every ``feature_channel_stride``-th channel) and of the head."""
    check_resnet_segmentor(case)
    atol, rtol = case['atol'], case['rtol']
    inputs, outputs = case['inputs'], case['outputs']
    img, metas = inputs['img'], inputs['img_metas']
    stride = inputs['feature_channel_stride']
    model = _build_loaded(case['config'], case['state_dict']).eval()
    with torch.no_grad():
        logits, feature = model.encode_decode(img, metas, return_feature=True)
        assert_matches(logits, outputs['encode_decode_rf_logits'], atol, rtol, 'encode_decode_rf_logits')
        assert_matches(feature[:, ::stride], outputs['encode_decode_rf_feature_sub'], atol, rtol,
                       'encode_decode_rf_feature_sub')
        logits, feature = model.decode_head(model.extract_feat(img), return_feature=True)
        assert_matches(logits, outputs['decode_head_logits'], atol, rtol, 'decode_head_logits')
        assert_matches(feature, outputs['decode_head_feature'], atol, rtol, 'decode_head_feature')
        _no_dropout(model)
        logits, feature = model.decode_head(model.extract_feat(img), return_feature=True)
        assert_matches(logits, outputs['decode_head_logits_trainbn'], atol, rtol, 'decode_head_logits_trainbn')
        assert_matches(feature, outputs['decode_head_feature_trainbn'], atol, rtol, 'decode_head_feature_trainbn')


def _seed_all(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _norm(case: dict):
    cfg = case['inputs']['img_norm_cfg']
    return (torch.tensor(cfg['mean'], dtype=torch.float32).view(1, 3, 1, 1),
            torch.tensor(cfg['std'], dtype=torch.float32).view(1, 3, 1, 1))


def check_bridging(case: dict) -> None:
    """The bridging masks and images of each mode under the stored numpy seeds (class: the chosen classes are
    the ones under the mask; cut: the stored box), and the post-processed (jitter + 1-D blur) images under the
    stored seeds of Python, numpy and torch."""
    from mmseg.datasets.domain_bridging import bridge, cut_mask
    atol, rtol = case['atol'], case['rtol']
    mean, std = _norm(case)
    for i, (sample, expected) in enumerate(zip(case['inputs']['samples'], case['outputs']['samples'])):
        src, gt, tgt = sample['src_img'], sample['src_gt'].long(), sample['tgt_img']
        for key, out in expected['cls'].items():
            np.random.seed(int(key[len('np_seed'):]))
            bridged = bridge(src, gt, tgt, 'class', post_pmd=False, post_blur=False)
            assert_matches(bridged.mask, out['mask'], atol, rtol, f'samples[{i}]/cls/{key}/mask')
            assert_matches(bridged.img, out['img'], atol, rtol, f'samples[{i}]/cls/{key}/img')
            under_mask = set(torch.unique(gt[bridged.mask.bool()]).tolist())
            assert under_mask == set(out['chosen_classes'].tolist()), f'samples[{i}]/cls/{key}: chosen classes'
        for key, out in expected['cut'].items():
            np.random.seed(int(key[len('np_seed'):]))
            mask = cut_mask(*gt.shape[-2:])
            assert_matches(mask, out['mask'], atol, rtol, f'samples[{i}]/cut/{key}/mask')
            y0, x0, y1, x1 = (int(v) for v in out['rectangle_y0x0y1x1'])
            assert int(mask.sum()) == (y1 - y0) * (x1 - x0) and bool(mask[0, y0:y1, x0:x1].all())
            np.random.seed(int(key[len('np_seed'):]))
            bridged = bridge(src, gt, tgt, 'cut', post_pmd=False, post_blur=False)
            assert_matches(bridged.img, out['img'], atol, rtol, f'samples[{i}]/cut/{key}/img')
        zero = bridge(src, gt, tgt, 'zero', post_pmd=False, post_blur=False)
        assert_matches(zero.mask, expected['zero']['mask'], atol, rtol, f'samples[{i}]/zero/mask')
        assert_matches(zero.img, expected['zero']['img'], atol, rtol, f'samples[{i}]/zero/img')
        for key, out in expected['post'].items():
            _seed_all(out['seed'])
            bridged = bridge(src, gt, tgt, 'cut', mean, std, post_pmd=True, post_blur=True)
            assert_matches(bridged.mask, out['mask'], atol, rtol, f'samples[{i}]/post/{key}/mask')
            assert_matches(bridged.img, out['img'], atol, rtol, f'samples[{i}]/post/{key}/img')


def check_checkpoint_keys(case: dict) -> None:
    """The keys each stage takes from the ST and CKD checkpoints (and a plain one for the test tool): always the
    student's, in the model's key order."""
    from mmseg.models.uda import ddb_checkpoint as ddb
    inputs, outputs = case['inputs'], case['outputs']
    model_keys = list(inputs['model_keys'])
    checkpoints = {name: dict.fromkeys(inputs[f'{name}_checkpoint_keys'], torch.zeros(1)) for name in ('st', 'ckd')}
    checkpoints['plain'] = dict.fromkeys(model_keys, torch.zeros(1))
    selections = dict(
        ckd_load_cu_from_st_ckpt=(ddb.st_student_state, 'st'),
        ckd_load_ca_from_st_ckpt=(ddb.st_student_state, 'st'),
        ckd_load_stu_from_ckd_ckpt=(ddb.distilled_student_state, 'ckd'),
        st_load_distilled_from_ckd_ckpt=(ddb.distilled_student_state, 'ckd'),
        test_custom_load_checkpoint_st_ckpt=(ddb.test_student_state, 'st'),
        test_custom_load_checkpoint_ckd_ckpt=(ddb.test_student_state, 'ckd'),
        test_custom_load_checkpoint_plain_ckpt=(ddb.test_student_state, 'plain'),
        cal_prototype_revise_keys_st_ckpt=(ddb.prototype_tool_state, 'st'))
    assert set(selections) == set(outputs), f'cases {sorted(outputs)} != checked {sorted(selections)}'
    for name, (select, checkpoint) in selections.items():
        keys = list(select(checkpoints[checkpoint]))
        expected = outputs[name]
        assert len(keys) == expected['n_keys'], f'{name}: {len(keys)} keys != {expected["n_keys"]}'
        assert (keys == model_keys) == expected['equals_model_keys_in_order'], f'{name}: key order'
        if 'used_equals_model_keys_in_order' in expected:  # non-strict: the model's keys load, the rest is left
            used = [key for key in keys if key in set(model_keys)]
            assert (used == model_keys) == expected['used_equals_model_keys_in_order'], f'{name}: used keys'
            ignored = [key for key in keys if key not in set(model_keys)]
            assert len(ignored) == expected['n_ignored'], f'{name}: {len(ignored)} ignored keys'
            assert sorted({key.split('.')[0] + '.' for key in ignored}) == expected['ignored_prefixes'], name


def _loss_head(num_classes: int):
    """A DLV2AdapterHead whose ``losses`` (``decode.loss_ce``, ``acc_seg``) stand in for the student's loss."""
    from mmseg.registry import MODELS
    return MODELS.build(dict(type='DLV2AdapterHead', in_channels=4, channels=4, num_classes=num_classes))


def _tiny_st():
    """An ST wrapper around a tiny segmentor, for its ``parse_losses``."""
    from mmseg.registry import MODELS
    model = dict(type='UDAEncoderDecoder',
                 backbone=dict(type='ResNetV1c', depth=18, stem_channels=8, base_channels=8, dilations=(1, 1, 2, 4),
                               strides=(1, 2, 1, 1), contract_dilation=True),
                 decode_head=dict(type='DLV2AdapterHead', in_channels=64, channels=8, num_classes=19))
    return MODELS.build(dict(type='ST', model=model))


def check_st(case: dict) -> None:
    """ST's pseudo-labels (batch-level confident share, rows cut), bridged labels and weights and the bridged loss
    of given teacher and student logits, per (threshold, top, bottom) setting; and the EMA teacher's chain."""
    from mmseg.models.uda.ema_teacher import init_ema_weights, update_ema
    from mmseg.models.uda.pseudo_label import pseudo_label_and_weight
    from mmseg.models.uda.st import bridged_targets
    atol, rtol = case['atol'], case['rtol']
    inputs = case['inputs']
    st = _tiny_st()
    head = _loss_head(inputs['ema_logits'].shape[1])
    gt, mask = inputs['gt_semantic_seg'].long(), inputs['mix_mask'].long()
    for (threshold, top, bottom), (name, expected) in zip(case['config']['settings'],
                                                          case['outputs']['settings'].items()):
        pseudo = pseudo_label_and_weight(inputs['ema_logits'], threshold, top, bottom)
        mixed_label, mixed_weight = bridged_targets(mask, gt, pseudo.label, pseudo.weight)
        mix_losses = add_prefix(add_prefix(head.losses(inputs['student_logits'], mixed_label, mixed_weight),
                                           'decode'), 'mix')
        mix_loss, log_vars = st.parse_losses(mix_losses)
        actual = dict(pseudo_prob=pseudo.prob, pseudo_label=pseudo.label,
                      n_confident=int(pseudo.prob.ge(threshold).sum()), fraction_confident=float(pseudo.fraction),
                      pseudo_weight=pseudo.weight, mixed_lbl=mixed_label, mixed_weight=mixed_weight,
                      mix_losses=mix_losses, mix_loss=mix_loss, log_vars=dict(log_vars))
        assert_matches(actual, expected, atol, rtol, f'settings/{name}')
    ema = inputs['ema']
    student, teacher = (torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4),
                                            torch.nn.Conv2d(4, 2, 1)) for _ in range(2))
    student.load_state_dict(ema['init_state']['model'])
    teacher.load_state_dict(ema['init_state']['ema_model'])
    init_ema_weights(student, teacher)
    assert_matches(teacher.state_dict(), case['outputs']['ema']['after_init'], atol, rtol, 'ema/after_init')
    for step in case['outputs']['ema']['chain']:
        student.load_state_dict(step['student'])
        assert_matches(teacher.state_dict(), step['ema_before'], atol, rtol, f'ema/{step["iter"]}/before')
        alpha = update_ema(student, teacher, step['iter'], case['config']['alpha'])
        assert_matches(teacher.state_dict(), step['ema_after'], atol, rtol, f'ema/{step["iter"]}/after')
        assert abs(alpha - step['alpha']) < 1e-12, f'ema/{step["iter"]}: alpha {alpha} != {step["alpha"]}'


def check_st_step(case: dict) -> None:
    """One whole ``ST.forward_train`` at iteration 0 (student dropout off): the log values (``loss`` = the bridged
    loss), the teacher's train-mode logits, pseudo-labels and confident share, and the accumulated gradients."""
    from mmseg.models.uda.bridging_uda import Bridging
    from mmseg.models.uda.ema_teacher import teacher_logits
    from mmseg.models.uda.pseudo_label import pseudo_label_and_weight
    from mmseg.registry import MODELS
    atol, rtol = case['atol'], case['rtol']
    inputs, outputs = case['inputs'], case['outputs']
    cfg = dict(case['config'])
    st = MODELS.build(cfg)
    st.get_model().load_state_dict({k[len('model.'):]: v for k, v in case['state_dict'].items()}, strict=True)
    st.train()
    _no_dropout(st.get_model())
    metas = inputs['img_metas']
    log_vars = st.forward_train(inputs['img'], metas, inputs['gt_semantic_seg'].long(), inputs['target_img'], metas,
                                Bridging(inputs['bridging_img'], inputs['bridging_mask']))
    assert_matches(dict(log_vars), outputs['log_vars'], atol, rtol, 'log_vars')
    ema_logits = teacher_logits(st.get_ema_model(), inputs['target_img'], metas)
    assert_matches(ema_logits, outputs['ema_logits'], atol, rtol, 'ema_logits')
    pseudo = pseudo_label_and_weight(ema_logits, cfg['pseudo_threshold'])
    assert_matches(pseudo.label, outputs['pseudo_label'], atol, rtol, 'pseudo_label')
    assert abs(float(pseudo.fraction) - outputs['fraction_confident']) < 1e-9, 'fraction_confident'
    params = dict(st.get_model().named_parameters())
    assert_matches({key: params[key].grad for key in inputs['grad_keys']}, outputs['grads'], atol, rtol, 'grads')
    assert st.local_iter == outputs['local_iter_after']
    assert all(torch.equal(p, e) for p, e in zip(st.get_model().parameters(), st.get_ema_model().parameters())) == \
        outputs['ema_params_equal_model']


def check_prototypes(case: dict) -> None:
    """The prototype tool's loop over given (logits, features) batches: per-batch class ids and mean vectors, the
    final prototypes and counts, and the capped running mean (n stays at 3000)."""
    from mmseg.models.utils.class_prototypes import ClassPrototypes
    from tools.compute_prototypes import calculate_prototypes
    atol, rtol = case['atol'], case['rtol']
    cfg, inputs, outputs = case['config'], case['inputs'], case['outputs']
    batches = inputs['batches']
    per_epoch = cfg['batches_per_epoch']
    step = iter(range(len(batches)))
    per_batch = []
    prototypes = ClassPrototypes(cfg['num_classes'], cfg['feat_dim'], cfg['min_pixels'], cfg['num_cap'])
    calculate_prototypes(lambda index: (batches[index]['logits'], batches[index]['features']),
                         lambda epoch: [next(step) for _ in range(per_epoch)], cfg['epochs'], prototypes,
                         on_batch=lambda ids, vectors: per_batch.append(dict(ids=ids, vectors=torch.stack(vectors))))
    assert_matches(per_batch, outputs['per_batch'], atol, rtol, 'per_batch')
    assert_matches(prototypes.prototypes, outputs['prototypes'], atol, rtol, 'prototypes')
    assert_matches(prototypes.counts, outputs['objective_vectors_num'], atol, rtol, 'objective_vectors_num')
    capped = ClassPrototypes(cfg['num_classes'], cfg['feat_dim'], cfg['min_pixels'], cfg['num_cap'])
    capped.prototypes = inputs['capped_init_vectors'].clone()
    capped.counts = inputs['capped_init_num'].clone()
    ids, _ = capped.update(batches[0]['logits'], batches[0]['features'])
    assert_matches(dict(prototypes=capped.prototypes, num=capped.counts, ids=ids), outputs['capped'], atol, rtol,
                   'capped')


def check_ckd(case: dict) -> None:
    """CKD's targets from given teacher logits, features and prototypes (distances, prototype weights, ensemble,
    pseudo-labels and weights) and the hard or soft target loss of given student logits, for each variant."""
    from mmseg.models.uda.ckd import TeacherOutput, distillation_targets, soft_distillation_loss
    atol, rtol = case['atol'], case['rtol']
    inputs, outputs = case['inputs'], case['outputs']
    teachers = {path: TeacherOutput(inputs[f'{path}_logits'], inputs[f'{path}_feature']) for path in ('cu', 'ca')}
    prototypes = {path: inputs[f'{path}_vectors'] for path in ('cu', 'ca')}
    threshold = case['config']['pseudo_threshold']
    st = _tiny_st()
    head = _loss_head(inputs['cu_logits'].shape[1])
    for name, expected in outputs['variants'].items():
        variant = expected['config']
        targets = distillation_targets(teachers, prototypes if variant['proto_rectify'] else None,
                                       variant['rectify_on_prob'], variant['use_pl_weight'], threshold)
        actual = dict(config=variant, ensemble_tgt_softmax=targets.ensemble)
        for path in ('cu', 'ca'):
            if variant['proto_rectify']:
                actual[f'{path}_proto_weights'] = targets.proto_weights[path]
            if not variant['soft_distill']:  # the per-teacher labels the reference computes (unused by the loss)
                actual[f'{path}_tgt_pl'] = teachers[path].logits.softmax(dim=1).argmax(dim=1)
                if variant['proto_rectify']:
                    actual[f'{path}_rectify_tgt_pl'] = targets.rectified[path].argmax(dim=1)
        if variant['soft_distill']:
            temp = variant['temp']
            loss = soft_distillation_loss(inputs['student_logits_full'], targets.soft_logits, temp,
                                          case['config']['soft_distill_w'])
            losses = add_prefix(dict(loss_distill=loss), 'stu_tgt')
            actual['ensemble_tgt_softmax'] = torch.softmax(targets.soft_logits / temp, dim=1)
            actual['stu_tgt_softmax'] = torch.log_softmax(inputs['student_logits_full'] / temp, dim=1)
        else:
            losses = add_prefix(add_prefix(head.losses(inputs['student_logits'], targets.label.unsqueeze(1),
                                                       targets.weight), 'decode'), 'stu_tgt')
            actual.update(tgt_pl_prob=targets.prob, tgt_pseudo_label=targets.label, pseudo_weight=targets.weight,
                          stu_tgt_losses=losses)
            if variant['use_pl_weight']:
                actual['n_confident'] = int(targets.prob.ge(threshold).sum())
        actual['stu_tgt_loss'], log_vars = st.parse_losses(losses)
        if variant['soft_distill']:
            actual['stu_tgt_loss_distill'] = losses['stu_tgt.loss_distill']
        actual['log_vars'] = dict(log_vars)
        for path in ('cu', 'ca'):
            if variant['proto_rectify']:
                assert_matches(targets.proto_distances[path], outputs['feat_proto_distance'][path], atol, rtol,
                               f'feat_proto_distance/{path}')
        assert_matches(actual, expected, atol, rtol, f'variants/{name}')
