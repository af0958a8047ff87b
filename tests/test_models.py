"""Behaviour of the segmentation models beyond the golden cases: configs, inference modes, errors."""
import copy
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.structures import PixelData

import mmseg.models  # noqa: F401  (registers the models)
from mmseg.models.losses import CrossEntropyLoss
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

CONFIG_DIR = Path(__file__).resolve().parents[1] / 'configs' / '_base_' / 'models'
MIT_B0_WIDTHS = [32, 64, 160, 256]


def model_cfg(name: str = 'daformer_sepaspp_mitb5', backbone: str = 'mit_b0', **test_cfg) -> dict:
    """A model config of configs/_base_/models with a small backbone and no pretrained file."""
    cfg = Config.fromfile(str(CONFIG_DIR / f'{name}.py')).model.to_dict()
    cfg['pretrained'] = None
    cfg['backbone']['type'] = backbone
    if backbone == 'mit_b0':
        cfg['decode_head']['in_channels'] = MIT_B0_WIDTHS
    if test_cfg:
        cfg['test_cfg'] = test_cfg
    return cfg


@pytest.mark.parametrize('name', ['daformer_sepaspp_mitb5', 'daformer_conv1_mitb5', 'daformer_aspp_mitb5',
                                  'daformer_isa_mitb5', 'daformer_sepaspp_bottleneck_mitb5', 'segformer_mitb5'])
def test_decoder_variants_forward_and_backward(name):
    torch.manual_seed(0)
    model = MODELS.build(model_cfg(name)).train()
    img = torch.randn(2, 3, 64, 96)
    gt = torch.randint(0, 19, (2, 1, 64, 96))
    losses = model.forward_train(img, None, gt)
    losses['decode.loss_seg'].backward()
    assert torch.isfinite(losses['decode.loss_seg'])
    assert model.backbone.patch_embed1.proj.weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        assert model.encode_decode(img).shape == (2, 19, 64, 96)


def test_daformer_mitb5_builds_from_config_and_trains_at_512():
    """The final DAFormer (MiT-B5, 85.2M parameters) runs forward and backward at 512×512 on CPU."""
    cfg = Config.fromfile(str(CONFIG_DIR / 'daformer_sepaspp_mitb5.py'))
    cfg.model.pretrained = None
    model = MODELS.build(cfg.model).train()
    assert round(sum(p.numel() for p in model.parameters()) / 1e6, 1) == 85.2
    img = torch.randn(1, 3, 512, 512)
    gt = torch.randint(0, 19, (1, 1, 512, 512))
    losses = model.forward_train(img, None, gt, return_feat=True)
    assert [tuple(f.shape[1:]) for f in losses['features']] == [(64, 128, 128), (128, 64, 64), (320, 32, 32),
                                                                (512, 16, 16)]
    losses['decode.loss_seg'].backward()
    assert model.backbone.block3[39].mlp.fc2.weight.grad.abs().sum() > 0
    assert model.decode_head.fuse_layer.bottleneck.conv.weight.grad.abs().sum() > 0


def test_drop_path_schedule_and_layernorm_eps():
    backbone = MODELS.build(dict(type='mit_b5'))
    blocks = [blk for i in range(1, 5) for blk in getattr(backbone, f'block{i}')]
    probs = [getattr(blk.drop_path, 'drop_prob', 0.0) for blk in blocks]
    assert probs == pytest.approx(torch.linspace(0, 0.1, 52).tolist())
    assert blocks[0].norm1.eps == 1e-6 and backbone.norm4.eps == 1e-6
    assert backbone.patch_embed1.norm.eps == 1e-5 and blocks[0].attn.norm.eps == 1e-5


def test_sdpa_and_math_attention_agree_in_training_mode():
    torch.manual_seed(0)
    sdpa = MODELS.build(dict(type='mit_b0', attn_impl='sdpa', drop_path_rate=0.0)).train()
    math = MODELS.build(dict(type='mit_b0', attn_impl='math', drop_path_rate=0.0)).train()
    math.load_state_dict(sdpa.state_dict())
    img = torch.randn(2, 3, 64, 64)
    for a, b in zip(sdpa(img), math(img)):
        torch.testing.assert_close(a, b, atol=2e-5, rtol=1e-4)


def test_slide_inference_windows_and_batching():
    torch.manual_seed(0)
    cfg = model_cfg(mode='slide', crop_size=(64, 64), stride=(48, 48))
    model = MODELS.build(cfg).eval()
    assert model.slide_windows(64, 160) == [(0, 64, 0, 64), (0, 64, 48, 112), (0, 64, 96, 160)]
    img = torch.randn(1, 3, 64, 160)
    metas = [dict(ori_shape=(32, 80), img_shape=(64, 160), flip=False)]
    with torch.no_grad():
        single = model.inference(img, metas)
        model.test_cfg['batched_slide'] = True
        batched = model.inference(img, metas)
    assert single.shape == (1, 19, 32, 80)
    torch.testing.assert_close(single, batched, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(single.sum(dim=1), torch.ones(1, 32, 80))


def test_slide_with_one_window_equals_whole_inference():
    torch.manual_seed(0)
    model = MODELS.build(model_cfg(mode='slide', crop_size=(64, 64), stride=(32, 32))).eval()
    img = torch.randn(1, 3, 64, 64)
    metas = [dict(ori_shape=(64, 64), img_shape=(64, 64), flip=False)]
    with torch.no_grad():
        slide = model.inference(img, metas)
        model.test_cfg = dict(mode='whole')
        whole = model.inference(img, metas)
    torch.testing.assert_close(slide, whole)


def test_flipped_input_is_unflipped():
    torch.manual_seed(0)
    model = MODELS.build(model_cfg()).eval()
    img = torch.randn(1, 3, 64, 64)
    meta = dict(ori_shape=(64, 64), img_shape=(64, 64))
    with torch.no_grad():
        plain = model.inference(img, [dict(meta, flip=False)])
        flipped = model.inference(img.flip(3), [dict(meta, flip=True, flip_direction='horizontal')])
    assert not torch.allclose(plain, model.inference(img.flip(3), [dict(meta, flip=False)]))
    torch.testing.assert_close(plain, model.inference(img, [dict(meta, flip=False)]))
    assert flipped.shape == plain.shape


def test_cross_entropy_counts_ignored_pixels_unless_avg_non_ignore():
    logits = torch.randn(1, 3, 2, 2)
    label = torch.tensor([[[0, 1], [255, 255]]])
    per_pixel = torch.nn.functional.cross_entropy(logits, label, ignore_index=255, reduction='none')
    assert CrossEntropyLoss()(logits, label) == pytest.approx(per_pixel.sum().item() / 4)
    assert CrossEntropyLoss(avg_non_ignore=True)(logits, label) == pytest.approx(per_pixel.sum().item() / 2)
    weight = torch.tensor([[[0.5, 0.5], [1.0, 1.0]]])
    assert CrossEntropyLoss()(logits, label, weight=weight) == pytest.approx(0.5 * per_pixel.sum().item() / 4)


def test_mmengine_train_step_and_predict_with_data_preprocessor():
    """The Runner path: raw BGR uint8 images + SegDataSamples → preprocessor → loss → optimiser step."""
    torch.manual_seed(0)
    model = MODELS.build(model_cfg())
    images = [torch.randint(0, 256, (3, 48, 64), dtype=torch.uint8) for _ in range(2)]
    samples = []
    for _ in range(2):
        sample = SegDataSample(metainfo=dict(ori_shape=(48, 64), flip=False))
        sample.gt_sem_seg = PixelData(data=torch.randint(0, 19, (1, 48, 64)))
        samples.append(sample)
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=6e-4))
    first = model.train_step(dict(inputs=images, data_samples=copy.deepcopy(samples)), optim)
    assert set(first) >= {'loss', 'decode.loss_seg', 'decode.acc_seg'}
    for _ in range(5):
        last = model.train_step(dict(inputs=images, data_samples=copy.deepcopy(samples)), optim)
    assert last['loss'] < first['loss']
    predictions = model.val_step(dict(inputs=images, data_samples=copy.deepcopy(samples)))
    assert predictions[0].pred_sem_seg.data.shape == (1, 48, 64)
    assert predictions[0].seg_logits.data.shape == (19, 48, 64)


def test_preprocessor_pads_images_and_labels_and_normalises():
    pre = MODELS.build(dict(type='SegDataPreProcessor', size_divisor=32))
    img = torch.zeros(3, 40, 50, dtype=torch.uint8)
    img[2] = 255  # blue in BGR → last channel after the swap to RGB is first
    sample = SegDataSample(metainfo=dict(ori_shape=(40, 50)))
    sample.gt_sem_seg = PixelData(data=torch.zeros(1, 40, 50, dtype=torch.long))
    out = pre(dict(inputs=[img], data_samples=[sample]))
    assert out['inputs'].shape == (1, 3, 64, 64)
    assert out['inputs'][0, 0, 0, 0] == pytest.approx((255 - 123.675) / 58.395)
    assert out['inputs'][0, 1, 0, 0] == pytest.approx(-116.28 / 57.12)
    assert bool((out['inputs'][0, :, 40:, :] == 0).all())
    assert bool((out['data_samples'][0].gt_sem_seg.data[:, 40:, :] == 255).all())
    assert out['data_samples'][0].img_shape == (40, 50)


# ---- bad input --------------------------------------------------------------------------------
def test_wrong_channel_count_or_rank_names_the_tensor():
    backbone = MODELS.build(dict(type='mit_b0'))
    with pytest.raises(ValueError, match=r'expected a \(B, 3, H, W\) image tensor, got shape \(1, 4, 32, 32\)'):
        backbone(torch.randn(1, 4, 32, 32))
    with pytest.raises(ValueError, match=r'got shape \(3, 32, 32\)'):
        backbone(torch.randn(3, 32, 32))
    pre = MODELS.build(dict(type='SegDataPreProcessor'))
    with pytest.raises(ValueError, match=r'inputs\[0\] must be a \(3, H, W\) image'):
        pre(dict(inputs=[torch.zeros(1, 8, 8)]))


def test_wrong_label_or_weight_shape_is_named():
    model = MODELS.build(model_cfg())
    img = torch.randn(1, 3, 32, 32)
    with pytest.raises(ValueError, match='gt_semantic_seg: expected shape'):
        model.forward_train(img, None, torch.zeros(1, 32, 32, dtype=torch.long))
    with pytest.raises(ValueError, match='seg_weight: expected shape'):
        model.forward_train(img, None, torch.zeros(1, 1, 32, 32, dtype=torch.long), torch.ones(1, 1, 32, 32))


def test_missing_pretrained_file_says_where_to_get_it(tmp_path):
    cfg = model_cfg()
    cfg['pretrained'] = str(tmp_path / 'mit_b0.pth')
    model = MODELS.build(cfg)
    with pytest.raises(FileNotFoundError, match=r'(?s)mit_b0\.pth.*SegFormer'):
        model.init_weights()


def test_pretrained_weights_load_and_report_keys(tmp_path, caplog):
    torch.manual_seed(1)
    source = MODELS.build(dict(type='mit_b0')).state_dict()
    source['head.weight'] = torch.zeros(1000, 256)
    source['extra.weight'] = torch.zeros(1)
    path = tmp_path / 'mit_b0.pth'
    torch.save({'state_dict': source}, path)
    cfg = model_cfg()
    cfg['pretrained'] = str(path)
    model = MODELS.build(cfg)
    from mmseg.models.utils.pretrained import load_state_dict_checked, read_state_dict
    report = load_state_dict_checked(model.backbone, read_state_dict(path), str(path), ignore_prefixes=('head.', ))
    assert report.unexpected == ['extra.weight'] and report.missing == []
    model.init_weights()
    torch.testing.assert_close(model.backbone.block2[1].attn.kv.weight, source['block2.1.attn.kv.weight'])


def test_checkpoint_with_wrong_shapes_names_the_tensor(tmp_path):
    state = MODELS.build(dict(type='mit_b1')).state_dict()  # 64-wide stage 1, mit_b0 expects 32
    path = tmp_path / 'mit_b1.pth'
    torch.save(state, path)
    cfg = model_cfg()
    cfg['pretrained'] = str(path)
    with pytest.raises(ValueError, match=r'(?s)mit_b1\.pth.*patch_embed1\.proj\.weight: \(64, 3, 7, 7\) in the file, '
                                         r'\(32, 3, 7, 7\) expected'):
        MODELS.build(cfg).init_weights()


def test_head_channels_that_do_not_fit_the_backbone_are_named():
    cfg = model_cfg()
    cfg['backbone']['type'] = 'mit_b1'
    with pytest.raises(ValueError, match=r'model\.decode_head\.in_channels=\[32, 64, 160, 256\].*\[64, 128, 320, 512\]'):
        MODELS.build(cfg)


def test_unknown_layer_type_and_test_mode_are_rejected():
    cfg = model_cfg()
    cfg['decode_head']['decoder_params']['fusion_cfg'] = dict(type='transformer')
    with pytest.raises(ValueError, match="layer type 'transformer' is unknown"):
        MODELS.build(cfg)
    with pytest.raises(ValueError, match="test_cfg.mode='sliding'"):
        MODELS.build(model_cfg(mode='sliding'))
    with pytest.raises(ValueError, match='needs test_cfg.crop_size'):
        MODELS.build(model_cfg(mode='slide', stride=(32, 32)))
