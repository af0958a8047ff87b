"""DACS with an HRDA student (spec §5.3, §5.4, §5.7): detail losses, FD per feature scale, the pseudo-label
margin mask, and MIC."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData

from mmseg.models.uda.dacs import valid_pseudo_mask
from mmseg.models.utils.downscale_label_ratio import downscale_label_ratio
from mmseg.models.utils.hr_crop import crop
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from tests.test_dacs import DACS_CFG, MIC, _batch, _optim, _recorded_student_calls, _seed
from tests.test_hrda import hrda_cfg

SIZE = 128
THINGS = [6, 7, 11, 12, 13, 14, 15, 16, 17, 18]
MARGINS = (8, 24, 4, 12)  # top, bottom, left, right


def _hrda_dacs(feature_scale=0.5, **overrides):
    """DACS around a small HRDA (detail crop 64 of 128² images), FD on, no row cut."""
    _seed()
    cfg = dict(copy.deepcopy(DACS_CFG), model=hrda_cfg(hr_crop_size=[SIZE // 2, SIZE // 2],
                                                       feature_scale=feature_scale),
               pseudo_weight_ignore_top=0, pseudo_weight_ignore_bottom=0)
    cfg.update(overrides)
    return MODELS.build(cfg).train()


def _hrda_batch(seed=0, margins=None):
    """Source labels of thing class 13 but for random top rows (so every scale has FD cells); with
    ``margins`` the target samples carry the margin mask."""
    data = _batch(seed, SIZE)
    g = torch.Generator().manual_seed(seed)
    for sample in data['data_samples']:
        label = torch.full((1, SIZE, SIZE), 13, dtype=torch.long)
        label[:, :SIZE // 8] = torch.randint(0, 19, (1, SIZE // 8, SIZE), generator=g)
        sample.gt_sem_seg = PixelData(data=label)
    if margins is not None:
        for sample in data['target_data_samples']:
            sample.valid_pseudo_mask = PixelData(data=_margin_mask(margins))
    return data


def _margin_mask(margins):
    top, bottom, left, right = margins
    mask = torch.zeros((1, SIZE, SIZE), dtype=torch.uint8)
    mask[:, top:SIZE - bottom, left:SIZE - right] = 1
    return mask


def _source(dacs, data):
    source = dacs.data_preprocessor(dict(inputs=data['inputs'], data_samples=data['data_samples']), True)
    return source['inputs'], torch.stack([s.gt_sem_seg.data for s in source['data_samples']]).long()


def _record_source_forward(dacs):
    """Record the features and detail box of the student's first (source) forward."""
    record = {}
    forward_train = dacs.model.forward_train

    def recording(*args, **kwargs):
        losses = forward_train(*args, **kwargs)
        if not record:
            features = losses['features']
            record['features'] = [[f.detach().clone() for f in scale] for scale in features] \
                if isinstance(features[0], list) else [f.detach().clone() for f in features]
            record['box'] = dacs.model.last_train_crop_box
        return losses

    dacs.model.forward_train = recording
    return record


def _fd(feat, feat_imnet, gt):
    """The reference FD of one scale by hand: mean L2 distance over cells >= 75 % of one thing class."""
    gt_down = downscale_label_ratio(gt, gt.shape[-1] // feat.shape[-1], 0.75, 19, 255)
    mask = sum(gt_down == c for c in THINGS).bool().squeeze(1)
    assert mask.any()
    return (feat - feat_imnet).pow(2).sum(dim=1).sqrt()[mask].mean()


@pytest.mark.parametrize('feature_scale', [0.5, 'all'])
def test_iteration_logs_the_detail_losses_and_a_finite_feature_distance(feature_scale):
    dacs = _hrda_dacs(feature_scale)
    logs = dacs.train_step(_hrda_batch(), _optim(dacs))
    expected = {'decode.loss_seg', 'decode.hr.loss_seg', 'mix.decode.loss_seg', 'mix.decode.hr.loss_seg',
                'src.loss_imnet_feat_dist'}
    assert expected <= set(logs)
    assert all(torch.isfinite(logs[key]) for key in expected)


def test_feature_distance_uses_the_context_features_and_the_downscaled_imagenet_input():
    dacs = _hrda_dacs(0.5)
    data = _hrda_batch()
    record = _record_source_forward(dacs)
    logs = dacs.train_step(data, _optim(dacs))
    img, gt = _source(dacs, data)
    feat = record['features'][-1]
    assert feat.shape == (2, 256, 2, 2)  # last stage of the 64² context input
    with torch.no_grad():
        context = F.interpolate(img, scale_factor=0.5, mode='bilinear', align_corners=False)
        feat_imnet = dacs.imnet_model.extract_unscaled_feat(context)[-1]
    torch.testing.assert_close(logs['src.loss_imnet_feat_dist'], 0.005 * _fd(feat, feat_imnet, gt))


def test_feature_distance_over_all_scales_is_the_sum_of_the_cropped_per_scale_distances():
    dacs = _hrda_dacs('all')
    data = _hrda_batch()
    record = _record_source_forward(dacs)
    logs = dacs.train_step(data, _optim(dacs))
    img, gt = _source(dacs, data)
    box = record['box']
    assert box is not None and dacs.imnet_model.last_train_crop_box is None  # the box is passed, not shared
    context_feat, detail_feat = (scale[-1] for scale in record['features'])
    assert context_feat.shape == detail_feat.shape == (2, 256, 2, 2)
    with torch.no_grad():
        context = F.interpolate(img, scale_factor=0.5, mode='bilinear', align_corners=False)
        context_imnet = dacs.imnet_model.extract_unscaled_feat(context)[-1]
        detail_imnet = dacs.imnet_model.extract_unscaled_feat(crop(img, box))[-1]
    expected = _fd(context_feat, context_imnet, gt) + _fd(detail_feat, detail_imnet, crop(gt, box))
    torch.testing.assert_close(logs['src.loss_imnet_feat_dist'], 0.005 * expected)


def test_feature_distance_settings_the_reference_cannot_compute_are_rejected():
    with pytest.raises(ValueError, match="feature_scale='all' needs imnet_feature_dist_classes"):
        _hrda_dacs('all', imnet_feature_dist_classes=None, imnet_feature_dist_scale_min_ratio=None)
    with pytest.raises(ValueError, match='detail scale'):
        _hrda_dacs(1)


def test_pseudo_weight_is_zero_in_the_margins_and_q_elsewhere_also_for_mic():
    dacs = _hrda_dacs(imnet_feature_dist_lambda=0, pseudo_threshold=0.06, **MIC)
    calls, logs = _recorded_student_calls(dacs, _hrda_batch(margins=MARGINS))
    (_, _, _), (_, _, mixed_weight), (_, _, masked_weight) = calls
    valid = _margin_mask(MARGINS).bool().expand(2, -1, -1)
    q = float(masked_weight[valid][0])
    assert 0 < q < 1
    assert torch.equal(masked_weight, valid.float() * q)  # MIC: the un-mixed weight, margins cut
    assert set(mixed_weight[~valid].unique().tolist()) <= {0., 1.}  # source pixels 1, target margin pixels 0
    assert set(mixed_weight[valid].unique().tolist()) <= {q, 1.}
    assert bool((mixed_weight[~valid] == 0).any())
    assert {'masked.decode.loss_seg', 'masked.decode.hr.loss_seg'} <= set(logs)
    assert torch.isfinite(logs['masked.decode.hr.loss_seg'])


def test_margin_mask_and_the_row_cut_are_exclusive():
    dacs = _hrda_dacs(imnet_feature_dist_lambda=0, pseudo_weight_ignore_top=4)
    with pytest.raises(ValueError, match='must be 0 when a valid_pseudo_mask is used'):
        dacs.train_step(_hrda_batch(margins=MARGINS), _optim(dacs))


def test_margin_masks_are_stacked_and_zero_padded_to_the_batch_size():
    samples = [SegDataSample(), SegDataSample()]
    assert valid_pseudo_mask(dict(inputs=torch.zeros(2, 3, 4, 6), data_samples=samples)) is None
    samples[0].valid_pseudo_mask = PixelData(data=torch.ones((1, 4, 6), dtype=torch.uint8))
    with pytest.raises(ValueError, match='only some target samples'):
        valid_pseudo_mask(dict(inputs=torch.zeros(2, 3, 4, 6), data_samples=samples))
    samples[1].valid_pseudo_mask = PixelData(data=torch.ones((1, 3, 5), dtype=torch.uint8))
    mask = valid_pseudo_mask(dict(inputs=torch.zeros(2, 3, 4, 6), data_samples=samples))
    assert mask.shape == (2, 1, 4, 6) and mask.dtype == torch.uint8
    assert int(mask[0].sum()) == 24 and int(mask[1].sum()) == 15 and int(mask[1, 0, 3:, :].sum()) == 0
