"""The HRDA and MIC configs (configs/hrda/, configs/mic/, their tiny variants in configs/synth/): every one
loads and builds, carries the reference hyper-parameters (spec §4.4, §6.2, §8.5, §10.2), and the tiny
synthetic ones train two iterations and evaluate on CPU."""
import copy
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmseg.apis.train_config import runner_config
from mmseg.registry import DATASETS, MODELS
from mmseg.utils import register_all_modules

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIGS = REPO_ROOT / 'configs'
THINGS = [6, 7, 11, 12, 13, 14, 15, 16, 17, 18]
HR_BENCHMARKS = {  # prefix: (dataset base, name_dataset, pseudo-label margins, MIC mask mode, suffix)
    'gtaHR2csHR': ('uda_gtaHR_to_cityscapesHR_1024x1024', 'gtaHR2cityscapesHR_1024x1024', [30, 240, 30, 30],
                   'separatetrgaug', 'spta'),
    'synHR2csHR': ('uda_synthiaHR_to_cityscapesHR_1024x1024', 'synthiaHR2cityscapesHR_1024x1024',
                   [30, 240, 30, 30], 'separatetrgaug', 'spta'),
    'csHR2acdcHR': ('uda_cityscapesHR_to_acdcHR_1024x1024', 'cityscapesHR2acdcHR_1024x1024', None, 'separate', 'sep'),
    'csHR2dzurHR': ('uda_cityscapesHR_to_darkzurichHR_1024x1024', 'cityscapesHR2darkzurichHR_1024x1024', None,
                    'separate', 'sep'),
}
# (source resize, target resize = test resize) of spec §8.5
HR_SCALES = {'gtaHR2csHR': ((2560, 1440), (2048, 1024)), 'synHR2csHR': ((2560, 1520), (2048, 1024)),
             'csHR2acdcHR': ((2048, 1024), (1920, 1080)), 'csHR2dzurHR': ((2048, 1024), (1920, 1080))}
HRDA_CONFIGS = [f'hrda/{prefix}_hrda.py' for prefix in HR_BENCHMARKS]
MIC_HRDA_CONFIGS = [f'mic/{prefix}_mic_hrda.py' for prefix in HR_BENCHMARKS]
MIC_DAFORMER = 'mic/gta2cs_mic_daformer.py'
DAFORMER_GTA = 'daformer/gta2cs_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0.py'
SYNTH_CONFIGS = ['synth/synth_gta2cs_hrda.py', 'synth/synth_gta2cs_mic_hrda.py', 'synth/synth_gta2cs_mic.py']
MIC_UDA_KEYS = ('mask_mode', 'mask_alpha', 'mask_pseudo_threshold', 'mask_lambda', 'mask_generator')
TWO_ITERATIONS = {
    'train_cfg.max_iters': 2, 'train_cfg.val_interval': 2, 'param_scheduler.0.max_iters': 2,
    'param_scheduler.0.end': 2, 'param_scheduler.0.warmup_iters': 1, 'default_hooks.checkpoint.interval': 2,
    'default_hooks.logger.interval': 1, 'train_dataloader.batch_size': 2, 'train_dataloader.num_workers': 0,
    'train_dataloader.persistent_workers': False, 'val_dataloader.num_workers': 0,
    'val_dataloader.persistent_workers': False, 'uda.debug_img_interval': 0}


@pytest.fixture(scope='module', autouse=True)
def mmseg_scope():
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmseg'):
        yield


def load(path: str) -> Config:
    return Config.fromfile(str(CONFIGS / path))


def synthetic_pair(root: Path, *size: str) -> Path:
    """A tiny synthetic GTA / Cityscapes pair written and converted by tools/make_synthetic_data.py."""
    command = [sys.executable, 'tools/make_synthetic_data.py', '--out-dir', str(root), '--num', '8',
               '--num-target-train', '2', '--num-val', '1', '--nproc', '1']
    if size:
        command += ['--size', *size]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return root


@pytest.fixture(scope='module')
def synthetic_data(tmp_path_factory) -> Path:
    return synthetic_pair(tmp_path_factory.mktemp('synthetic'))


@pytest.mark.parametrize('path', HRDA_CONFIGS + MIC_HRDA_CONFIGS + [MIC_DAFORMER] + SYNTH_CONFIGS)
def test_config_loads_and_builds(path):
    cfg = load(path)
    runner_cfg = runner_config(cfg)
    with torch.device('meta'):
        model = MODELS.build(runner_cfg.model)
    assert type(model).__name__ == 'DACS' and model.max_iters == cfg.train_cfg.max_iters
    hrda = 'hrda' in path
    assert type(model.get_model()).__name__ == ('HRDAEncoderDecoder' if hrda else 'EncoderDecoder')
    if hrda:
        assert type(model.get_model().decode_head).__name__ == 'HRDAHead'
    assert (model.mic is not None) == ('mic' in path)
    # FD (the frozen ImageNet model) on MiT-B5, not on the tiny network (no ImageNet weights exist)
    assert (model.imnet_model is not None) == (not path.startswith('synth/'))
    dataset = cfg.train_dataloader.dataset
    assert dataset.type == 'UDADataset' and dataset.source.type and dataset.target.type
    assert cfg.name == Path(path).stem + {'hrda': '_s1', 'mic': '_s2' if hrda else '_s0'}.get(path.split('/')[0], '')


def test_hrda_model_is_the_merged_reference_config():
    """configs/hrda/gtaHR2csHR_hrda.py resolved, spec §4.4."""
    model = load('hrda/gtaHR2csHR_hrda.py').model
    assert model.type == 'HRDAEncoderDecoder' and model.pretrained == 'pretrained/mit_b5.pth'
    assert model.backbone == dict(type='mit_b5', style='pytorch')
    assert model.scales == [1, 0.5] and list(model.hr_crop_size) == [512, 512]
    assert (model.feature_scale, model.crop_coord_divisible) == (0.5, 8)
    assert model.hr_slide_inference is True and model.get('hr_slide_overlapping', True) is True
    assert model.get('blur_hr_crop', False) is False
    assert model.test_cfg == dict(mode='slide', batched_slide=True, stride=[512, 512], crop_size=[1024, 1024])
    head = model.decode_head
    assert (head.type, head.single_scale_head, head.attention_classwise) == ('HRDAHead', 'DAFormerHead', True)
    assert (head.hr_loss_weight, head.lr_loss_weight, head.attention_embed_dim) == (0.1, 0, 256)
    assert head.get('fixed_attention') is None and head.get('debug_output_attention', False) is False
    assert (head.in_channels, head.in_index, head.channels) == ([64, 128, 320, 512], [0, 1, 2, 3], 256)
    assert (head.dropout_ratio, head.num_classes, head.align_corners) == (0.1, 19, False)
    fusion = head.decoder_params.fusion_cfg
    assert (fusion.type, fusion.sep, tuple(fusion.dilations), fusion.pool) == ('aspp', True, (1, 6, 12, 18), False)
    # The built head: the DAFormer head per scale and a second DAFormer head with a 1x1 fusion for the
    # class-wise attention; the segmentor injects the sorted scales.
    with torch.device('meta'):
        built = MODELS.build(model)
    assert built.scales == [0.5, 1] and built.decode_head.scales == [0.5, 1]
    assert built.decode_head.enable_hr_crop and built.decode_head.hr_slide_inference
    assert type(built.decode_head.head).__name__ == type(built.decode_head.scale_attention).__name__ == 'DAFormerHead'
    assert built.decode_head.scale_attention.conv_seg.out_channels == 19


@pytest.mark.parametrize('prefix', list(HR_BENCHMARKS))
def test_hrda_training_settings(prefix):
    """Spec §4.3, §4.4, §8.5, §10.2 (IDs 40 and 49)."""
    base, name_dataset, margins, _, _ = HR_BENCHMARKS[prefix]
    cfg = load(f'hrda/{prefix}_hrda.py')
    assert cfg.randomness.seed == 1 and cfg.name == f'{prefix}_hrda_s1' and cfg.exp == 'basic'
    assert cfg.name_dataset == name_dataset and cfg.name_encoder == 'mitb5'
    assert cfg.name_architecture == 'hrda1-512-0.1_daformer_sepaspp_sl_mitb5'
    assert cfg.name_decoder == 'hrda1-512-0.1_daformer_sepaspp_sl'
    assert cfg.name_uda == 'dacs_a999_fdthings_rcs0.01-2.0' + ('_cpl2' if margins else '')
    assert cfg.name_opt == 'adamw_6e-05_pmTrue_poly10warm_1x2_40k'
    assert (cfg.n_gpus, cfg.gpu_model) == (1, 'NVIDIATITANRTX')
    # DACS a999 + FD on thing classes (on the context features), no row cut
    uda = cfg.uda
    assert (uda.type, uda.alpha, uda.pseudo_threshold, uda.mix, uda.blur) == ('DACS', 0.999, 0.968, 'class', True)
    assert (uda.imnet_feature_dist_lambda, uda.imnet_feature_dist_classes) == (0.005, THINGS)
    assert uda.imnet_feature_dist_scale_min_ratio == 0.75 and cfg.model.feature_scale == 0.5
    assert (uda.pseudo_weight_ignore_top, uda.pseudo_weight_ignore_bottom) == (0, 0)
    assert uda.mask_mode is None
    # data: 1024x1024 crops at twice the DAFormer resolution, batch 2, one worker, RCS min_crop_ratio 2.0
    assert tuple(cfg.crop_size) == (1024, 1024)
    loader = cfg.train_dataloader
    # 4 train-loader processes for a 90 ms iteration (the reference: 1), validation keeps the reference's 1
    assert (loader.batch_size, loader.num_workers, cfg.val_dataloader.num_workers) == (2, 4, 1)
    assert loader.pin_memory
    assert loader.dataset.rare_class_sampling == dict(min_pixels=3000, class_temp=0.01, min_crop_ratio=2.0)
    assert loader.dataset.target.get('crop_pseudo_margins') == margins
    assert 'crop_pseudo_margins' not in cfg.val_dataloader.dataset
    source_scale, target_scale = HR_SCALES[prefix]
    steps = {t.type: t for t in loader.dataset.source.pipeline}
    assert tuple(steps['Resize'].scale) == source_scale and steps['Resize'].keep_ratio
    assert tuple(steps['RandomCrop'].crop_size) == (1024, 1024) and steps['RandomCrop'].cat_max_ratio == 0.75
    steps = {t.type: t for t in loader.dataset.target.pipeline}
    assert tuple(steps['Resize'].scale) == target_scale and 'cat_max_ratio' not in steps['RandomCrop']
    test_steps = {t.type: t for t in cfg.val_dataloader.dataset.pipeline}
    assert tuple(test_steps['Resize'].scale) == target_scale and 'RandomFlip' not in test_steps
    assert cfg.test_dataloader == cfg.val_dataloader
    assert cfg.val_evaluator.get('with_miou16', False) == (prefix == 'synHR2csHR')
    # schedule: AdamW 6e-5 (head x10, no decay on norms), poly10warm, 40k iterations, 10 evaluations
    assert cfg.optim_wrapper.optimizer == dict(type='AdamW', lr=6e-05, betas=(0.9, 0.999), weight_decay=0.01)
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys == dict(
        head=dict(lr_mult=10.0), pos_block=dict(decay_mult=0.0), norm=dict(decay_mult=0.0))
    assert cfg.param_scheduler[0].warmup_iters == 1500 and cfg.param_scheduler[0].end == 40000
    assert (cfg.train_cfg.max_iters, cfg.train_cfg.val_interval) == (40000, 4000)
    assert cfg.default_hooks.checkpoint.interval == 40000
    # the same as the GTA config up to the data and the names
    gta = load('hrda/gtaHR2csHR_hrda.py')
    assert cfg.model == gta.model and cfg.uda == gta.uda and cfg.optim_wrapper == gta.optim_wrapper


@pytest.mark.parametrize('prefix', list(HR_BENCHMARKS))
def test_mic_hrda_is_the_hrda_config_plus_masking(prefix):
    """Spec §6.2 and §10.2 (ID 80): block 64, ratio 0.7, the shared teacher, seed 2."""
    _, _, margins, mode, suffix = HR_BENCHMARKS[prefix]
    mic, hrda = load(f'mic/{prefix}_mic_hrda.py').to_dict(), load(f'hrda/{prefix}_hrda.py').to_dict()
    assert {key: mic['uda'][key] for key in MIC_UDA_KEYS} == dict(
        mask_mode=mode, mask_alpha='same', mask_pseudo_threshold='same', mask_lambda=1,
        mask_generator=dict(type='block', mask_ratio=0.7, mask_block_size=64))
    assert mic['randomness'] == dict(seed=2) and mic['name'] == f'{prefix}_mic_hrda_s2'
    assert mic['name_uda'] == f'dacs_a999_fdthings_rcs0.01-2.0{"_cpl2" if margins else ""}_m64-0.7-{suffix}'
    mic_uda, hrda_uda = mic.pop('uda'), hrda.pop('uda')
    assert {k: v for k, v in mic_uda.items() if k not in MIC_UDA_KEYS} == \
        {k: v for k, v in hrda_uda.items() if k not in MIC_UDA_KEYS}
    for key in ('randomness', 'name', 'name_uda'):
        mic.pop(key), hrda.pop(key)
    assert mic == hrda  # model, data, schedule, runtime and the other metadata


def test_mic_daformer_is_the_daformer_config_plus_masking():
    """MIC on DAFormer at 512x512 (spec §10.2 ID 81): block size halved to 32, ratio 0.7, separatetrgaug."""
    mic, daformer = load(MIC_DAFORMER).to_dict(), load(DAFORMER_GTA).to_dict()
    assert {key: mic['uda'][key] for key in MIC_UDA_KEYS} == dict(
        mask_mode='separatetrgaug', mask_alpha='same', mask_pseudo_threshold='same', mask_lambda=1,
        mask_generator=dict(type='block', mask_ratio=0.7, mask_block_size=32))
    assert (mic['uda']['pseudo_weight_ignore_top'], mic['uda']['pseudo_weight_ignore_bottom']) == (15, 120)
    assert mic['model'] == daformer['model'] and mic['model']['test_cfg'] == dict(mode='whole')
    assert mic['train_dataloader']['dataset'] == daformer['train_dataloader']['dataset']
    assert mic['train_dataloader']['dataset']['rare_class_sampling']['min_crop_ratio'] == 0.5
    assert (mic['train_dataloader']['num_workers'], mic['val_dataloader']['num_workers']) == (6, 1)
    assert mic['name'] == 'gta2cs_mic_daformer_s0' and mic['randomness'] == dict(seed=0)
    assert mic['name_uda'] == 'dacs_a999_fdthings_rcs0.01_cpl_m32-0.7-spta'
    assert mic['gpu_model'] == 'NVIDIAGeForceRTX2080Ti'


def test_target_only_hr_data_config():
    cfg = load('_base_/datasets/cityscapesHR_1024x1024.py')
    steps = [t.type for t in cfg.train_dataloader.dataset.pipeline]
    assert steps == ['LoadImageFromFile', 'LoadAnnotations', 'Resize', 'RandomCrop', 'RandomFlip',
                     'PhotoMetricDistortion', 'PackSegInputs']
    assert tuple(cfg.train_dataloader.dataset.pipeline[2].scale) == (2048, 1024)
    assert tuple(cfg.val_dataloader.dataset.pipeline[1].scale) == (2048, 1024)


def test_hr_target_gets_the_margin_mask_before_the_crop(tmp_path):
    """The Cityscapes-HR target of the GTA/SYNTHIA configs on generated 512x1024 images (resized x2 to
    1024x2048): the top 2*30 and bottom 2*240 rows of every 1024x1024 crop are masked (spec §5.4)."""
    data = synthetic_pair(tmp_path / 'hr', '512', '1024')
    target = copy.deepcopy(load('hrda/gtaHR2csHR_hrda.py').train_dataloader.dataset.target)
    target.data_root = str(data / 'cityscapes')
    sample = DATASETS.build(target)[0]
    assert sample['inputs'].shape == (3, 1024, 1024)
    mask = sample['data_samples'].valid_pseudo_mask.data
    assert mask.shape == (1, 1024, 1024) and mask.dtype == torch.uint8
    assert mask[0, :60].max() == 0 and mask[0, 544:].max() == 0
    assert mask[0, 60:544, 60:-60].min() == 1  # a 1024-wide crop never reaches both side margins


def test_synthetic_variants_are_the_tiny_dacs_config_plus_hrda_or_mic():
    dacs = load('synth/synth_gta2cs_dacs_rcs.py').to_dict()
    for path in SYNTH_CONFIGS:
        cfg = load(path).to_dict()
        assert cfg['train_dataloader'] == dacs['train_dataloader'] and cfg['randomness'] == dacs['randomness']
        assert cfg['optim_wrapper'] == dacs['optim_wrapper'] and cfg['train_cfg'] == dacs['train_cfg']
        assert cfg['model']['backbone'] == dacs['model']['backbone']
        if 'hrda' in path:
            model = cfg['model']
            assert model['type'] == 'HRDAEncoderDecoder' and model['scales'] == [1, 0.5]
            assert model['hr_crop_size'] == [64, 64] and model['crop_coord_divisible'] == 8
            assert model['feature_scale'] == 0.5 and model['hr_slide_inference'] is True
            assert model['test_cfg'] == dict(mode='slide', batched_slide=True, stride=[64, 64], crop_size=[128, 128])
            assert model['decode_head']['hr_loss_weight'] == 0.1
            assert model['decode_head']['attention_classwise'] is True
        else:
            assert cfg['model'] == dacs['model']
        if 'mic' in path:
            assert cfg['uda']['mask_mode'] == 'separatetrgaug' and cfg['uda']['mask_lambda'] == 1
            assert cfg['uda']['mask_generator'] == dict(type='block', mask_ratio=0.7, mask_block_size=16)
            assert 128 % cfg['uda']['mask_generator']['mask_block_size'] == 0
        else:
            assert cfg['uda']['mask_mode'] is None


@pytest.mark.parametrize('path', SYNTH_CONFIGS)
def test_synthetic_config_trains_two_iterations_and_evaluates(path, synthetic_data, tmp_path):
    cfg = load(path)
    gta, cityscapes = str(synthetic_data / 'gta'), str(synthetic_data / 'cityscapes')
    cfg.merge_from_dict(dict(TWO_ITERATIONS, work_dir=str(tmp_path / 'run'), **{
        'train_dataloader.dataset.source.data_root': gta, 'train_dataloader.dataset.target.data_root': cityscapes,
        'val_dataloader.dataset.data_root': cityscapes}))
    runner = Runner.from_cfg(runner_config(cfg))
    runner.train()
    assert runner.iter == 2 and (tmp_path / 'run' / 'iter_2.pth').is_file()
    assert 0 <= runner.message_hub.get_scalar('val/mIoU').current() <= 100
    logged = set(runner.message_hub.log_scalars)
    expected = {'train/decode.loss_seg', 'train/mix.decode.loss_seg'}
    if 'hrda' in path:  # the detail-crop loss of every student forward
        expected |= {'train/decode.hr.loss_seg', 'train/mix.decode.hr.loss_seg'}
        assert runner.model.get_model().test_cfg['mode'] == 'slide'
    if 'mic' in path:
        expected |= {'train/masked.decode.loss_seg'}
    assert expected <= logged
    assert ('train/masked.decode.loss_seg' in logged) == ('mic' in path)
    assert ('train/decode.hr.loss_seg' in logged) == ('hrda' in path)
