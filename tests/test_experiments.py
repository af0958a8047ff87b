"""experiments.py: the configs of every experiment ID load as run_experiments writes them, build, and carry
the reference names and hyper-parameters (spec §10.1, §10.2)."""
import copy
import math
import pickle
import re
from collections import defaultdict
from pathlib import Path
from typing import Dict, List

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import experiments
from experiments import MissingComponentsError, generate_experiment_cfgs
from mmseg.apis.train_config import runner_config
from mmseg.datasets.rare_class_sampling import get_rcs_class_probs
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules

CONFIGS = Path(__file__).resolve().parents[1] / 'configs'
GENERATED_IDS = [5, 6, 7, 8, 90, 100, 101, 200]
METADATA = ('name', 'exp', 'name_dataset', 'name_architecture', 'name_encoder', 'name_decoder', 'name_uda', 'name_opt')
THINGS = [6, 7, 11, 12, 13, 14, 15, 16, 17, 18]
DAFORMER_FUSIONS = ['daformer_conv1', 'daformer_isa', 'daformer_sepaspp_bottleneck', 'daformer_aspp',
                    'daformer_sepaspp']
FINAL_UDA = 'dacs_a999_fdthings_rcs001_cpl_daformer_sepaspp_mitb5_poly10warm'  # the final DAFormer's generated name
UDA_SUFFIX = '_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0.py'  # the hand-written final configs


@pytest.fixture(scope='module', autouse=True)
def mmseg_scope():
    register_all_modules(init_default_scope=False)
    with DefaultScope.overwrite_default_scope('mmseg'):
        yield


@pytest.fixture(scope='module')
def configs_root(tmp_path_factory) -> Path:
    """A configs/ folder whose _base_ is the repository's, for configs/generated/<exp>/<run>.py."""
    root = tmp_path_factory.mktemp('repo') / 'configs'
    root.mkdir()
    (root / '_base_').symlink_to(CONFIGS / '_base_', target_is_directory=True)
    return root


@pytest.fixture(scope='module')
def generated() -> Dict[int, List[dict]]:
    return {exp_id: generate_experiment_cfgs(exp_id) for exp_id in GENERATED_IDS}


def load(cfg: dict, configs_root: Path) -> Config:
    """``cfg`` written as run_experiments writes it (``_base_`` prefixed with ``../../``), then loaded."""
    folder = configs_root / 'generated' / f'local-exp{cfg["exp"]}'
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f'{cfg["name"]}.py'
    written = dict(cfg, _base_=['../../' + base for base in cfg['_base_']])
    path.write_text(''.join(f'{key} = {value!r}\n' for key, value in written.items()))
    return Config.fromfile(str(path))


def by_name(cfgs: List[dict]) -> Dict[str, dict]:
    return {cfg['name']: cfg for cfg in cfgs}


def without_seed(cfg: dict) -> dict:
    return {key: value for key, value in cfg.items() if key not in ('name', 'randomness')}


@pytest.mark.parametrize('exp_id', GENERATED_IDS)
def test_every_generated_config_loads_and_builds(exp_id, generated, configs_root):
    cfgs = generated[exp_id]
    assert cfgs and all(cfg['exp'] == exp_id for cfg in cfgs)
    assert len(by_name(cfgs)) == len(cfgs)  # unique names
    # Seeds: [0] for the start-up tests, else [0, 1, 2]; runs of one configuration differ only in the seed.
    seeds = defaultdict(list)
    for cfg in cfgs:
        stem, seed = cfg['name'].rsplit('_s', 1)
        assert int(seed) == cfg['randomness']['seed']
        seeds[stem].append(cfg)
    for runs in seeds.values():
        assert [run['randomness']['seed'] for run in runs] == ([0] if exp_id in (100, 101) else [0, 1, 2])
        assert all(without_seed(run) == without_seed(runs[0]) for run in runs)
    for cfg in (runs[0] for runs in seeds.values()):
        loaded = load(cfg, configs_root)
        assert {key: loaded[key] for key in METADATA} == {key: cfg[key] for key in METADATA}
        runner_cfg = runner_config(loaded)
        assert runner_cfg.train_cfg.max_iters == cfg['train_cfg']['max_iters']
        with torch.device('meta'):
            model = MODELS.build(runner_cfg.model)
        if cfg['name_uda'] == 'target-only':
            assert type(model).__name__ == 'EncoderDecoder' and 'uda' not in loaded
            assert loaded.train_dataloader.dataset.type == 'CityscapesDataset'
        else:
            assert type(model).__name__ == 'DACS' and model.max_iters == cfg['train_cfg']['max_iters']
            dataset = loaded.train_dataloader.dataset
            assert dataset.type == 'UDADataset' and dataset.source.type and dataset.target.type


def test_final_configs_are_generated_as_written_by_hand(generated, configs_root):
    """IDs 6 (last fusion), 7, 8 and 90 give the hand-written final configs up to the name and metadata."""
    cases = {
        'daformer/gta2cs': by_name(generated[6])[f'gta2cs_{FINAL_UDA}_s0'],
        'daformer/syn2cs': generated[7][0],
        'daformer/cs2acdc': by_name(generated[8])[f'cs2acdc_{FINAL_UDA}_s0'],
        'daformer/cs2dzur': by_name(generated[8])[f'cs2dzur_{FINAL_UDA}_s0'],
        'ebda/cs2acdc': generated[90][0],
    }
    for key, cfg in cases.items():
        folder, prefix = key.split('/')
        final = Config.fromfile(str(CONFIGS / folder / f'{prefix}{UDA_SUFFIX}')).to_dict()
        generated_cfg = load(cfg, configs_root).to_dict()
        for metadata_key in METADATA:
            final.pop(metadata_key)
            generated_cfg.pop(metadata_key)
        assert generated_cfg == final, key
        assert cfg['name_uda'] == ('dacs_a999_fdthings_eb_rcs0.01_cpl' if folder == 'ebda' else
                                   'dacs_a999_fdthings_rcs0.01_cpl')
    # EBDA regenerates name_opt (the hand-written config keeps the stale 1x2_40k of DAFormer).
    assert generated[90][0]['name_opt'] == 'adamw_6e-05_pmTrue_poly10warm_1x1_50k'


def test_rcs_fd_ablation_has_the_table_5_variants(generated, configs_root):
    seed0 = [cfg for cfg in generated[5] if cfg['randomness']['seed'] == 0]
    assert [cfg['name_uda'] for cfg in seed0] == [
        'dacs_rcsinf', 'dacs_rcs0.01', 'dacs_fd', 'dacs_fdthings', 'dacs_fdthings_rcs0.01',
        'dacs_a999_fdthings_rcs0.01_cpl']
    assert seed0[0]['name'] == 'gta2cs_dacs_rcsinf_segformer_mitb5_poly10warm_s0'
    assert seed0[-1]['name'] == 'gta2cs_dacs_a999_fdthings_rcs001_cpl_segformer_mitb5_poly10warm_s0'
    assert {cfg['name_architecture'] for cfg in seed0} == {'segformer_mitb5'}
    assert {cfg['name_opt'] for cfg in seed0} == {'adamw_6e-05_pmTrue_poly10warm_1x2_40k'}
    # (alpha, FD lambda, FD classes, FD min ratio, plcrop top/bottom, RCS temperature)
    expected = [
        (0.99, 0, None, None, (0, 0), experiments.RCS_UNIFORM_TEMP),
        (0.99, 0, None, None, (0, 0), 0.01),
        (0.99, 0.005, None, None, (0, 0), None),
        (0.99, 0.005, THINGS, 0.75, (0, 0), None),
        (0.99, 0.005, THINGS, 0.75, (0, 0), 0.01),
        (0.999, 0.005, THINGS, 0.75, (15, 120), 0.01),
    ]
    for cfg, values in zip(seed0, expected):
        loaded = load(cfg, configs_root)
        uda, dataset = loaded.uda, loaded.train_dataloader.dataset
        rcs = dataset.get('rare_class_sampling')
        assert (uda.alpha, uda.imnet_feature_dist_lambda, uda.imnet_feature_dist_classes,
                uda.imnet_feature_dist_scale_min_ratio, (uda.pseudo_weight_ignore_top, uda.pseudo_weight_ignore_bottom),
                rcs and rcs.class_temp) == values, cfg['name']
        if rcs:
            assert (rcs.min_pixels, rcs.min_crop_ratio) == (3000, 0.5)
        assert loaded.model.decode_head.type == 'SegFormerHead' and loaded.model.backbone.type == 'mit_b5'
        assert loaded.optim_wrapper.optimizer.lr == 6e-5 and loaded.optim_wrapper.paramwise_cfg.custom_keys == dict(
            head=dict(lr_mult=10.0), pos_block=dict(decay_mult=0.0), norm=dict(decay_mult=0.0))
        assert (loaded.train_dataloader.batch_size, loaded.train_dataloader.num_workers) == (2, 4)
        assert (loaded.train_cfg.max_iters, loaded.train_cfg.val_interval) == (40000, 4000)
    # The DeepLabV2-R101 member waits for its components.
    assert {(name[-2:], missing) for name, missing in experiments.UNSUPPORTED_MEMBERS[5]} == {
        (f's{seed}', ('ResNet', 'DeepLabV2')) for seed in (0, 1, 2)}
    assert experiments.UNSUPPORTED_MEMBERS[5][0].name == \
        'gta2cs_dacs_a999_fdthings_rcs001_cpl_dlv2red_r101v1c_poly10warm_s0'


def test_base_variable_references_survive_copies_and_are_written_bare():
    dataset = generate_experiment_cfgs(7)[0]['train_dataloader']['dataset']
    for copied in (copy.deepcopy(dataset), pickle.loads(pickle.dumps(dataset))):
        assert copied == dataset and repr(copied['source']) == '{{_base_.source_dataset}}'
    assert repr(dataset['target']) == '{{_base_.target_dataset}}'


def test_uniform_rcs_temperature_gives_the_infinite_temperature_probabilities():
    stats = [{'0': 5_000_000, '13': 300_000, 'file': 'a'}, {'0': 1_000_000, '12': 2_000, '18': 40, 'file': 'b'}]
    classes, probs = get_rcs_class_probs(stats, experiments.RCS_UNIFORM_TEMP)
    inf_classes, inf_probs = get_rcs_class_probs(stats, math.inf)
    assert classes == inf_classes and np.array_equal(probs, inf_probs)
    assert np.all(probs == np.float32(1 / 4))


def test_decoder_study_has_the_daformer_fusions_with_and_without_uda(generated, configs_root):
    seed0 = [cfg for cfg in generated[6] if cfg['randomness']['seed'] == 0]
    assert [(cfg['name_decoder'], cfg['name_uda']) for cfg in seed0] == [
        (decoder, uda) for decoder in DAFORMER_FUSIONS for uda in ('dacs_a999_fdthings_rcs0.01_cpl', 'target-only')]
    fusions = {cfg['name_decoder']: load(cfg, configs_root).model for cfg in seed0[::2]}
    assert {name: model.decode_head.decoder_params.fusion_cfg.type for name, model in fusions.items()} == {
        'daformer_conv1': 'conv', 'daformer_isa': 'isa', 'daformer_sepaspp_bottleneck': 'conv',
        'daformer_aspp': 'aspp', 'daformer_sepaspp': 'aspp'}
    assert fusions['daformer_sepaspp_bottleneck'].neck.type == 'SegFormerAdapter'
    assert not fusions['daformer_aspp'].decode_head.decoder_params.fusion_cfg.sep
    target_only = load(seed0[1], configs_root)
    assert seed0[1]['name'] == 'gta2cs_target-only_daformer_conv1_mitb5_poly10warm_s0'
    assert target_only.train_dataloader.dataset.data_prefix.img_path == 'leftImg8bit/train'
    assert (target_only.train_dataloader.batch_size, target_only.train_cfg.max_iters) == (2, 40000)
    assert {missing for _, missing in experiments.UNSUPPORTED_MEMBERS[6]} == {('UperNet', )}
    assert len(experiments.UNSUPPORTED_MEMBERS[6]) == 2 * 2 * 3  # upernet, upernet_ch256 x 2 UDA x 3 seeds


def test_synthia_and_adverse_condition_experiments(generated, configs_root):
    assert [cfg['name'] for cfg in generated[7]] == [f'syn2cs_{FINAL_UDA}_s{seed}' for seed in (0, 1, 2)]
    synthia = load(generated[7][0], configs_root)
    assert synthia.val_evaluator == dict(type='IoUMetric', with_miou16=True)
    assert synthia.train_dataloader.dataset.source.type == 'SynthiaDataset'
    assert generated[7][0]['name_dataset'] == 'synthia2cityscapes'
    assert [(cfg['name_dataset'], cfg['randomness']['seed']) for cfg in generated[8]] == [
        (dataset, seed) for dataset in ('cityscapes2acdc', 'cityscapes2darkzurich') for seed in (0, 1, 2)]
    for cfg, target in zip(generated[8][::3], ('ACDCDataset', 'DarkZurichDataset')):
        loaded = load(cfg, configs_root)
        assert loaded.train_dataloader.dataset.source.type == 'CityscapesDataset'
        assert loaded.train_dataloader.dataset.target.type == target and loaded.val_dataloader.dataset.type == target
        assert (loaded.uda.pseudo_weight_ignore_top, loaded.uda.pseudo_weight_ignore_bottom) == (15, 120)


def test_startup_tests_run_two_iterations_with_seed_0(generated, configs_root):
    architectures = [cfg['name_architecture'] for cfg in generated[100]]
    assert architectures == ['segformer_mitb5', 'segformer_mitb3', 'segformer_mitb4'] + [
        f'{fusion}_mitb5' for fusion in DAFORMER_FUSIONS]
    assert {cfg['name_uda'] for cfg in generated[100]} == {'target-only'}
    mitb3 = load(generated[100][1], configs_root)
    assert (mitb3.model.backbone.type, mitb3.model.pretrained) == ('mit_b3', 'pretrained/mit_b3.pth')
    assert len(experiments.UNSUPPORTED_MEMBERS[100]) == 12
    assert ('ResNeSt', 'DeepLabV2') in {missing for _, missing in experiments.UNSUPPORTED_MEMBERS[100]}
    assert [cfg['name_uda'] for cfg in generated[101]] == [
        'target-only', 'dacs_srconly', 'dacs_srconly_aug', 'dacs_rcsinf', 'dacs_fd', 'dacs_fdthings',
        'dacs_fdthings_rcs0.01', 'dacs_a999_fdthings_rcs0.01_cpl', 'dacs_a999_fdthings_eb_rcs0.01_cpl']
    assert not experiments.UNSUPPORTED_MEMBERS[101]
    for cfg in (generated[100][0], generated[101][-1]):
        loaded = load(cfg, configs_root)
        assert (loaded.train_cfg.max_iters, loaded.train_cfg.val_interval) == (2, 100)
        scheduler, = loaded.param_scheduler
        assert (scheduler.max_iters, scheduler.end, scheduler.warmup_iters) == (2, 2, 1500)
        assert cfg['name_opt'] == 'adamw_6e-05_pmTrue_poly10warm_1x2_0k'
    assert load(generated[101][-1], configs_root).uda.entropy_balance == dict(target=0.4, weight=0.1,
                                                                              second_forward=False)


def test_synthetic_experiment_uses_the_cpu_benchmark_setup(generated, configs_root):
    seed0 = [cfg for cfg in generated[200] if cfg['randomness']['seed'] == 0]
    assert [cfg['name'] for cfg in seed0] == [
        f'synthetic_gta2cs_128x128_{uda}_daformer_conv1_mit_tiny_synth_adamw_2k_00006_pmF_s0'
        for uda in ('dacs_srconly', 'dacs', 'dacs_rcs001', 'dacs_eb_rcs001')]
    assert {cfg['name_opt'] for cfg in seed0} == {'adamw_0.0006_pmFalse_synth_adamw_2k_1x8_2k'}
    assert len(generated[200]) == 12
    for cfg in seed0:
        loaded = load(cfg, configs_root)
        assert loaded.uda.imnet_feature_dist_lambda == 0 and loaded.uda.alpha == 0.99  # no FD on the tiny model
        assert loaded.train_dataloader.dataset.source.data_root == 'data/synthetic/gta/'
        assert (loaded.train_dataloader.batch_size, loaded.train_cfg.max_iters, loaded.train_cfg.val_interval) == (
            8, 2000, 2000)
        assert loaded.optim_wrapper.optimizer.lr == 6e-4 and loaded.param_scheduler[0].warmup_iters == 100
        assert 'head' not in loaded.optim_wrapper.paramwise_cfg.custom_keys
    rcs = load(seed0[2], configs_root).train_dataloader.dataset.rare_class_sampling
    assert rcs == dict(min_pixels=30, class_temp=0.01, min_crop_ratio=0.5)
    assert load(seed0[0], configs_root).uda.source_only
    assert load(seed0[3], configs_root).uda.entropy_balance == dict(target=0.4, weight=0.1, second_forward=False)


@pytest.mark.parametrize('exp_id, missing', [
    (1, 'ResNet, DeepLabV2, DANet, ISANet, DeepLabV3+'),
    (2, 'ResNet, DeepLabV3+'),
    (3, 'ResNet, ResNeSt, DeepLabV2'),
    (4, 'ResNet, DeepLabV2'),
    (40, 'HRDA'),
])
def test_experiments_with_missing_components_name_them(exp_id, missing):
    with pytest.raises(MissingComponentsError, match=re.escape(f'needs components that do not exist yet: {missing}')):
        generate_experiment_cfgs(exp_id)


def test_unknown_experiment_lists_the_valid_ids():
    with pytest.raises(ValueError, match=r'unknown experiment ID 999; valid IDs: 5, 6, 7, 8, 90, 100, 101, 200 '):
        generate_experiment_cfgs(999)


@pytest.mark.parametrize('exp_id', [5, 6, 7, 8, 90, 100])
def test_data_synth_puts_every_member_on_the_synthetic_pair(exp_id, generated, configs_root):
    benchmark, synth = generated[exp_id], generate_experiment_cfgs(exp_id, data='synth')
    assert len(synth) == len(benchmark)
    for original, cfg in zip(benchmark, synth):
        kept = ('name_architecture', 'name_uda', 'name_opt', 'randomness', 'train_cfg', 'optim_wrapper')
        assert {key: cfg[key] for key in kept} == {key: original[key] for key in kept}
        assert cfg['name'].startswith('synthetic_gta2cs_128x128_') and cfg['name_dataset'] == 'synthetic_gta2cityscapes'
        assert cfg['name'].endswith(original['name'].split('_', 1)[1].replace('512x512_', ''))
        train = cfg['train_dataloader']
        assert train['batch_size'] == original['train_dataloader']['batch_size'] and train['num_workers'] <= 2
        if 'rare_class_sampling' in train.get('dataset', {}):
            assert train['dataset']['rare_class_sampling']['min_pixels'] == experiments.SYNTHETIC_RCS_MIN_PIXELS
    for cfg in synth[:3]:
        loaded = load(cfg, configs_root)
        assert loaded.model.get('pretrained') is None
        dataset = loaded.train_dataloader.dataset
        roots = [dataset.data_root] if cfg['name_uda'] == 'target-only' else [dataset.source.data_root,
                                                                              dataset.target.data_root]
        assert all(root.startswith('data/synthetic/') for root in roots)
        assert loaded.val_dataloader.dataset.data_root == 'data/synthetic/cityscapes/'


def test_unknown_data_is_named():
    with pytest.raises(ValueError, match="unknown data 'gta'; expected one of benchmark, synth"):
        generate_experiment_cfgs(5, data='gta')
