"""Checkers for the ``cdda_*`` golden cases (CDDA reference, see the golden README section "CDDA cases")."""
import os
import tempfile

import cv2
import numpy as np
import pytest
import torch

from tests.golden_utils import assert_matches

LAYOUT_OF_DEPTH_TYPE = {0: 'cityscapes', 1: 'same_name', 2: 'same_name'}


def _check(case, actual, expected=None):
    assert_matches(actual, case['outputs'] if expected is None else expected, case['atol'], case['rtol'])


def _guidance(bank, dataset, rw, rl, decay=0.0025, **flags):
    from mmseg.models.uda.depth_guidance import DepthGuidance
    from mmseg.models.uda.depth_similarity import DepthBank
    return DepthGuidance(dataset, rw, rl, decay, bank=(DepthBank(bank), None), **flags)


def check_depth_load(case):
    from mmseg.datasets.transforms import LoadDepthMap, RandomCrop, RandomFlip, Resize
    from mmseg.datasets.transforms.depth_loading import DEPTH_MAP, depth_file_name, pad_depth
    cfg, inputs = case['config'], case['inputs']
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, array, dtype in (('raw', inputs['raw_depth_png'], np.uint8), ('lut', inputs['lut_png'], np.uint8),
                                   ('u16', inputs['raw_depth_png_uint16'], np.uint16)):
            paths[name] = os.path.join(tmp, f'{name}.png')
            cv2.imwrite(paths[name], array.numpy().astype(dtype))

        def load(name, **kwargs):
            return LoadDepthMap(**kwargs)(dict(depth_path=paths[name]))[DEPTH_MAP]

        with pytest.raises(ValueError, match='u16.png.*uint16'):
            load('u16')
        raw_h, raw_w = inputs['raw_depth_png'].shape
        results = dict(depth_path=paths['raw'], img=np.zeros((raw_h, raw_w, 3), np.uint8), ori_shape=(raw_h, raw_w))
        results = LoadDepthMap()(results)
        depth = results[DEPTH_MAP].copy()
        h, w = cfg['resize_hw']
        results = Resize(scale=(w, h), keep_ratio=False)(results)
        resized = results[DEPTH_MAP].copy()
        results = RandomCrop(crop_size=(1, 1)).crop_to(results, tuple(cfg['crop_bbox']))
        cropped = results[DEPTH_MAP].copy()
        results = RandomFlip(prob=1.0, direction=cfg['flip_direction'])(results)
        flipped = results[DEPTH_MAP].copy()
        padded = pad_depth(torch.from_numpy(flipped), tuple(cfg['pad_hw']))
        assert cfg['seg_pad_val'] == 255
        file_names = {}
        for key in case['outputs']['file_names']:
            depth_type, img_name = key.split(':', 1)
            layout = LAYOUT_OF_DEPTH_TYPE[int(depth_type[len('depth_type'):])]
            file_names[key] = os.path.join('data/x/depth_any/train', depth_file_name(img_name, layout))
        _check(case, dict(lut=torch.from_numpy(load('lut')).flatten(), depth=torch.from_numpy(depth),
                          depth_uint16_png=torch.from_numpy(load('u16', legacy_16bit=True)),
                          resized=torch.from_numpy(resized), cropped=torch.from_numpy(cropped),
                          flipped=torch.from_numpy(flipped.copy()), padded=padded, bins=padded.long(),
                          file_names=file_names))


def check_bank_write(case):
    from mmseg.datasets.cdda_bank import write_bank_crops
    cfg, inputs = case['config'], case['inputs']
    batch = cfg['samples_per_gpu']
    with tempfile.TemporaryDirectory() as tmp:
        index = cfg['count_start'] + 1
        for start in range(0, inputs['src_imgs'].shape[0], batch):
            stop = start + batch
            index = write_bank_crops(tmp, index, inputs['src_imgs'][start:stop], inputs['src_gts'][start:stop].long(),
                                     inputs['src_deps'][start:stop], cfg['mean'], cfg['std'])
        read = {key: [torch.from_numpy(cv2.imread(os.path.join(tmp, key, f'{i}.png'), cv2.IMREAD_UNCHANGED))
                      for i in range(index)] for key in ('images', 'labels', 'depth')}
        _check(case, dict(read, file_index=list(range(index)), final_count=index - 1))


def check_depth_distribution(case):
    from mmseg.datasets.cdda_bank import count_crop_files
    cfg, inputs = case['config'], case['inputs']
    with tempfile.TemporaryDirectory() as tmp:
        for key, name in (('label_png', 'labels'), ('depth_png', 'depth')):
            os.makedirs(os.path.join(tmp, name))
            for i, array in enumerate(inputs[key]):
                cv2.imwrite(os.path.join(tmp, name, f'{i}.png'), array.numpy())
        counts = count_crop_files(tmp, cfg['nums'], cfg['cls_num'], cfg['bins'])
    _check(case, dict(distribution=counts))


def _similarity_dict(sim):
    return dict(tgt_matrix_num=sim.target_counts, tgt_matrix=sim.target_hist, total_cls_cos=sim.class_cos,
                total_simi_cos=sim.hist_cos, total_simi_num=sim.count_l1, total_simi=sim.class_sim, total=sim.total,
                absent_mask=sim.absent, max_idx=sim.best, most_simi=sim.best_sim, tgt_cls_num=sim.num_present,
                total_mean=sim.score)


def check_similarity(case):
    from mmseg.models.uda.depth_similarity import DepthBank, count_matrix, similarities
    inputs = case['inputs']
    label, depth = inputs['pseudo_label'].long(), inputs['depth']
    counts = torch.stack([count_matrix(label[i], depth[i]) for i in range(label.shape[0])])
    sims = similarities(DepthBank(inputs['bank']), counts)
    _check(case, dict(per_image=[_similarity_dict(sim) for sim in sims]))


def _run_step(case, setting, **flags):
    inputs = case['inputs']
    depth = case['outputs'][setting['name']].get('depth_used', inputs['depth'])
    guidance = _guidance(inputs['bank'], setting['dataset'], setting['rw'], setting['rl'], setting['threshold_decay'],
                         **flags)
    label = inputs['pseudo_label'].long()
    fraction = inputs['ps_large_p'].float().mean().double()
    prob = torch.where(inputs['ps_large_p'], torch.tensor(0.99), torch.tensor(0.5))
    assert torch.equal(torch.ones_like(prob) * fraction.float(), inputs['pseudo_weight'])
    return guidance, label, prob, fraction, depth


def _settings(case):
    settings = list(case['config']['settings'])
    names = {s['name'] for s in settings}
    for name in case['outputs']:  # variants of a setting (e.g. *_gatefail) reuse its parameters
        if name not in names:
            base = next(s for s in settings if name.startswith(s['name']))
            settings.append(dict(base, name=name))
    return settings


def check_reweight(case):
    from mmseg.models.uda.depth_guidance import SKIPPED_CLASSES, reweight
    from mmseg.models.uda.depth_similarity import count_matrix, similarities
    actual, expected = {}, {}
    for setting in _settings(case):
        guidance, label, prob, fraction, depth = _run_step(case, setting)
        out = case['outputs'][setting['name']]
        assert guidance.thresholds(setting['local_iter']) == (setting['rw'], setting['rl'])
        step = guidance.step(setting['local_iter'], label, prob, fraction, depth)
        counts = torch.stack([count_matrix(label[i], depth[i]) for i in range(label.shape[0])])
        sims = similarities(guidance.bank('cpu'), counts)
        full, _ = reweight(torch.ones_like(prob) * fraction.float(), label, prob >= 0.968, sims, setting['rw'],
                           SKIPPED_CLASSES[setting['dataset']], legacy_row0_mask=False)
        actual[setting['name']] = dict(pseudo_weight=step.weight, new_src_img_idx=step.bank_index,
                                       fullmask_variant_pseudo_weight=full)
        expected[setting['name']] = {k: v for k, v in out.items() if k != 'depth_used'}
    _check(case, actual, expected)


def check_relabel(case):
    from mmseg.models.uda.depth_guidance import relabel
    from mmseg.models.uda.depth_similarity import count_matrix, similarities
    actual, expected = {}, {}
    for setting in _settings(case):
        guidance, label, prob, fraction, depth = _run_step(case, setting)
        out = case['outputs'][setting['name']]
        expected[setting['name']] = {k: v for k, v in out.items()
                                     if k not in ('depth_used', 'shifted_image', 'shifted_class', 'shifted_pixels')}
        counts = torch.stack([count_matrix(label[i], depth[i]) for i in range(label.shape[0])])
        bank = guidance.bank('cpu')
        result = relabel(label, depth, similarities(bank, counts), bank, setting['rl'], 19)
        step = guidance.step(setting['local_iter'], label, prob, fraction, depth)
        assert (step.soft_target is not None) == (result.fire and result.soft_target is not None)
        got = dict(relabel_loss_flag=result.fire, returned_none=result.soft_target is None, batch_msg=result.messages,
                   gate_per_class=[list(g) for g in result.gates], new_src_img_idx=step.bank_index)
        if result.soft_target is not None:
            one_hot = torch.nn.functional.one_hot(label, 19).float().permute(0, 3, 1, 2)
            changed = [k for k in range(19) if not torch.equal(result.soft_target[:, k], one_hot[:, k])]
            got['changed_channels'] = changed
            got['changed_channel_values'] = torch.stack([result.soft_target[:, k] for k in changed]) if changed \
                else torch.zeros(0)
            got['tgt_pseudo_weight'] = guidance.guidance_weight * torch.ones_like(prob) * fraction.float()
        actual[setting['name']] = got
    _check(case, actual, expected)
    # the fixes: the bin-based gate injects the last class of *_gatefail too, and any injected class fires
    setting = next(s for s in _settings(case) if s['name'].endswith('_gatefail'))
    guidance, label, prob, fraction, depth = _run_step(case, setting)
    counts = torch.stack([count_matrix(label[i], depth[i]) for i in range(label.shape[0])])
    bank = guidance.bank('cpu')
    fixed = relabel(label, depth, similarities(bank, counts), bank, setting['rl'], 19,
                    legacy_exact_depth_gate=False, legacy_last_class_flag=False)
    assert fixed.fire and all(gate for _, _, gate in fixed.gates)
    flag_only = relabel(label, depth, similarities(bank, counts), bank, setting['rl'], 19,
                        legacy_last_class_flag=False)
    assert flag_only.fire and not flag_only.gates[-1][2]


def check_guidance_loss(case):
    from mmseg.models.uda.depth_guidance import fix_soft_target, guidance_loss
    inputs = case['inputs']
    label = inputs['pseudo_label'].long()
    soft = torch.nn.functional.one_hot(label, 19).float().permute(0, 3, 1, 2).contiguous()
    for k, values in zip(inputs['changed_channels'], inputs['changed_channel_values']):
        soft[:, k] = values
    loss, pixel_ce = guidance_loss(inputs['logits'], soft, inputs['tgt_pseudo_weight'])
    entry = fix_soft_target(soft).gather(1, label[:, None])[:, 0]
    _check(case, dict(loss=loss, pixel_ce=pixel_ce, pseudo_entry_after_fixup=entry,
                      min_pseudo_entry_after_fixup=float(entry.min())))


def check_image_replacement(case):
    from mmseg.datasets.cdda_bank import CropBank
    from mmseg.models.uda.depth_guidance import replace_sources
    cfg, inputs = case['config'], case['inputs']
    with tempfile.TemporaryDirectory() as tmp:
        for key, name in (('bank_images_png', 'images'), ('bank_labels_png', 'labels')):
            os.makedirs(os.path.join(tmp, name))
            for i, array in enumerate(inputs[key]):
                cv2.imwrite(os.path.join(tmp, name, f'{i}.png'), array.numpy())
        bank = CropBank(tmp, require_meta=False)
        ori_img, ori_gt = inputs['ori_imgs'].clone(), inputs['ori_segs'].long()
        imgs, annos = replace_sources(ori_img, ori_gt, inputs['new_src_img_idx'], bank.crop,
                                      torch.tensor(cfg['mean']), torch.tensor(cfg['std']))
    assert torch.equal(ori_img, inputs['ori_imgs'])  # the originals stay for the source loss and FD
    _check(case, dict(imgs=imgs, annos=annos))


def check_threshold_schedule(case):
    from mmseg.models.uda.depth_guidance import DepthGuidance
    from mmseg.models.uda.depth_similarity import DepthBank
    bank = (DepthBank(torch.zeros(1, 19, 256)), None)
    actual, expected = {}, dict(case['outputs'])
    for name, cfg in case['config'].items():
        guidance = DepthGuidance(**cfg, bank=bank)
        values = [guidance.thresholds(t) for t in case['inputs']['iters']]
        actual[name] = dict(reweight_threshold=torch.tensor([v[0] for v in values], dtype=torch.float64),
                            relabel_threshold=torch.tensor([v[1] for v in values], dtype=torch.float64))
        # the function of t equals the reference's state after one call per iteration
        legacy = DepthGuidance(**cfg, bank=bank, legacy_threshold_state=True)
        state = [legacy.thresholds(t) for t in range(max(case['inputs']['iters']) + 1)]
        assert all(abs(state[t][j] - values[k][j]) < 1e-12
                   for k, t in enumerate(case['inputs']['iters']) for j in (0, 1))
    quirk = [k for k in expected if k.startswith('quirk_calls_')]
    for name in quirk:
        cfg = case['config']['gta_daformer']
        legacy = DepthGuidance(**cfg, bank=bank, legacy_threshold_state=True)
        for t in (int(v) for v in name[len('quirk_calls_'):].split('_')):
            thresholds = legacy.thresholds(t)
        actual[name] = dict(reweight_threshold=thresholds[0], relabel_threshold=thresholds[1])
    _check(case, actual, expected)
