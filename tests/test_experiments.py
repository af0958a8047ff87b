"""experiments.py: the configs of every experiment ID load as run_experiments writes them, build, and carry
the reference names and hyper-parameters (spec §10.1, §10.2)."""
import copy
import math
import pickle
import re
from collections import defaultdict
from dataclasses import replace
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
GENERATED_IDS = [1, 2, 3, 4, 5, 6, 7, 8, 40, 41, 42, 43, 44, 49, 80, 81, 82, 83, 84, 85, 90, 100, 101, 200, 202]
HRDA_MIC_IDS = [40, 41, 42, 43, 44, 49, 80, 81, 82, 83, 84, 85]
METADATA = ('name', 'exp', 'name_dataset', 'name_architecture', 'name_encoder', 'name_decoder', 'name_uda', 'name_opt')
HRDA_MIC_METADATA = ('gpu_model', 'n_gpus')
THINGS = [6, 7, 11, 12, 13, 14, 15, 16, 17, 18]
DAFORMER_FUSIONS = ['daformer_conv1', 'daformer_isa', 'daformer_sepaspp_bottleneck', 'daformer_aspp',
                    'daformer_sepaspp']
FINAL_UDA = 'dacs_a999_fdthings_rcs001_cpl_daformer_sepaspp_mitb5_poly10warm'  # the final DAFormer's generated name
UDA_SUFFIX = '_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0.py'  # the hand-written final configs
HRDA_UDA = 'dacs_a999_fdthings_rcs001-20'  # the final HRDA's UDA name, before the pseudo-label crop
HRDA_ARCH = 'hrda1-512-01_daformer_sepaspp_sl_mitb5_poly10warm'  # the final HRDA's architecture and schedule
MARGINS = [30, 240, 30, 30]


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
        assert [run['randomness']['seed'] for run in runs] == ([0] if exp_id in (3, 4, 100, 101) else [0, 1, 2])
        assert all(without_seed(run) == without_seed(runs[0]) for run in runs)
    for cfg in (runs[0] for runs in seeds.values()):
        loaded = load(cfg, configs_root)
        metadata = METADATA + (HRDA_MIC_METADATA if exp_id in HRDA_MIC_IDS else ())
        assert {key: loaded[key] for key in metadata} == {key: cfg[key] for key in metadata}
        assert ('gpu_model' in cfg) == (exp_id in HRDA_MIC_IDS)
        runner_cfg = runner_config(loaded)
        assert runner_cfg.train_cfg.max_iters == cfg['train_cfg']['max_iters']
        with torch.device('meta'):
            model = MODELS.build(runner_cfg.model)
        if cfg['name_uda'] in ('target-only', 'source-only'):
            assert type(model).__name__ == 'EncoderDecoder' and 'uda' not in loaded
            assert loaded.train_dataloader.dataset.type == (
                'CityscapesDataset' if cfg['name_uda'] == 'target-only' else 'GTADataset')
            assert loaded.val_dataloader.dataset.type == 'CityscapesDataset'
        else:
            assert model.max_iters == cfg['train_cfg']['max_iters']
            assert type(model).__name__ == {'advseg': 'AdvSeg', 'minent': 'MinEnt'}.get(cfg['name_uda'][:6], 'DACS')
            dataset = loaded.train_dataloader.dataset
            assert dataset.type == 'UDADataset' and dataset.source.type and dataset.target.type
            segmentor = type(model.model).__name__
            assert segmentor == ('HRDAEncoderDecoder' if cfg['name_decoder'].startswith('hrda1-') else 'EncoderDecoder')
            # plcrop v2 comes with the margins of the target; the HR Cityscapes data carry them in any case
            hr_cityscapes = cfg['name_dataset'].startswith(('gtaHR2', 'gtaCAugHR2', 'synthiaHR2'))
            assert (dataset.target.get('crop_pseudo_margins') is not None) == (
                '_cpl2' in cfg['name_uda'] or hr_cityscapes)
        if cfg['name_decoder'].endswith('_sl'):  # slide windows of the training (or synchronised) crop
            size = list(loaded.train_dataloader.dataset.get('sync_crop_size') or loaded.crop_size)
            hr_256 = '_sf256x256' in cfg['name'] and 'HR' in cfg['name_dataset']  # not batched (memory)
            assert loaded.model.test_cfg == dict(mode='slide', batched_slide=not hr_256,
                                                 stride=[s // 2 for s in size], crop_size=size)


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
    *seed0, dlv2_cfg = [cfg for cfg in generated[5] if cfg['randomness']['seed'] == 0]
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
        assert (loaded.train_dataloader.batch_size, loaded.train_dataloader.num_workers) == (2, 6)
        assert (loaded.train_cfg.max_iters, loaded.train_cfg.val_interval) == (40000, 4000)
    # The full strategy on DeepLabV2-R101.
    assert dlv2_cfg['name'] == 'gta2cs_dacs_a999_fdthings_rcs001_cpl_dlv2red_r101v1c_poly10warm_s0'
    dlv2 = load(dlv2_cfg, configs_root).model
    assert (dlv2.backbone.type, dlv2.backbone.depth, dlv2.decode_head.type) == ('ResNetV1c', 101, 'DLV2Head')
    assert dlv2.pretrained == 'open-mmlab://resnet101_v1c' and not experiments.UNSUPPORTED_MEMBERS[5]


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
        (decoder, uda) for decoder in experiments.DECODER_STUDY
        for uda in ('dacs_a999_fdthings_rcs0.01_cpl', 'target-only')]
    uper, uper_ch256 = (load(cfg, configs_root).model.decode_head for cfg in seed0[2:6:2])
    assert (uper.type, uper.channels, uper_ch256.channels, uper.in_channels) == ('UPerHead', 512, 256,
                                                                                 [64, 128, 320, 512])
    assert not experiments.UNSUPPORTED_MEMBERS[6]
    seed0 = [cfg for cfg in seed0 if cfg['name_decoder'] in DAFORMER_FUSIONS]
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
    assert architectures == [
        'dlv2red_r101v1c', 'da_nodbn_r101v1c', 'isa_nodbn_r101v1c', 'dlv3p_nodbn_r101v1c', 'segformer_mitb5',
        'sfa_dlv3p_nodbn_mitb5-del', 'segformer_r101v1c', 'dlv2red_r50v1c', 'dlv2red_s50', 'dlv2red_s101',
        'dlv2red_s200', 'segformer_mitb3', 'segformer_mitb4'] + [
        f'{decoder}_mitb5' for decoder in experiments.DECODER_STUDY]
    assert {cfg['name_uda'] for cfg in generated[100]} == {'target-only'}
    mitb3 = load(generated[100][11], configs_root)
    assert (mitb3.model.backbone.type, mitb3.model.pretrained) == ('mit_b3', 'pretrained/mit_b3.pth')
    assert not experiments.UNSUPPORTED_MEMBERS[100]
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
                                                                              second_forward=True)


def test_synthetic_experiment_uses_the_cpu_benchmark_setup(generated, configs_root):
    seed0 = [cfg for cfg in generated[200] if cfg['randomness']['seed'] == 0]
    assert [cfg['name'] for cfg in seed0] == [
        f'synthetic_gta2cs_128x128_{uda}_{architecture}_mit_tiny_synth_adamw_2k_00006_pmF_s0'
        for uda, architecture in (
            ('dacs_srconly', 'daformer_conv1'), ('dacs', 'daformer_conv1'), ('dacs_rcs001', 'daformer_conv1'),
            ('dacs_eb_rcs001', 'daformer_conv1'), ('dacs_rcs001', 'hrda1-64-01_daformer_conv1_sl'),
            ('dacs_rcs001_m16-07-spta', 'daformer_conv1'),
            ('dacs_rcs001_m16-07-spta', 'hrda1-64-01_daformer_conv1_sl'))]
    assert {cfg['name_opt'] for cfg in seed0} == {'adamw_0.0006_pmFalse_synth_adamw_2k_1x8_2k'}
    assert len(generated[200]) == 21
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
    assert load(seed0[3], configs_root).uda.entropy_balance == dict(target=0.4, weight=0.1, second_forward=True)
    # HRDA, MIC and MIC(HRDA) as configs/synth/synth_gta2cs_{hrda,mic,mic_hrda}.py (but for their debug interval)
    synth_configs = ('synth_gta2cs_hrda.py', 'synth_gta2cs_mic.py', 'synth_gta2cs_mic_hrda.py')
    for cfg, synth_config in zip(seed0[4:], synth_configs):
        written = Config.fromfile(str(CONFIGS / 'synth' / synth_config)).to_dict()
        loaded = load(cfg, configs_root).to_dict()
        for key in ('model', 'train_dataloader', 'val_dataloader', 'train_cfg', 'param_scheduler', 'optim_wrapper'):
            assert loaded[key] == written[key], (synth_config, key)
        assert loaded['uda'] == dict(written['uda'], debug_img_interval=1000), synth_config


def test_hrda_and_mic_final_configs_are_generated_as_written_by_hand(generated, configs_root):
    """IDs 40 and 49 (seed 1) give configs/hrda/, ID 80 (seed 2) configs/mic/*_mic_hrda.py and ID 84's 32 / 0.7 member
    (seed 0) configs/mic/gta2cs_mic_daformer.py, up to the name: model, UDA, data, schedule and metadata."""
    hrda, mic = by_name(generated[40] + generated[49]), by_name(generated[80])
    mic_daformer = by_name(generated[84])
    cases = {}
    for prefix, uda in (('gtaHR2csHR', f'{HRDA_UDA}_cpl2'), ('synHR2csHR', f'{HRDA_UDA}_cpl2'),
                        ('csHR2acdcHR', HRDA_UDA), ('csHR2dzurHR', HRDA_UDA)):
        mode = 'spta' if uda.endswith('cpl2') else 'sep'
        cases[f'hrda/{prefix}_hrda.py'] = hrda[f'{prefix}_1024x1024_{uda}_{HRDA_ARCH}_s1']
        cases[f'mic/{prefix}_mic_hrda.py'] = mic[f'{prefix}_1024x1024_{uda}_m64-07-{mode}_{HRDA_ARCH}_s2']
    cases['mic/gta2cs_mic_daformer.py'] = mic_daformer[f'gta2cs_{FINAL_UDA.replace("cpl", "cpl_m32-07-spta")}_s0']
    for path, cfg in cases.items():
        final = Config.fromfile(str(CONFIGS / path)).to_dict()
        generated_cfg = load(cfg, configs_root).to_dict()
        for key in ('name', 'exp'):
            final.pop(key)
            generated_cfg.pop(key)
        assert generated_cfg == final, path
    assert cases['hrda/gtaHR2csHR_hrda.py']['name'] == f'gtaHR2csHR_1024x1024_{HRDA_UDA}_cpl2_{HRDA_ARCH}_s1'
    assert cases['mic/gtaHR2csHR_mic_hrda.py']['name'] == \
        f'gtaHR2csHR_1024x1024_{HRDA_UDA}_cpl2_m64-07-spta_{HRDA_ARCH}_s2'


def test_final_hrda_and_mic_runs_carry_the_reference_names(generated, configs_root):
    assert [cfg['name'] for cfg in generated[40]] == [
        f'{prefix}_1024x1024_dacs_a999_fdthings_rcs001-20_cpl2_hrda1-512-01_daformer_sepaspp_sl_mitb5_poly10warm_'
        f's{seed}'
        for prefix in ('gtaHR2csHR', 'synHR2csHR') for seed in (0, 1, 2)]
    assert [cfg['name'] for cfg in generated[49][::3]] == [
        f'csHR2{target}HR_1024x1024_{HRDA_UDA}_{HRDA_ARCH}_s0' for target in ('acdc', 'dzur')]
    assert [cfg['name_uda'] for cfg in generated[80][::3]] == [
        'dacs_a999_fdthings_rcs0.01-2.0_cpl2_m64-0.7-spta', 'dacs_a999_fdthings_rcs0.01-2.0_cpl2_m64-0.7-spta',
        'dacs_a999_fdthings_rcs0.01-2.0_m64-0.7-sep', 'dacs_a999_fdthings_rcs0.01-2.0_m64-0.7-sep']
    assert [cfg['name'] for cfg in generated[82][::3]] == [
        f'{dataset}_1024x1024_{HRDA_UDA}{plcrop}_m64-07-{mode}_{HRDA_ARCH}_s0' for dataset, plcrop, mode in (
            ('gtaHR2csHR', '_cpl2', 'spsa'), ('gtaHR2csHR', '_cpl2', 'spa'), ('csHR2acdcHR', '', 'sps'),
            ('csHR2acdcHR', '', 'spt'))]
    assert {(cfg['gpu_model'], cfg['n_gpus']) for exp_id in (40, 49, 80, 82) for cfg in generated[exp_id]} == {
        ('NVIDIATITANRTX', 1)}
    assert {cfg['gpu_model'] for exp_id in (83, 84, 85) for cfg in generated[exp_id]} == {'NVIDIAGeForceRTX2080Ti'}
    synthia = load(generated[40][3], configs_root)
    assert synthia.train_dataloader.dataset.source.type == 'SynthiaDataset' and synthia.val_evaluator.with_miou16
    assert synthia.train_dataloader.dataset.target.crop_pseudo_margins == MARGINS
    assert generated[40][0]['name_dataset'] == 'gtaHR2cityscapesHR_1024x1024'
    acdc = load(generated[80][6], configs_root)
    assert acdc.train_dataloader.dataset.target.type == 'ACDCDataset' and acdc.uda.mask_mode == 'separate'
    assert 'crop_pseudo_margins' not in acdc.train_dataloader.dataset.target
    assert (acdc.train_dataloader.num_workers, acdc.train_dataloader.dataset.rare_class_sampling.min_crop_ratio) == (
        4, 2.0)


def test_hrda_ablations_set_the_options_of_the_architecture_string(generated, configs_root):
    seed0 = [cfg for cfg in generated[44] if cfg['randomness']['seed'] == 0]
    assert [cfg['name_decoder'] for cfg in seed0] == [f'hrda1-{setting}_daformer_sepaspp_sl' for setting in (
        '512-0.1', '512-0.1', '256-0.1', '384-0.1', '384-0.1', '512-0.1-samescale', '512-0.1-blurhr',
        '512-0.1-fixedatt-nooverlap', '512-0.1-nooverlap',
        '512-0.0', '512-0.2', '512-0.3', '512-0.4', '512-0.5', '512-0.6', '512-0.7', '512-0.1-sc0.25',
        '512-0.1-sc0.75')]
    assert {cfg['name_uda'] for cfg in seed0} == {f'dacs_a999_fdthings_rcs0.01-2.0{sync}_cpl2'
                                                  for sync in ('', '_sf512x512', '_sf768x768')}
    final = dict(scales=[1, 0.5], hr_crop_size=[512, 512], feature_scale=0.5, hr_slide_overlapping=True,
                 blur_hr_crop=False, hr_loss_weight=0.1, lr_loss_weight=0, fixed_attention=None,
                 attention_classwise=True)
    changes = {
        '256-0.1': dict(hr_crop_size=[256, 256]), '384-0.1': dict(hr_crop_size=[384, 384]),
        '512-0.1-samescale': dict(scales=[1, 1], feature_scale=1), '512-0.1-blurhr': dict(blur_hr_crop=True),
        '512-0.1-fixedatt-nooverlap': dict(fixed_attention=0.5, hr_slide_overlapping=False),
        '512-0.1-nooverlap': dict(hr_slide_overlapping=False), '512-0.0': dict(hr_loss_weight=0.0),
        '512-0.5': dict(hr_loss_weight=0.5), '512-0.1-sc0.25': dict(scales=[1, 0.25], feature_scale=0.25)}
    for cfg in seed0:
        setting = cfg['name_decoder'][len('hrda1-'):-len('_daformer_sepaspp_sl')]
        if setting not in changes:
            continue
        model = load(cfg, configs_root).model
        values = {key: model.get(key, model.decode_head.get(key)) for key in final}
        assert values == dict(final, **changes[setting]), setting
    # The context crop and naive-HR ablations (Tables 3, 5) crop source and target in sync.
    synced = [(cfg['name'].split('_rcs001-20_')[1].split('_daformer')[0], load(cfg, configs_root))
              for cfg in seed0 if '_sf' in cfg['name']]
    assert [(name, cfg.train_dataloader.dataset.sync_crop_size, cfg.model.test_cfg.crop_size,
             cfg.model.decode_head.lr_loss_weight) for name, cfg in synced] == [
        ('sf512x512_cpl2_hrda1-512-01', [512, 512], [512, 512], 0.1),  # detail crop = context crop
        ('sf768x768_cpl2_hrda1-512-01', [768, 768], [768, 768], 0),
        ('sf768x768_cpl2_hrda1-384-01', [768, 768], [768, 768], 0)]
    assert experiments.UNSUPPORTED_MEMBERS[44] == []


def test_a_detail_crop_as_large_as_the_context_crop_also_trains_the_context_prediction():
    context_512 = replace(experiments.FINAL_HRDA, sync_crop=512)
    assert experiments.hrda_model(context_512)['decode_head']['lr_loss_weight'] == 0.1
    assert experiments.hrda_model(context_512)['feature_scale'] == 'all'  # FD on both scales
    assert experiments.hrda_model(replace(context_512, uda='dacs'))['feature_scale'] == 0.5  # no FD
    assert 'lr_loss_weight' not in experiments.hrda_model(experiments.FINAL_HRDA)['decode_head']
    with pytest.raises(ValueError, match="unknown HRDA option 'foo'"):
        experiments.hrda_model(replace(experiments.FINAL_HRDA, architecture='hrda1-512-0.1-foo_daformer_sepaspp'))


def test_a_data_set_base_whose_margins_disagree_with_the_pseudo_label_crop_is_an_error():
    with pytest.raises(ValueError, match=r'uda_gtaHR_to_cityscapesHR_1024x1024.py: its target carries '
                                         r"crop_pseudo_margins \(pseudo-label crop v2\), which exclude the row cut"):
        experiments.dataset_base(replace(experiments.FINAL_HRDA, plcrop='v1'))
    # without a pseudo-label crop the HR data keep their margins, as the reference's (HRDA 41)
    assert experiments.dataset_base(replace(experiments.FINAL_HRDA, plcrop=None)) == \
        '_base_/datasets/uda_gtaHR_to_cityscapesHR_1024x1024.py'
    assert experiments.dataset_base(replace(experiments.FINAL_DAFORMER, plcrop='v2')) == \
        '_base_/datasets/uda_gta_to_cityscapes_512x512_cpl2.py'


def test_hrda_crop_size_studies(generated, configs_root):
    uda_seed0 = [cfg for cfg in generated[42] if cfg['randomness']['seed'] == 0]
    assert [cfg['name'] for cfg in uda_seed0] == [
        f'{dataset}_dacs_a999_fdthings_{rcs}{size and f"_sf{size}x{size}"}_cpl2_daformer_sepaspp_sl_mitb5_poly10warm_s0'
        for dataset, rcs, sizes in (('gta2cs', 'rcs001', (128, 256, 384, '')),
                                    ('gtaHR2csHR_1024x1024', 'rcs001-20', (256, 512, 768))) for size in sizes]
    loaded = [load(cfg, configs_root) for cfg in uda_seed0]
    lr_full = loaded[3]
    assert lr_full.train_dataloader.dataset.target.crop_pseudo_margins == MARGINS
    assert lr_full.train_dataloader.dataset.rare_class_sampling.min_crop_ratio == 0.5
    assert (lr_full.uda.pseudo_weight_ignore_top, lr_full.uda.pseudo_weight_ignore_bottom) == (0, 0)
    assert [cfg.train_dataloader.dataset.get('sync_crop_size') for cfg in loaded] == [
        [128, 128], [256, 256], [384, 384], None, [256, 256], [512, 512], [768, 768]]
    assert [(cfg.model.test_cfg.crop_size, cfg.model.test_cfg.stride, cfg.model.test_cfg.batched_slide)
            for cfg in loaded[4:]] == [([256, 256], [128, 128], False),  # one window at a time, as the reference
                                       ([512, 512], [256, 256], True), ([768, 768], [384, 384], True)]
    assert experiments.UNSUPPORTED_MEMBERS[42] == []
    seed0 = [cfg for cfg in generated[43] if cfg['randomness']['seed'] == 0]
    crops = ['128x128', '256x256', '384x384', '512x512', '256x256', '512x512', '768x768']
    assert [cfg['name'] for cfg in seed0] == [
        f'{dataset}{"" if crop == "512x512" else "_" + crop}_target-only_daformer_sepaspp_sl_mitb5_poly10warm_s0'
        for dataset, crop in zip(['gta2cs'] * 4 + ['gtaHR2csHR'] * 3, crops)]
    for cfg, crop, scale in zip(seed0, crops, [(1024, 512)] * 4 + [(2048, 1024)] * 3):
        pipeline = load(cfg, configs_root).train_dataloader.dataset.pipeline
        assert [step.get('crop_size') or step.get('scale') for step in pipeline[2:4]] == [
            scale, tuple(int(side) for side in crop.split('x'))]


def test_mic_ablation_and_block_study_on_daformer(generated, configs_root):
    seed0 = [cfg for cfg in generated[83] if cfg['randomness']['seed'] == 0]
    assert [cfg['name_uda'] for cfg in seed0] == [
        f'dacs_a999_fdthings_rcs0.01_cpl_m32-{mask}' for mask in ('0.7-spt', '0-spta', '0.7-a0-spta', '0.7-pNone-spta')]
    assert seed0[3]['name'] == \
        'gta2cs_dacs_a999_fdthings_rcs001_cpl_m32-07-pN-spta_daformer_sepaspp_mitb5_poly10warm_s0'
    mic_keys = ('mask_mode', 'mask_alpha', 'mask_pseudo_threshold', 'mask_lambda', 'mask_generator')
    expected = [('separatetrg', 'same', 'same', 0.7), ('separatetrgaug', 'same', 'same', 0),
                ('separatetrgaug', 0, 'same', 0.7), ('separatetrgaug', 'same', None, 0.7)]
    for cfg, (mode, alpha, threshold, ratio) in zip(seed0, expected):
        uda = load(cfg, configs_root).uda
        assert {key: uda[key] for key in mic_keys} == dict(
            mask_mode=mode, mask_alpha=alpha, mask_pseudo_threshold=threshold, mask_lambda=1,
            mask_generator=dict(type='block', mask_ratio=ratio, mask_block_size=32))
        assert (uda.alpha, uda.pseudo_weight_ignore_top, uda.pseudo_weight_ignore_bottom) == (0.999, 15, 120)
    seed0 = [cfg for cfg in generated[84] if cfg['randomness']['seed'] == 0]
    members = [(size, ratio) for size in (16, 32, 64, 128) for ratio in (0.3, 0.5, 0.7, 0.9)]
    masks = [f'm{size}-{ratio}-spta'.replace('.', '') for size, ratio in members]
    assert [cfg['name'] for cfg in seed0] == [f'gta2cs_{FINAL_UDA.replace("cpl", f"cpl_{mask}")}_s0' for mask in masks]
    for cfg, (size, ratio) in list(zip(seed0, members))[::5]:
        generator = load(cfg, configs_root).uda.mask_generator
        assert generator == dict(type='block', mask_ratio=ratio, mask_block_size=size)
    supervised = load(generated[85][0], configs_root)
    assert generated[85][0]['name'] == 'cs2cs_dacs_srconly_m32-07-sps_daformer_sepaspp_mitb5_poly10warm_s0'
    assert supervised.uda.source_only and supervised.uda.mask_mode == 'separatesrc'
    assert supervised.train_dataloader.dataset.source.type == 'CityscapesDataset'
    assert supervised.train_dataloader.dataset.source.data_prefix.img_path == 'leftImg8bit/train'


def test_data_synth_scales_the_hrda_and_mic_settings_to_the_synthetic_crop(generated, configs_root):
    """ID 80 on the synthetic pair: detail crop 512 of 1024 -> 64 of 128, blocks 64 -> 8, margins scaled."""
    synth = generate_experiment_cfgs(80, data='synth')
    assert [cfg['name'] for cfg in synth[::3]] == [
        f'synthetic_gta2cs_128x128_dacs_a999_fdthings_rcs001{plcrop}_m8-07-{mode}_hrda1-64-01_daformer_sepaspp_sl_'
        'mitb5_poly10warm_s0' for plcrop, mode in (('_cpl2', 'spta'), ('_cpl2', 'spta'), ('', 'sep'), ('', 'sep'))]
    assert synth[0]['name_dataset'] == 'synthetic_gta2cityscapes_128x128'
    for cfg in (synth[0], synth[6]):
        loaded = load(cfg, configs_root)
        runner_cfg = runner_config(loaded)
        with torch.device('meta'):
            model = MODELS.build(runner_cfg.model)
        assert type(model.model).__name__ == 'HRDAEncoderDecoder' and model.model.crop_size == [64, 64]
        assert loaded.model.test_cfg.crop_size == [128, 128] and loaded.model.pretrained is None
        assert loaded.uda.mask_generator.mask_block_size == 8
        dataset = loaded.train_dataloader.dataset
        assert dataset.rare_class_sampling == dict(min_pixels=30, class_temp=0.01, min_crop_ratio=0.5)
        assert dataset.target.get('crop_pseudo_margins') == ([4, 30, 4, 4] if '_cpl2' in cfg['name'] else None)
        assert dataset.target.data_root == 'data/synthetic/cityscapes/' and loaded.train_dataloader.num_workers == 1
    # Every HRDA / MIC ID has a synthetic variant: detail crops 256, 384 -> 32, 48; blocks 16..128 of 512 -> 4..32.
    names = {exp_id: [cfg['name'] for cfg in generate_experiment_cfgs(exp_id, data='synth')] for exp_id in HRDA_MIC_IDS}
    assert all(len(names[exp_id]) == len(generated[exp_id]) for exp_id in HRDA_MIC_IDS)
    assert [name.split('_cpl2_')[1].split('_daformer')[0] for name in names[44][6:12:3]] == [
        'hrda1-32-01', 'hrda1-48-01']
    assert '_sf64x64_' in names[44][0] and '_sf96x96_' in names[44][3]  # synchronised crops 512, 768 of 1024
    assert [name.split('_cpl_')[1].split('-')[0] for name in names[84][::12]] == ['m4', 'm8', 'm16', 'm32']


def test_experiments_with_missing_components_name_them(monkeypatch):
    # none at present: every reference ID is generated
    monkeypatch.setitem(experiments.PENDING_EXPERIMENTS, 999, ('a table', ('ResNet', 'DeepLabV2')))
    with pytest.raises(MissingComponentsError, match=re.escape(
            'experiment 999 (a table) needs components that do not exist yet: ResNet, DeepLabV2')):
        generate_experiment_cfgs(999)


def test_unknown_experiment_lists_the_valid_ids():
    with pytest.raises(ValueError, match=r'unknown experiment ID 999; valid IDs: 1, 2, 3, 4, 5, 6, 7, 8, 40, 41, 42, '
                                         r'43, 44, 49, 80, 81, 82, 83, 84, 85, 90, 91, 92, 100, 101, 200, 201, 202$'):
        generate_experiment_cfgs(999)


@pytest.mark.parametrize('exp_id', [1, 2, 3, 5, 6, 7, 8, 90, 100])
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
        roots = ([dataset.data_root] if cfg['name_uda'] in ('target-only', 'source-only') else
                 [dataset.source.data_root, dataset.target.data_root])
        assert all(root.startswith('data/synthetic/') for root in roots)
        assert loaded.val_dataloader.dataset.data_root == 'data/synthetic/cityscapes/'


def test_unknown_data_is_named():
    with pytest.raises(ValueError, match="unknown data 'gta'; expected one of benchmark, synth"):
        generate_experiment_cfgs(5, data='gta')
