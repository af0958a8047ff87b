"""Experiment IDs: one ID expands a paper table into run configs, all seeds (spec §10.1, §10.2).

``generate_experiment_cfgs(exp_id)`` returns one config dict per run, built like the reference's
``experiments.py``: ``_base_`` files (paths relative to ``configs/``; prefix them with ``../../`` when
writing to ``configs/generated/<exp>/``) plus the overrides of the run (seed, UDA keys, rare class
sampling, optimiser, schedule, batch, evaluation), the run ``name`` in the reference scheme and the
metadata keys ``exp``, ``name_dataset``, ``name_architecture``, ``name_encoder``, ``name_decoder``,
``name_uda``, ``name_opt``.

The dicts are plain except for :class:`BaseVar` values, the ``{{_base_.source_dataset}}`` references of
the hand-written configs: a ``str`` whose ``repr`` is the bare reference, so that a config file written
with ``repr`` (or run_experiments' ``_literal``) resolves it against its bases.

IDs (the DAFormer ones as in the reference, seeds [0, 1, 2] unless noted):

- 5: RCS / FD ablation on SegFormer MiT-B5 (DAFormer Table 5).
- 6: decoder study (Table 7), full UDA and target-only.
- 7: final DAFormer on Synthia -> Cityscapes (Table 6; evaluated with mIoU16 too).
- 8: final DAFormer on Cityscapes -> ACDC and Cityscapes -> Dark Zurich (pseudo-label crop v1).
- 90: EBDA on Cityscapes -> ACDC (not a reference ID; the EBDA repository runs its final config only):
  the final DAFormer with entropy balancing, batch 1, 8 workers, 50k iterations, evaluation every 2000
  iterations keeping the best-mIoU checkpoint, as configs/ebda/.
- 100: architecture start-up test, target-only, 2 iterations, seed 0.
- 101: UDA start-up test, every UDA variant on the final DAFormer model, 2 iterations, seed 0.
- 200: the embedded synthetic pair on CPU (not a reference ID): source-only, DACS, + RCS, + entropy
  balancing with the tiny DAFormer of configs/synth/. No ImageNet feature distance: the tiny model has no
  ImageNet weights, so FD would pull the features towards a random initialisation.

Members whose architecture or backbone does not exist yet (ResNet, DeepLabV2, UperNet, ...) are left
out of the generated list and listed in :data:`UNSUPPORTED_MEMBERS`. IDs that consist of such members
(1-4) and the HRDA / MIC IDs are listed in :data:`PENDING_EXPERIMENTS`; asking for them raises
:class:`MissingComponentsError` naming the missing components.
"""
import functools
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

from mmengine.config import Config

CONFIG_ROOT = Path(__file__).resolve().parent / 'configs'
SEEDS = [0, 1, 2]
N_GPUS = 1
DEFAULT_CROP = '512x512'
DEFAULT_OPT, DEFAULT_LR = 'adamw', 6e-5
STARTUP_ITERS = 2
# Evaluation interval of the start-up tests: no evaluation within their 2 iterations (as --startup-test).
STARTUP_VAL_INTERVAL = 100
# Rare class sampling keeps crops with more than min_pixels * min_crop_ratio pixels of the drawn class.
RCS_MIN_CROP_RATIO = 0.5
# T = inf (uniform class sampling) cannot be written into a .py config (mmengine dumps it as `inf`, which
# does not load back). For T >= 1e8, (1 - f) / T is below float32 resolution, so the softmax of the rare
# class sampler is exactly uniform, bit for bit the T = inf probabilities; the name keeps 'rcsinf'.
RCS_UNIFORM_TEMP = 1e9
# The pseudo-label crop of DAFormer (plcrop v1): rows at the top / bottom of target crops get weight 0.
PLCROP = dict(pseudo_weight_ignore_top=15, pseudo_weight_ignore_bottom=120)
# Schedule files that configure their own optimiser (no `_base_/schedules/{opt}.py` next to them).
SCHEDULES_WITH_OPTIMIZER = ('synth_adamw_2k', )
# The embedded synthetic pair (tools/make_synthetic_data.py; `run_experiments.py --data synth`): its runs
# have this source, 128x128 crops, no ImageNet weights, and a rare class sampling threshold for 128x128
# images (about 3000 pixels of a 1914x1052 GTA frame, scaled to the synthetic source images).
SYNTHETIC_SOURCE = 'synthetic_gta'
SYNTHETIC_CROP = '128x128'
SYNTHETIC_RCS_MIN_PIXELS = 30
SYNTHETIC_TARGET_ONLY_DATASET = '_base_/datasets/synthetic_cityscapes_128x128.py'
# Data loader processes per run on the synthetic pair, where the reference's 4 (or 8) only add start-up time.
SYNTHETIC_MAX_WORKERS = 2
DATA_CHOICES = ('benchmark', 'synth')

# (architecture, backbone) -> model base file. SegFormer on MiT-B3/B4 uses the B5 file with another
# backbone type, as the reference ("<=b4 refers to b5 config").
MODEL_BASES: Dict[Tuple[str, str], str] = {
    ('segformer', 'mitb3'): '_base_/models/segformer_mitb5.py',
    ('segformer', 'mitb4'): '_base_/models/segformer_mitb5.py',
    ('segformer', 'mitb5'): '_base_/models/segformer_mitb5.py',
    ('daformer_conv1', 'mitb5'): '_base_/models/daformer_conv1_mitb5.py',
    ('daformer_isa', 'mitb5'): '_base_/models/daformer_isa_mitb5.py',
    ('daformer_sepaspp_bottleneck', 'mitb5'): '_base_/models/daformer_sepaspp_bottleneck_mitb5.py',
    ('daformer_aspp', 'mitb5'): '_base_/models/daformer_aspp_mitb5.py',
    ('daformer_sepaspp', 'mitb5'): '_base_/models/daformer_sepaspp_mitb5.py',
    ('daformer_conv1', 'mit_tiny'): '_base_/models/daformer_conv1_mit_tiny.py',
}
# Architectures and backbones of the reference experiments that are not implemented yet.
MISSING_ARCHITECTURES: Dict[str, Tuple[str, ...]] = {
    'dlv2red': ('DeepLabV2', ),
    'dlv3p_nodbn': ('DeepLabV3+', ),
    'sfa_dlv3p_nodbn': ('DeepLabV3+', ),
    'da_nodbn': ('DANet', ),
    'isa_nodbn': ('ISANet', ),
    'upernet': ('UperNet', ),
    'upernet_ch256': ('UperNet', ),
}
MISSING_BACKBONES: Dict[str, Tuple[str, ...]] = {
    'r50v1c': ('ResNet', ),
    'r101v1c': ('ResNet', ),
    's50': ('ResNeSt', ),
    's101': ('ResNeSt', ),
    's200': ('ResNeSt', ),
}

# UDA variant -> (uda base file, or None for a plain segmentor; overrides of its `uda` dict).
UDA_VARIANTS: Dict[str, Tuple[Optional[str], dict]] = {
    'target-only': (None, {}),
    'dacs_srconly': ('_base_/uda/dacs_srconly.py', {}),
    'dacs_srconly_aug': ('_base_/uda/dacs_srconly_aug.py', {}),
    'dacs': ('_base_/uda/dacs.py', {}),
    'dacs_fd': ('_base_/uda/dacs_fd.py', {}),
    'dacs_fdthings': ('_base_/uda/dacs_fdthings.py', {}),
    'dacs_a999_fdthings': ('_base_/uda/dacs_a999_fdthings.py', {}),
    'dacs_a999_fdthings_eb': ('_base_/uda/dacs_a999_fdthings_eb.py', {}),
    # Entropy balancing on plain DACS (the synthetic pair, where FD does not apply).
    'dacs_eb': ('_base_/uda/dacs.py', dict(entropy_balance=dict(target=0.4, weight=0.1, second_forward=False))),
}


class BaseVar(str):
    """A reference to a variable of the base configs, ``{{_base_.<name>}}``; ``repr`` writes it bare into a
    config file, where mmengine resolves it."""

    def __repr__(self) -> str:
        return str(self)


def base_var(name: str) -> BaseVar:
    """``{{_base_.<name>}}``."""
    return BaseVar(f'{{{{_base_.{name}}}}}')


@dataclass(frozen=True)
class Run:
    """One training run: the variables of the reference's ``config_from_vars`` (defaults as there)."""
    architecture: str
    backbone: str
    uda: str
    seed: int = 0
    source: str = 'gta'
    target: str = 'cityscapes'
    crop: str = DEFAULT_CROP
    rcs_T: Optional[float] = None  # rare class sampling temperature; None: off
    rcs_min_pixels: int = 3000
    plcrop: bool = False
    opt: str = DEFAULT_OPT
    lr: float = DEFAULT_LR
    schedule: str = 'poly10warm'
    pmult: bool = True  # decode head lr x10
    iters: int = 40000
    batch_size: int = 2
    workers: int = 4
    val_interval: Optional[int] = None  # None: iters // 10 (10 evaluations)
    save_best: bool = False  # keep the best-mIoU checkpoint (EBDA)
    runtime: str = 'default_runtime'


class Unsupported(NamedTuple):
    """A member of an experiment that cannot be generated yet."""
    name: str
    missing: Tuple[str, ...]


class MissingComponentsError(NotImplementedError):
    """An experiment ID whose runs need components that do not exist yet."""

    def __init__(self, exp_id: int, description: str, missing: Sequence[str]):
        self.missing = tuple(missing)
        super().__init__(f'experiment {exp_id} ({description}) needs components that do not exist yet: '
                         f'{", ".join(self.missing)}')


# ---------------------------------------------------------------------------------------------------
# Config names (spec §10.1)
# ---------------------------------------------------------------------------------------------------
NAME_REPLACEMENTS = [('.', ''), ('True', 'T'), ('False', 'F'), ('cityscapes', 'cs'), ('synthia', 'syn'),
                     ('darkzurich', 'dzur')]


def uda_name(run: Run) -> str:
    """``name_uda``: the UDA variant with ``_rcs{T}`` and ``_cpl`` (pseudo-label crop) for DACS runs."""
    name = run.uda
    if 'dacs' in run.uda and run.rcs_T is not None:
        name += f'_rcs{run.rcs_T}'
    if 'dacs' in run.uda and run.plcrop:
        name += '_cpl'
    return name


def opt_name(run: Run) -> str:
    """``name_opt``: optimiser, lr, head multiplier, schedule, GPUs x batch and iterations."""
    return f'{run.opt}_{run.lr}_pm{run.pmult}_{run.schedule}_{N_GPUS}x{run.batch_size}_{run.iters // 1000}k'


def run_name(run: Run) -> str:
    """``{source}2{target}[_crop]_{uda}_{arch}_{backbone}_{schedule}[_opt][_lr][_pmF]_s{seed}``, shortened."""
    crop = f'_{run.crop}' if run.crop != DEFAULT_CROP else ''
    name = f'{run.source}2{run.target}{crop}_{uda_name(run)}_{run.architecture}_{run.backbone}_{run.schedule}'
    if run.opt != DEFAULT_OPT:
        name += f'_{run.opt}'
    if run.lr != DEFAULT_LR:
        name += f'_{run.lr}'
    if not run.pmult:
        name += f'_pm{run.pmult}'
    name += f'_s{run.seed}'
    for old, new in NAME_REPLACEMENTS:
        name = name.replace(old, new)
    return name


def metadata(exp_id: int, run: Run) -> dict:
    """``name``, ``exp`` and the ``name_*`` keys of the reference configs."""
    return dict(name=run_name(run), exp=exp_id, name_dataset=f'{run.source}2{run.target}',
                name_architecture=f'{run.architecture}_{run.backbone}', name_encoder=run.backbone,
                name_decoder=run.architecture, name_uda=uda_name(run), name_opt=opt_name(run))


# ---------------------------------------------------------------------------------------------------
# Config parts
# ---------------------------------------------------------------------------------------------------
def missing_components(run: Run) -> Tuple[str, ...]:
    """The components ``run`` needs that do not exist yet (empty if it can be generated)."""
    if (run.architecture, run.backbone) in MODEL_BASES:
        return ()
    missing = MISSING_BACKBONES.get(run.backbone, ()) + MISSING_ARCHITECTURES.get(run.architecture, ())
    if not missing:
        raise KeyError(f'no model base config for architecture {run.architecture!r} with backbone {run.backbone!r}')
    return tuple(dict.fromkeys(missing))


def dataset_base(run: Run) -> str:
    """Target-only runs train on ``{target}_half_{crop}.py`` (on the synthetic pair: its labelled target), the
    others on ``uda_{source}_to_{target}_{crop}.py``."""
    if run.uda == 'target-only':
        if run.source == SYNTHETIC_SOURCE:
            return SYNTHETIC_TARGET_ONLY_DATASET
        return f'_base_/datasets/{run.target}_half_{run.crop}.py'
    return f'_base_/datasets/uda_{run.source}_to_{run.target}_{run.crop}.py'


def schedule_bases(run: Run) -> List[str]:
    """``_base_/schedules/{opt}.py`` and ``{schedule}.py`` (only the latter if it sets the optimiser)."""
    schedule = f'_base_/schedules/{run.schedule}.py'
    return [schedule] if run.schedule in SCHEDULES_WITH_OPTIMIZER else [f'_base_/schedules/{run.opt}.py', schedule]


def base_files(run: Run) -> List[str]:
    """Runtime, model, data, UDA method (if any), optimiser and schedule."""
    uda_base, _ = UDA_VARIANTS[run.uda]
    bases = [f'_base_/{run.runtime}.py', MODEL_BASES[(run.architecture, run.backbone)], dataset_base(run)]
    return bases + ([uda_base] if uda_base else []) + schedule_bases(run)


def model_overrides(run: Run) -> dict:
    """Backbone type and ImageNet weights of MiT-B1..B5 (the model files are written for one of them); on the
    synthetic pair no ImageNet weights (trained from scratch, as configs/synth/)."""
    if run.backbone.startswith('mitb'):
        variant = f'mit_b{run.backbone[len("mitb"):]}'
        pretrained = None if run.source == SYNTHETIC_SOURCE else f'pretrained/{variant}.pth'
        return dict(model=dict(pretrained=pretrained, backbone=dict(type=variant)))
    return {}


def pseudo_label_crop(run: Run) -> dict:
    """The rows of :data:`PLCROP`, for 512-pixel-high crops, scaled to the run's crop height."""
    scale = int(run.crop.split('x')[0]) / int(DEFAULT_CROP.split('x')[0])
    return {key: round(rows * scale) for key, rows in PLCROP.items()}


def uda_overrides(run: Run) -> dict:
    """The variant's ``uda`` overrides and the pseudo-label crop."""
    _, overrides = UDA_VARIANTS[run.uda]
    uda = dict(overrides, **(pseudo_label_crop(run) if 'dacs' in run.uda and run.plcrop else {}))
    return dict(uda=uda) if uda else {}


def rare_class_sampling(run: Run) -> dict:
    """``UDADataset.rare_class_sampling`` (T = inf written as :data:`RCS_UNIFORM_TEMP`)."""
    class_temp = RCS_UNIFORM_TEMP if math.isinf(run.rcs_T) else run.rcs_T
    return dict(min_pixels=run.rcs_min_pixels, class_temp=class_temp, min_crop_ratio=RCS_MIN_CROP_RATIO)


def data_overrides(run: Run) -> dict:
    """Batch and workers; for UDA the ``UDADataset`` of the base's source and target data sets (with RCS)."""
    train = dict(batch_size=run.batch_size, num_workers=run.workers)
    if run.uda != 'target-only':
        dataset = dict(type='UDADataset', source=base_var('source_dataset'), target=base_var('target_dataset'))
        if 'dacs' in run.uda and run.rcs_T is not None:
            dataset['rare_class_sampling'] = rare_class_sampling(run)
        train.update(persistent_workers=True, sampler=dict(type='InfiniteSampler', shuffle=True), dataset=dataset)
    # Validation and test take the workers from the data config, as the reference's workers_per_gpu.
    return dict(train_dataloader=train, val_dataloader=dict(num_workers=run.workers),
                test_dataloader=dict(num_workers=run.workers))


def optimizer_overrides(run: Run) -> dict:
    """lr and the parameter-wise rules: head lr x10 (pmult), no decay of MiT norms / pos_block."""
    custom_keys = {}
    if run.pmult:
        custom_keys['head'] = dict(lr_mult=10.0)
    if 'mit' in run.backbone:
        custom_keys['pos_block'] = dict(decay_mult=0.0)
        custom_keys['norm'] = dict(decay_mult=0.0)
    return dict(optim_wrapper=dict(optimizer=dict(lr=run.lr), paramwise_cfg=dict(custom_keys=custom_keys)))


@functools.lru_cache(maxsize=None)
def schedule_file(schedule: str) -> Tuple[int, Tuple[dict, ...]]:
    """``max_iters`` and ``param_scheduler`` of ``_base_/schedules/{schedule}.py``."""
    cfg = Config.fromfile(str(CONFIG_ROOT / '_base_' / 'schedules' / f'{schedule}.py')).to_dict()
    return cfg['max_iters'], tuple(cfg['param_scheduler'])


def schedule_overrides(run: Run) -> dict:
    """The schedule file's schedulers stretched to ``run.iters`` (the reference's poly follows max_iters)."""
    max_iters, schedulers = schedule_file(run.schedule)
    if max_iters == run.iters:
        return {}
    return dict(max_iters=run.iters, param_scheduler=[dict(s, max_iters=run.iters, end=run.iters) for s in schedulers])


def loop_overrides(run: Run) -> dict:
    """Iterations, evaluation interval and the one checkpoint at the end."""
    checkpoint = dict(by_epoch=False, interval=run.iters, max_keep_ckpts=1)
    if run.save_best:
        checkpoint.update(save_best='mIoU', rule='greater')
    val_interval = run.val_interval or run.iters // 10
    return dict(train_cfg=dict(type='IterBasedTrainLoop', max_iters=run.iters, val_interval=val_interval),
                val_cfg=dict(type='ValLoop'), test_cfg=dict(type='TestLoop'),
                default_hooks=dict(checkpoint=checkpoint))


def experiment_config(exp_id: int, run: Run) -> dict:
    """The config dict of one run."""
    cfg = dict(_base_=base_files(run), randomness=dict(seed=run.seed))
    for part in (model_overrides, uda_overrides, data_overrides, optimizer_overrides, schedule_overrides,
                 loop_overrides):
        cfg.update(part(run))
    cfg.update(metadata(exp_id, run))
    return cfg


# ---------------------------------------------------------------------------------------------------
# Experiments
# ---------------------------------------------------------------------------------------------------
FINAL_DAFORMER = Run('daformer_sepaspp', 'mitb5', 'dacs_a999_fdthings', rcs_T=0.01, plcrop=True)


def with_seeds(members: Sequence[Run]) -> List[Run]:
    """Every member with every seed of :data:`SEEDS`."""
    return [replace(member, seed=seed) for member in members for seed in SEEDS]


def rcs_fd_ablation() -> List[Run]:
    """5: RCS / FD ablation on SegFormer MiT-B5 (DAFormer Table 5), and the full strategy on DLV2-R101."""
    segformer = Run('segformer', 'mitb5', 'dacs')
    return with_seeds([
        replace(segformer, rcs_T=math.inf),
        replace(segformer, rcs_T=0.01),
        replace(segformer, uda='dacs_fd'),
        replace(segformer, uda='dacs_fdthings'),
        replace(segformer, uda='dacs_fdthings', rcs_T=0.01),
        replace(segformer, uda='dacs_a999_fdthings', rcs_T=0.01, plcrop=True),
        replace(FINAL_DAFORMER, architecture='dlv2red', backbone='r101v1c'),
    ])


DECODER_STUDY = ['daformer_conv1', 'upernet', 'upernet_ch256', 'daformer_isa', 'daformer_sepaspp_bottleneck',
                 'daformer_aspp', 'daformer_sepaspp']


def decoder_study() -> List[Run]:
    """6: decoders on MiT-B5 (DAFormer Table 7), each with the full UDA strategy and target-only."""
    return with_seeds([replace(FINAL_DAFORMER, architecture=architecture, uda=uda)
                       for architecture in DECODER_STUDY for uda in ('dacs_a999_fdthings', 'target-only')])


def synthia_final() -> List[Run]:
    """7: final DAFormer on Synthia -> Cityscapes (DAFormer Table 6)."""
    return with_seeds([replace(FINAL_DAFORMER, source='synthia')])


def cityscapes_to_adverse_final() -> List[Run]:
    """8: final DAFormer on Cityscapes -> ACDC and Cityscapes -> Dark Zurich (pseudo-label crop v1)."""
    return with_seeds([replace(FINAL_DAFORMER, source='cityscapes', target=target)
                       for target in ('acdc', 'darkzurich')])


def ebda_acdc() -> List[Run]:
    """90: EBDA on Cityscapes -> ACDC, as configs/ebda/ (batch 1, 8 workers, 50k iterations, best mIoU)."""
    return with_seeds([replace(FINAL_DAFORMER, uda='dacs_a999_fdthings_eb', source='cityscapes', target='acdc',
                               batch_size=1, workers=8, iters=50000, val_interval=2000, save_best=True)])


# The architectures of the reference's tables 1-3 and 7 (spec §10.2: 22 in the reference's list).
STARTUP_ARCHITECTURES = [
    # Table 1: architecture comparison
    ('dlv2red', 'r101v1c'), ('da_nodbn', 'r101v1c'), ('isa_nodbn', 'r101v1c'), ('dlv3p_nodbn', 'r101v1c'),
    ('segformer', 'mitb5'),
    # Table 2: SegFormer encoder / decoder ablation
    ('sfa_dlv3p_nodbn', 'mitb5'), ('segformer', 'r101v1c'),
    # Table 3: encoder study
    ('dlv2red', 'r50v1c'), ('dlv2red', 's50'), ('dlv2red', 's101'), ('dlv2red', 's200'),
    ('segformer', 'mitb3'), ('segformer', 'mitb4'),
    # Table 7: decoder study
] + [(architecture, 'mitb5') for architecture in DECODER_STUDY]


def architecture_startup_test() -> List[Run]:
    """100: every architecture target-only for 2 iterations, seed 0."""
    return [Run(architecture, backbone, 'target-only', iters=STARTUP_ITERS, val_interval=STARTUP_VAL_INTERVAL)
            for architecture, backbone in STARTUP_ARCHITECTURES]


def uda_startup_test() -> List[Run]:
    """101: every UDA variant on the final DAFormer model for 2 iterations, seed 0."""
    base = replace(FINAL_DAFORMER, rcs_T=None, plcrop=False, iters=STARTUP_ITERS, val_interval=STARTUP_VAL_INTERVAL)
    return [
        replace(base, uda='target-only'),
        replace(base, uda='dacs_srconly'),
        replace(base, uda='dacs_srconly_aug'),
        replace(base, uda='dacs', rcs_T=math.inf),
        replace(base, uda='dacs_fd'),
        replace(base, uda='dacs_fdthings'),
        replace(base, uda='dacs_fdthings', rcs_T=0.01),
        replace(base, uda='dacs_a999_fdthings', rcs_T=0.01, plcrop=True),
        replace(base, uda='dacs_a999_fdthings_eb', rcs_T=0.01, plcrop=True),
    ]


def synthetic_benchmark() -> List[Run]:
    """200: the embedded synthetic pair on CPU (configs/synth/): source-only, DACS, + RCS, + entropy balancing."""
    synth = Run('daformer_conv1', 'mit_tiny', 'dacs', source=SYNTHETIC_SOURCE, crop=SYNTHETIC_CROP, lr=6e-4,
                schedule='synth_adamw_2k', pmult=False, iters=2000, batch_size=8, workers=1, val_interval=2000,
                runtime='synth_runtime', rcs_min_pixels=SYNTHETIC_RCS_MIN_PIXELS)
    return with_seeds([
        replace(synth, uda='dacs_srconly'),
        synth,
        replace(synth, rcs_T=0.01),
        replace(synth, uda='dacs_eb', rcs_T=0.01),
    ])


EXPERIMENTS: Dict[int, Callable[[], List[Run]]] = {
    5: rcs_fd_ablation,
    6: decoder_study,
    7: synthia_final,
    8: cityscapes_to_adverse_final,
    90: ebda_acdc,
    100: architecture_startup_test,
    101: uda_startup_test,
    200: synthetic_benchmark,
}
# Reference IDs that cannot run yet: ID -> (what it is, the missing components).
PENDING_EXPERIMENTS: Dict[int, Tuple[str, Tuple[str, ...]]] = {
    1: ('DAFormer Table 1, architecture comparison', ('ResNet', 'DeepLabV2', 'DANet', 'ISANet', 'DeepLabV3+')),
    2: ('DAFormer Table 2, SegFormer encoder / decoder ablation', ('ResNet', 'DeepLabV3+')),
    3: ('DAFormer Table 3, encoder study', ('ResNet', 'ResNeSt', 'DeepLabV2')),
    4: ('DAFormer Table 4, learning-rate warm-up ablation', ('ResNet', 'DeepLabV2')),
    40: ('HRDA Table 1, final HRDA', ('HRDA', )),
    41: ('HRDA Table 2, HRDA with other UDA methods', ('HRDA', 'ResNet', 'DeepLabV2', 'AdvSeg', 'MinEnt')),
    42: ('HRDA Fig. 4 left, crop-size study for UDA', ('HRDA', )),
    43: ('HRDA Fig. 4 right, crop-size study for target-only', ('HRDA', )),
    44: ('HRDA Tables 3-7, S1 and Fig. S1, ablations', ('HRDA', )),
    49: ('HRDA on Cityscapes -> ACDC and Dark Zurich', ('HRDA', )),
    80: ('MIC Table 2, MIC(HRDA) on four benchmarks', ('HRDA', 'MIC')),
    81: ('MIC Table 1, MIC with other UDA methods', ('HRDA', 'MIC', 'ResNet', 'DeepLabV2', 'AdvSeg', 'MinEnt')),
    82: ('MIC Table 6, domain study', ('HRDA', 'MIC')),
    83: ('MIC Table 7, MIC ablation', ('MIC', )),
    84: ('MIC Table 8, block size and mask ratio', ('MIC', )),
    85: ('MIC Table 9, supervised Cityscapes with MIC', ('MIC', )),
}
# Members of the generated experiments that are left out: ID -> [(run name, missing components)].
UNSUPPORTED_MEMBERS: Dict[int, List[Unsupported]] = {
    exp_id: [Unsupported(run_name(run), missing_components(run)) for run in members() if missing_components(run)]
    for exp_id, members in EXPERIMENTS.items()
}


def on_synthetic_pair(run: Run) -> Run:
    """``run`` with the embedded synthetic pair as data (``--data synth``): any source and target become the
    synthetic GTA -> Cityscapes pair with 128x128 crops, rare class sampling thresholds for its image size,
    at most :data:`SYNTHETIC_MAX_WORKERS` loader processes; model, UDA method and schedule stay."""
    return replace(run, source=SYNTHETIC_SOURCE, target='cityscapes', crop=SYNTHETIC_CROP,
                   rcs_min_pixels=SYNTHETIC_RCS_MIN_PIXELS, workers=min(run.workers, SYNTHETIC_MAX_WORKERS))


def generate_experiment_cfgs(exp_id: int, data: str = 'benchmark') -> List[dict]:
    """One config dict per run of experiment ``exp_id`` (all seeds); see the module docstring.

    ``data='synth'`` puts every run on the embedded synthetic pair (:func:`on_synthetic_pair`), so that any ID
    can be smoke-tested on a CPU.
    """
    if data not in DATA_CHOICES:
        raise ValueError(f'unknown data {data!r}; expected one of {", ".join(DATA_CHOICES)}')
    if exp_id in PENDING_EXPERIMENTS:
        description, missing = PENDING_EXPERIMENTS[exp_id]
        raise MissingComponentsError(exp_id, description, missing)
    if exp_id not in EXPERIMENTS:
        pending = ', '.join(map(str, PENDING_EXPERIMENTS))
        raise ValueError(f'unknown experiment ID {exp_id}; valid IDs: {", ".join(map(str, EXPERIMENTS))} '
                         f'(not yet runnable: {pending})')
    runs = [run for run in EXPERIMENTS[exp_id]() if not missing_components(run)]
    if data == 'synth':
        runs = [on_synthetic_pair(run) for run in runs]
    return [experiment_config(exp_id, run) for run in runs]
