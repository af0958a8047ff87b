"""EBDA's second benchmark, Cityscapes -> Foggy + Rain Cityscapes: the configs (DAFormer and EBDA with EBDA's
recipe, experiment 91), the synthetic pair's fog + rain variant (the generator's renderings, experiment 201, tiny
configs that train two iterations and evaluate each target)."""
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from PIL import Image

import experiments
from experiments import generate_experiment_cfgs
from mmseg.apis.train_config import runner_config
from mmseg.registry import DATASETS, MODELS
from mmseg.utils import register_all_modules
from run_experiments import moved_data_roots
from tests.test_experiments import METADATA, configs_root, load  # noqa: F401,F811  (configs_root: a fixture)
from tests.test_hrda_mic_configs import TWO_ITERATIONS, synthetic_pair
from tools import make_synthetic_data, synthetic_weather

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIGS = REPO_ROOT / 'configs'
FINAL = 'cs2foggyrain_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0.py'
SYNTH = {'dacs_rcs0.01': 'synth_gta2foggyrain_dacs_rcs.py', 'dacs_eb_rcs0.01': 'synth_gta2foggyrain_ebda.py'}


@pytest.fixture(scope='module', autouse=True)
def mmseg_scope():
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmseg'):
        yield


@pytest.mark.parametrize('folder', ['daformer', 'ebda'])
def test_benchmark_configs_use_the_ebda_recipe_on_both_targets(folder):
    cfg = Config.fromfile(str(CONFIGS / folder / FINAL))
    with torch.device('meta'):
        model = MODELS.build(runner_config(cfg).model)
    assert type(model).__name__ == 'DACS' and model.max_iters == 50000
    # EBDA: the base's entropy balancing, the reference's second stochastic forward included
    assert cfg.uda.get('entropy_balance') == (dict(target=0.4, weight=0.1, second_forward=True) if folder == 'ebda'
                                              else None)
    assert (cfg.uda.alpha, cfg.uda.imnet_feature_dist_lambda) == (0.999, 0.005)
    assert (cfg.uda.pseudo_weight_ignore_top, cfg.uda.pseudo_weight_ignore_bottom) == (15, 120)
    loader = cfg.train_dataloader
    assert (loader.batch_size, loader.num_workers, cfg.val_dataloader.num_workers) == (1, 8, 8)
    assert (cfg.train_cfg.max_iters, cfg.train_cfg.val_interval) == (50000, 2000)
    assert cfg.default_hooks.checkpoint.save_best == 'mIoU'
    assert loader.dataset.rare_class_sampling == dict(min_pixels=3000, class_temp=0.01, min_crop_ratio=0.5)
    target = loader.dataset.target
    assert (target.type, list(target.targets), target.sampling) == ('MultiTargetDataset', ['foggy', 'rain'], 'union')
    assert target.targets.foggy.type == 'FoggyCityscapesDataset' and target.targets.foggy.beta == 0.02
    assert target.targets.rain.type == 'RainCityscapesDataset' and 'seg_map_path' not in target.targets.rain.data_prefix
    assert [step.type for step in target.pipeline] == ['LoadImageFromFile', 'Resize', 'RandomCrop', 'RandomFlip',
                                                       'PackSegInputs']
    val = cfg.val_dataloader.dataset
    assert {name: t.data_prefix.to_dict() for name, t in val.targets.items()} == dict(
        foggy=dict(img_path='leftImg8bit_foggy/val', seg_map_path='gtFine/val'),
        rain=dict(img_path='leftImg8bit_rain/val', seg_map_path='gtFine/val'))
    assert cfg.val_evaluator.type == cfg.test_evaluator.type == 'MultiTargetIoUMetric'
    assert cfg.name_dataset == 'cityscapes2foggyrain' and cfg.name_opt == 'adamw_6e-05_pmTrue_poly10warm_1x1_50k'


def test_experiment_91_generates_the_hand_written_configs(configs_root):
    generated = generate_experiment_cfgs(91)
    assert [cfg['name'] for cfg in generated] == [
        f'cs2foggyrain_{uda}_rcs001_cpl_daformer_sepaspp_mitb5_poly10warm_s{seed}'
        for uda in ('dacs_a999_fdthings', 'dacs_a999_fdthings_eb') for seed in (0, 1, 2)]
    for cfg, folder in ((generated[0], 'daformer'), (generated[3], 'ebda')):
        final = Config.fromfile(str(CONFIGS / folder / FINAL)).to_dict()
        loaded = load(cfg, configs_root).to_dict()
        assert {key: loaded.pop(key) for key in METADATA if key not in ('name', 'exp')} == {
            key: final.pop(key) for key in METADATA if key not in ('name', 'exp')}
        for key in ('name', 'exp'):
            loaded.pop(key), final.pop(key)
        assert loaded == final, folder


def test_experiment_201_and_91_on_the_synthetic_pair_use_its_fog_and_rain_targets(configs_root):
    generated = generate_experiment_cfgs(201)
    assert len(generated) == 6
    for cfg in generated[::3]:
        uda = cfg['name_uda']
        assert cfg['name'] == (f'synthetic_gta2foggyrain_128x128_{uda.replace(".", "")}_daformer_conv1_mit_tiny_'
                               'synth_adamw_2k_00006_pmF_s0')
        written = Config.fromfile(str(CONFIGS / 'synth' / SYNTH[uda])).to_dict()
        loaded = load(cfg, configs_root).to_dict()
        for key in ('model', 'train_dataloader', 'val_dataloader', 'val_evaluator', 'train_cfg', 'param_scheduler',
                    'optim_wrapper'):
            assert loaded[key] == written[key], (uda, key)
        assert loaded['uda'] == dict(written['uda'], debug_img_interval=1000), uda
    ebda = load(generated[3], configs_root)
    assert ebda.uda.entropy_balance == dict(target=0.4, weight=0.1, second_forward=True)
    synth = generate_experiment_cfgs(91, data='synth')
    assert {cfg['_base_'][2] for cfg in synth} == {'_base_/datasets/uda_synthetic_gta_to_foggyrain_128x128.py'}
    assert experiments.on_synthetic_pair(experiments.EBDA_RECIPE).target == 'cityscapes'  # ACDC: the plain pair


def test_fog_and_rain_renderings_follow_the_depth():
    image = np.full((64, 64, 3), 40, np.uint8)
    depth = np.tile(np.linspace(5, 500, 64)[:, None], (1, 64))
    depth[:4] = np.inf  # sky
    fogged = synthetic_weather.fog(image, depth, 0.02).astype(float)
    expected = 40 * np.exp(-0.02 * depth) + synthetic_weather.ATMOSPHERIC_LIGHT * (1 - np.exp(-0.02 * depth))
    np.testing.assert_allclose(fogged[..., 0], np.round(expected), atol=0.5)
    assert (fogged[:4] == 220).all() and fogged[-1, 0, 0] > fogged[20, 0, 0] > fogged[4, 0, 0]  # farther: lighter
    assert (synthetic_weather.fog(image, depth, 0.005) <= synthetic_weather.fog(image, depth, 0.02)).all()
    heavy = synthetic_weather.rain(image, depth, 0.03, 0.015, 0.002, 3).astype(float)
    light = synthetic_weather.rain(image, depth, 0.01, 0.005, 0.01, 3).astype(float)
    veil = synthetic_weather.veil(image, depth, 0.015)[..., 0]
    streaks = heavy[..., 0] > np.round(veil) + 1
    assert 0.02 < streaks.mean() < 0.5  # thin streaks over a part of the image
    assert np.array_equal(synthetic_weather.streak_pattern(3, 0.01, 64, 64),
                          synthetic_weather.streak_pattern(3, 0.01, 64, 64))  # a pattern id is a fixed texture
    assert not np.array_equal(synthetic_weather.streak_pattern(3, 0.01, 64, 64),
                              synthetic_weather.streak_pattern(4, 0.01, 64, 64))
    assert heavy.mean() > light.mean()


@pytest.fixture(scope='module')
def weather_pair(tmp_path_factory) -> Path:
    return synthetic_pair(tmp_path_factory.mktemp('synthetic'))


def generator_settings(root: Path) -> make_synthetic_data.Settings:
    """The settings of a generated synthetic pair, from its generator.json."""
    recorded = json.loads((root / 'generator.json').read_text())
    return make_synthetic_data.Settings(seed=recorded['seed'], height=recorded['size'][0], width=recorded['size'][1],
                                        num_source=recorded['num_source'],
                                        num_target_train=recorded['num_target_train'], num_val=recorded['num_val'],
                                        shift=recorded['shift'])


def test_generator_renders_fog_and_rain_of_each_target_image_with_its_label(weather_pair):
    cityscapes = weather_pair / 'cityscapes'
    for split in ('train', 'val'):
        clear = sorted((cityscapes / 'leftImg8bit' / split).rglob('*_leftImg8bit.png'))
        prefix = dict(seg_map_path=f'gtFine/{split}')
        common = dict(data_root=str(cityscapes), clear_img_dir=f'leftImg8bit/{split}')
        for beta in synthetic_weather.FOG_BETAS:
            foggy = DATASETS.build(dict(type='FoggyCityscapesDataset', beta=beta, **common,
                                        data_prefix=dict(prefix, img_path=f'leftImg8bit_foggy/{split}')))
            assert len(foggy) == len(clear)
        rain = DATASETS.build(dict(type='RainCityscapesDataset', **common,
                                   data_prefix=dict(prefix, img_path=f'leftImg8bit_rain/{split}')))
        assert len(rain) == len(clear)
    # the val image 0 under fog and rain: the clear image through the scene's depth
    task = (make_synthetic_data.TARGET, 'val', 0)
    image_path, _ = make_synthetic_data.task_paths(str(weather_pair), task)
    image = np.asarray(Image.open(image_path))
    depth = make_synthetic_data.scene_depth(*make_synthetic_data.scene_label(generator_settings(weather_pair), task))
    assert np.isinf(depth).any() and np.isfinite(depth).any()  # sky and street
    paths = make_synthetic_data.weather_paths(str(weather_pair), task)
    for beta in synthetic_weather.FOG_BETAS:
        np.testing.assert_array_equal(np.asarray(Image.open(paths[f'fog {beta:g}'])),
                                      synthetic_weather.fog(image, depth, beta))
    assert paths['rain'].endswith('_leftImg8bit_rain_alpha_0.01_beta_0.005_dropsize_0.01_pattern_1.png')
    np.testing.assert_array_equal(np.asarray(Image.open(paths['rain'])),
                                  synthetic_weather.rain(image, depth, 0.01, 0.005, 0.01, 1))


def test_generator_adds_the_renderings_to_a_data_set_made_without_them(weather_pair, tmp_path):
    copy = tmp_path / 'synthetic'
    shutil.copytree(weather_pair, copy)
    renderings = sorted(p.relative_to(copy) for folder in ('leftImg8bit_foggy', 'leftImg8bit_rain')
                        for p in (copy / 'cityscapes' / folder).rglob('*.png'))
    assert len(renderings) == 4 * 3  # 3 fog β + 1 rain for each of the 3 target images
    for folder in ('leftImg8bit_foggy', 'leftImg8bit_rain'):
        shutil.rmtree(copy / 'cityscapes' / folder)
    (copy / 'cityscapes' / 'leftImg8bit_foggy' / 'val').mkdir(parents=True)
    assert make_synthetic_data.generate(generator_settings(copy), str(copy))  # True: files were added
    for relative in renderings:
        assert (copy / relative).read_bytes() == (weather_pair / relative).read_bytes()


def test_synthetic_ebda_config_trains_two_iterations_and_evaluates_each_target(weather_pair, tmp_path):
    """EBDA (the DACS + RCS config plus entropy balancing, both equal to experiment 201's members above)."""
    cfg = Config.fromfile(str(CONFIGS / 'synth' / SYNTH['dacs_eb_rcs0.01']))
    cfg.merge_from_dict(dict(TWO_ITERATIONS, work_dir=str(tmp_path / 'run')))
    cfg.merge_from_dict(moved_data_roots(cfg, weather_pair))
    runner = Runner.from_cfg(runner_config(cfg))
    runner.train()
    assert runner.iter == 2 and (tmp_path / 'run' / 'iter_2.pth').is_file()
    hub = runner.message_hub
    foggy, rain = hub.get_scalar('val/foggy/mIoU').current(), hub.get_scalar('val/rain/mIoU').current()
    assert hub.get_scalar('val/mIoU').current() == pytest.approx((foggy + rain) / 2, abs=0.0051)
    assert 'train/mix.entropy' in hub.log_scalars
