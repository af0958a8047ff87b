"""Checkers for the ``helper_*`` golden cases of the DACS building blocks."""
import json
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from tests.golden_utils import assert_matches


def _check(case, actual):
    assert_matches(actual, case['outputs'], case['atol'], case['rtol'])


def check_downscale_label_ratio(case):
    from mmseg.models.utils.downscale_label_ratio import downscale_label_ratio
    cfg, gt = case['config'], case['inputs']['gt'].long()
    _check(case, {
        f'sf{sf}_min{ratio}': downscale_label_ratio(gt, sf, ratio, cfg['n_classes'], cfg['ignore_index'])
        for sf, ratio in cfg['settings']
    })


def check_classmix(case):
    from mmseg.models.utils.dacs_transforms import generate_class_mask, get_class_masks, one_mix
    inputs, cfg = case['inputs'], case['config']
    labels = inputs['labels'].long()
    masks, mixes = {}, {}
    for k, class_set in enumerate(cfg['class_sets']):
        classes = torch.tensor(class_set)
        per_image = [generate_class_mask(label, classes).unsqueeze(0) for label in labels]
        mixed = {'img': [], 'lbl': [], 'weight': []}
        for i, mask in enumerate(per_image):
            img, lbl = one_mix(mask, data=torch.stack((inputs['src_img'][i], inputs['trg_img'][i])),
                               target=torch.stack((labels[i][0], inputs['pseudo_label'][i].long())))
            _, weight = one_mix(mask, target=torch.stack((torch.ones_like(inputs['pseudo_weight'][i]),
                                                          inputs['pseudo_weight'][i])))
            for key, value in (('img', img), ('lbl', lbl), ('weight', weight)):
                mixed[key].append(value)
        masks[f'set{k}'] = torch.cat(per_image)
        mixes[f'set{k}'] = {key: torch.cat(values) for key, values in mixed.items()}
    seeded = {}
    for seed in cfg['np_seeds']:
        from_state = torch.cat(get_class_masks(labels, np.random.RandomState(seed)))
        saved = np.random.get_state()
        try:
            np.random.seed(seed)
            from_global = torch.cat(get_class_masks(labels))
        finally:
            np.random.set_state(saved)
        assert torch.equal(from_state, from_global)
        seeded[f'np_seed{seed}'] = from_state
    _check(case, {'generate_class_mask': masks, 'one_mix': mixes, 'get_class_masks_np_seeded': seeded})


def check_denorm_renorm(case):
    from mmseg.models.utils.dacs_transforms import denorm, denorm_, get_mean_std, renorm, renorm_
    img, img01 = case['inputs']['img'], case['inputs']['img01']
    img_metas = [dict(img_norm_cfg=case['config']['img_norm_cfg']) for _ in range(img.shape[0])]
    mean, std = get_mean_std(img_metas, img.device)
    denorm_inplace = img.clone()
    denorm_(denorm_inplace, mean, std)
    renormed = img01.clone()
    renorm_(renormed, mean, std)
    assert_matches(renorm(img01, mean, std), case['outputs']['renorm_of_img01'], case['atol'], case['rtol'])
    denorm_of_renorm = renormed.clone()
    denorm_(denorm_of_renorm, mean, std)
    _check(case, {'mean': mean, 'std': std, 'denorm': denorm(img, mean, std), 'denorm_inplace': denorm_inplace,
                  'renorm_of_img01': renormed, 'denorm_of_renorm': denorm_of_renorm})


def check_rcs_class_probs(case):
    from mmseg.datasets.rare_class_sampling import get_rcs_class_probs
    inputs = case['inputs']
    actual = {}
    with tempfile.TemporaryDirectory() as root:
        (Path(root) / 'sample_class_stats.json').write_text(inputs['sample_class_stats_json'])
        for temperature in case['config']['temperatures']:
            classes, probs = get_rcs_class_probs(root, temperature)
            from_list = get_rcs_class_probs(json.loads(inputs['sample_class_stats_json']), temperature)
            assert from_list[0] == classes and np.array_equal(from_list[1], probs)
            actual[f'T{temperature}'] = {'classes': classes, 'probs': torch.from_numpy(probs)}
    _check(case, actual)


def check_feature_distance(case):
    from mmseg.models.uda.feature_distance import ImnetFeatureDistance, masked_feat_dist
    cfg, inputs = case['config'], case['inputs']
    gt, feat, feat_imnet = inputs['gt'].long(), inputs['feat_last'], inputs['feat_imnet_last']
    fd = ImnetFeatureDistance(cfg['imnet_feature_dist_lambda'], cfg['imnet_feature_dist_classes'],
                              cfg['imnet_feature_dist_scale_min_ratio'], cfg['num_classes'])
    feat_loss, log_vars = fd(feat, feat_imnet, gt)
    no_filter = ImnetFeatureDistance(cfg['imnet_feature_dist_lambda'], None, None, cfg['num_classes'])
    empty = torch.zeros(feat.shape[0], 1, *feat.shape[2:], dtype=torch.bool)
    _check(case, {
        'feat_loss': feat_loss,
        'log_vars': log_vars,
        'fdist_mask': fd.last_mask,
        'gt_rescaled': fd.last_gt_rescaled,
        'masked_feat_dist_nomask': masked_feat_dist(feat, feat_imnet),
        'masked_feat_dist_emptymask': masked_feat_dist(feat, feat_imnet, empty),
        'feat_loss_no_class_filter': no_filter(feat, feat_imnet, gt)[0],
    })


def check_pseudo_label_weight(case):
    from mmseg.models.uda.pseudo_label import pseudo_label_and_weight
    logits = case['inputs']['ema_logits']
    actual = {}
    for threshold, top, bottom in case['config']['settings']:
        result = pseudo_label_and_weight(logits, threshold, top, bottom)
        actual[f'thr{threshold}_top{top}_bottom{bottom}'] = {
            'pseudo_label': result.label, 'pseudo_prob': result.prob, 'pseudo_weight': result.weight,
            'fraction_confident': result.fraction}
    _check(case, actual)


class _TinyModule(nn.Module):
    """Parameters and buffers named as in the EMA case: scalar, lin (Linear 4->3), bn (BatchNorm1d 3)."""

    def __init__(self):
        super().__init__()
        self.scalar = nn.Parameter(torch.zeros(()))
        self.lin = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)


def _module(state):
    module = _TinyModule()
    assert list(module.state_dict()) == list(state), list(state)
    module.load_state_dict(state)
    return module


def _state(module):
    return {k: v.clone() for k, v in module.state_dict().items()}


def check_ema_update(case):
    from mmseg.models.uda.ema_teacher import init_ema_weights, update_ema
    inputs, cfg, outputs = case['inputs'], case['config'], case['outputs']
    student, teacher = _module(inputs['student_init']), _module(inputs['ema_before_init'])
    init_ema_weights(student, teacher)
    assert not any(p.requires_grad for p in teacher.parameters())
    actual = {'ema_after_init': _state(teacher), 'update_from_init': {}}
    for fused in (True, False):
        for it in cfg['iters']:
            teacher = _module(outputs['ema_after_init'])
            alpha = update_ema(_module(inputs['student_new']), teacher, it, cfg['alpha'], fused=fused)
            actual['update_from_init'][f'iter{it}'] = {'ema_state': _state(teacher), 'alpha_teacher': alpha}
        teacher = _module(outputs['ema_after_init'])
        actual['chain'] = []
        for it, student_state in zip(cfg['chain_iters'], inputs['chain_students']):
            update_ema(_module(student_state), teacher, it, cfg['alpha'], fused=fused)
            actual['chain'].append(_state(teacher))
        _check(case, actual)
