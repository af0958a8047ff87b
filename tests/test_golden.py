"""Conformance with the golden cases produced by the original DAFormer / HRDA code.

One test per ``*.pt`` file in ``$UDA_GOLDEN_DIR`` (default ``../shared/golden``), its id the
file name without ``.pt``. The case name's prefix selects the checker; a new case of a known
kind is checked without code changes, an unknown kind fails. A kind whose component is built
by a later issue is skipped with that reason until the component's module exists.
Under ``CI=true`` a missing golden folder fails instead of skipping.
"""
import importlib
import importlib.util
import os
from pathlib import Path
from typing import NamedTuple, Optional

import pytest

from tests.golden_utils import golden_dir, load_case

REPO_ROOT = Path(__file__).resolve().parents[1]


class Kind(NamedTuple):
    checker: str  # 'tests.golden_checks.<module>:<function>'
    component: str  # python module (or repo-relative file) that implements what the case checks
    issue: str  # the issue that builds the component


RESNET_ISSUE = 'ResNet/DeepLab family and AdvSeg/MinEnt (#16)'
CDDA_ISSUE = 'CDDA (#17)'
DDB_ISSUE = 'DDB (#18)'

# Longest prefix first: 'mit_keys' before 'mit_', 'dacs_checkpoint_' before 'dacs_'.
KINDS = {
    'mit_keys': Kind('models:check_mit_keys', 'mmseg.models.backbones.mix_transformer', 'foundation (#2)'),
    'mit_': Kind('models:check_mit', 'mmseg.models.backbones.mix_transformer', 'foundation (#2)'),
    'daformer_': Kind('models:check_segmentor', 'mmseg.models.segmentors.encoder_decoder', 'foundation (#2)'),
    'segformer_': Kind('models:check_segmentor', 'mmseg.models.segmentors.encoder_decoder', 'foundation (#2)'),
    'dacs_keys_': Kind('models:check_dacs_keys', 'mmseg.models.uda.dacs', 'foundation (#2)'),
    'dacs_checkpoint_': Kind('checkpoints:check_dacs_checkpoint', 'mmseg.apis.checkpoint',
                             'data/evaluation/released checkpoints (#3)'),
    'hrda_': Kind('hrda:check_hrda', 'mmseg.models.segmentors.hrda_encoder_decoder', 'HRDA/MIC (#7)'),
    'convert_': Kind('converters:check_convert', 'tools/convert_datasets/{dataset}.py',
                     'data/evaluation/released checkpoints (#3)'),
    'schedule_': Kind('schedules:check_schedule', 'mmseg.engine.schedulers', 'UDA training (#4)'),
    'optim_groups_': Kind('schedules:check_optim_groups', 'mmseg.engine.optimizers', 'UDA training (#4)'),
    # whole training iterations of the original DACS and MIC (conformance #15)
    'dacs_iter_': Kind('iterations:check_dacs_iter', 'mmseg.models.uda.dacs', 'conformance (#15)'),
    'mic_iter_': Kind('iterations:check_mic_iter', 'mmseg.models.uda.masking_consistency_module',
                      'conformance (#15)'),
    # ResNet / DeepLab family and the classic baselines (#16)
    'dlv2_r101_keys': Kind('resnet:check_dlv2_keys', 'mmseg.models.decode_heads.dlv2_head', RESNET_ISSUE),
    'dlv2_r101_backbone': Kind('resnet:check_resnet_backbone', 'mmseg.models.backbones.resnet', RESNET_ISSUE),
    'dlv2_r101_': Kind('resnet:check_resnet_segmentor', 'mmseg.models.decode_heads.dlv2_head', RESNET_ISSUE),
    'zoo_keys': Kind('resnet:check_zoo_keys', 'mmseg.models.backbones.resnest', RESNET_ISSUE),
    'zoo_r101_da_': Kind('resnet:check_resnet_segmentor', 'mmseg.models.decode_heads.da_head', RESNET_ISSUE),
    'zoo_r101_dlv3p_': Kind('resnet:check_resnet_segmentor', 'mmseg.models.decode_heads.sep_aspp_head',
                            RESNET_ISSUE),
    'zoo_r101_isa_': Kind('resnet:check_resnet_segmentor', 'mmseg.models.decode_heads.isa_head', RESNET_ISSUE),
    'zoo_r101_uper_': Kind('resnet:check_resnet_segmentor', 'mmseg.models.decode_heads.uper_head', RESNET_ISSUE),
    'advseg_fcdisc_': Kind('baselines:check_fc_discriminator', 'mmseg.models.uda.fc_discriminator', RESNET_ISSUE),
    'advseg_iter_': Kind('baselines:check_advseg_iter', 'mmseg.models.uda.advseg', RESNET_ISSUE),
    'minent_loss_': Kind('baselines:check_minent_loss', 'mmseg.models.uda.minent', RESNET_ISSUE),
    'minent_iter_': Kind('baselines:check_minent_iter', 'mmseg.models.uda.minent', RESNET_ISSUE),
    # CDDA (#17)
    'cdda_depth_load_': Kind('cdda:check_depth_load', 'mmseg.datasets.transforms.depth_loading', CDDA_ISSUE),
    'cdda_bank_write_': Kind('cdda:check_bank_write', 'tools/cdda_preprocess.py', CDDA_ISSUE),
    'cdda_depth_distribution_': Kind('cdda:check_depth_distribution', 'tools/cdda_preprocess.py', CDDA_ISSUE),
    'cdda_similarity_': Kind('cdda:check_similarity', 'mmseg.models.uda.depth_guidance', CDDA_ISSUE),
    'cdda_reweight_': Kind('cdda:check_reweight', 'mmseg.models.uda.depth_guidance', CDDA_ISSUE),
    'cdda_relabel_': Kind('cdda:check_relabel', 'mmseg.models.uda.depth_guidance', CDDA_ISSUE),
    'cdda_guidance_loss_': Kind('cdda:check_guidance_loss', 'mmseg.models.uda.depth_guidance', CDDA_ISSUE),
    'cdda_image_replacement_': Kind('cdda:check_image_replacement', 'mmseg.models.uda.depth_guidance',
                                    CDDA_ISSUE),
    'cdda_threshold_schedule_': Kind('cdda:check_threshold_schedule', 'mmseg.models.uda.depth_guidance',
                                     CDDA_ISSUE),
    # DDB (#18)
    'ddb_model_': Kind('ddb:check_ddb_model', 'mmseg.models.decode_heads.dlv2_adapter_head', DDB_ISSUE),
    'ddb_bridging_': Kind('ddb:check_bridging', 'mmseg.datasets.domain_bridging', DDB_ISSUE),
    'ddb_st_step_': Kind('ddb:check_st_step', 'mmseg.models.uda.st', DDB_ISSUE),
    'ddb_st_': Kind('ddb:check_st', 'mmseg.models.uda.st', DDB_ISSUE),
    'ddb_prototypes_': Kind('ddb:check_prototypes', 'tools/compute_prototypes.py', DDB_ISSUE),
    'ddb_ckd_': Kind('ddb:check_ckd', 'mmseg.models.uda.ckd', DDB_ISSUE),
    'ddb_ckpt_keys_': Kind('ddb:check_checkpoint_keys', 'mmseg.models.uda.ckd', DDB_ISSUE),
}

# helper_<name>_<variant>: the helper name selects the checker.
HELPERS = {
    'downscale_label_ratio': Kind('helpers:check_downscale_label_ratio',
                                  'mmseg.models.utils.downscale_label_ratio', 'UDA training (#4)'),
    'classmix': Kind('helpers:check_classmix', 'mmseg.models.utils.dacs_transforms', 'UDA training (#4)'),
    'denorm_renorm': Kind('helpers:check_denorm_renorm', 'mmseg.models.utils.dacs_transforms', 'UDA training (#4)'),
    'rcs_class_probs': Kind('helpers:check_rcs_class_probs', 'mmseg.datasets.rare_class_sampling', 'UDA training (#4)'),
    'feature_distance': Kind('helpers:check_feature_distance', 'mmseg.models.uda.feature_distance',
                             'UDA training (#4)'),
    'pseudo_label_weight': Kind('helpers:check_pseudo_label_weight', 'mmseg.models.uda.pseudo_label',
                                'UDA training (#4)'),
    'ema_update': Kind('helpers:check_ema_update', 'mmseg.models.uda.ema_teacher', 'UDA training (#4)'),
    'miou': Kind('metrics:check_miou', 'mmseg.evaluation.iou_metric', 'data/evaluation/released checkpoints (#3)'),
}


def kind_of(case_name: str) -> Optional[Kind]:
    """The kind of a case, or None when its prefix is unknown."""
    if case_name.startswith('helper_'):
        helper = case_name[len('helper_'):].rsplit('_', 1)[0]
        return HELPERS.get(helper)
    for prefix in sorted(KINDS, key=len, reverse=True):
        if case_name.startswith(prefix):
            kind = KINDS[prefix]
            if prefix == 'convert_':
                dataset = case_name[len(prefix):].rsplit('_', 1)[0]
                kind = kind._replace(component=kind.component.format(dataset=dataset))
            return kind
    return None


def component_exists(component: str) -> bool:
    if component.endswith('.py'):
        return (REPO_ROOT / component).is_file()
    try:
        return importlib.util.find_spec(component) is not None
    except ModuleNotFoundError:
        return False


def _case_files():
    directory = golden_dir()
    if not directory.is_dir():
        return [pytest.param(None, id='golden-dir-missing')]
    files = sorted(directory.glob('*.pt'))
    return [pytest.param(path, id=path.stem) for path in files] or [pytest.param(None, id='golden-dir-empty')]


@pytest.mark.parametrize('path', _case_files())
def test_golden_case(path):
    if path is None:
        message = (f'golden folder {golden_dir()} is missing or holds no *.pt case; '
                   'set UDA_GOLDEN_DIR to the folder of golden cases')
        if os.environ.get('CI', '').lower() == 'true':
            pytest.fail(message)
        pytest.skip(message)
    name = path.stem
    kind = kind_of(name)
    assert kind is not None, (
        f'golden case {path.name}: unknown kind; known prefixes are {sorted(KINDS)} and '
        f"helper_<name>_ with <name> in {sorted(HELPERS)}. Add a checker to tests/test_golden.py.")
    if not component_exists(kind.component):
        pytest.skip(f'{kind.component} is built by the {kind.issue} issue')
    module_name, function_name = kind.checker.split(':')
    checker = getattr(importlib.import_module(f'tests.golden_checks.{module_name}'), function_name)
    checker(load_case(path))
