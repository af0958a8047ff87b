"""Experiment IDs: one ID expands a paper table into run configs, all seeds (spec §10.1, §10.2).

``generate_experiment_cfgs(exp_id)`` returns one config dict per run, built like the reference's
``experiments.py`` (DAFormer, HRDA and MIC): ``_base_`` files (paths relative to ``configs/``; prefix them with
``../../`` when writing to ``configs/generated/<exp>/``) plus the overrides of the run (seed, model, UDA keys,
rare class sampling, optimiser, schedule, batch, evaluation), the run ``name`` in the reference scheme and the
metadata keys ``exp``, ``name_dataset``, ``name_architecture``, ``name_encoder``, ``name_decoder``, ``name_uda``,
``name_opt``; HRDA / MIC runs also ``gpu_model`` and ``n_gpus``, and their ``name_dataset`` ends with the crop.

The dicts are plain except for :class:`BaseVar` values, the ``{{_base_.source_dataset}}`` references of
the hand-written configs: a ``str`` whose ``repr`` is the bare reference, so that a config file written
with ``repr`` (or run_experiments' ``_literal``) resolves it against its bases.

HRDA runs carry the reference's architecture string ``hrda1-{hrcrop}-{λ_hr}[-opts]_{decoder}`` (parsed by
:func:`hrda_architecture`): the HRDA model base of the decoder with the detail crop, the detail loss weight and
the ablation options written into the config. Pseudo-label crop v2 (``_cpl2``, HRDA / MIC) lives in the data:
the target of the data set base carries ``crop_pseudo_margins``. The HR Cityscapes bases have them, the ACDC /
Dark Zurich ones not; a run with v2 on a base without them takes the base's ``_cpl2`` variant
(``uda_gta_to_cityscapes_512x512_cpl2.py``, the synthetic pair's). A run without a pseudo-label crop on a base with
margins uses them, as the reference's HR runs do (HRDA 41: their data carry the margins whatever the run's name
says); plcrop v1 on a base with margins is an error (the two exclude each other).

IDs (as in the reference, seeds [0, 1, 2] unless noted):

- 1: architecture comparison (DAFormer Table 1): DeepLabV2 (``dlv2red``), DANet, ISANet and DeepLabV3+ on ResNet-101
  without decoder BN, and SegFormer on MiT-B5; each source-only (a plain segmentor on GTA, validated on Cityscapes),
  with DACS and target-only.
- 2: SegFormer encoder / decoder ablation (Table 2): MiT-B5 + SegFormerAdapter + DeepLabV3+ decoder
  (``sfa_dlv3p_nodbn``, ``mitb5-del``) and ResNet-101 + SegFormer head; with DACS and target-only.
- 3: encoder study (Table 3), seed 0: DeepLabV2 on ResNet-50 and ResNeSt-50/101/200, SegFormer on MiT-B3/B4; each
  source-only, with DACS and target-only.
- 4: learning-rate warm-up ablation (Table 4), seed 0: DeepLabV2 on ResNet-101 and SegFormer on MiT-B5 with the poly
  schedule without warm-up (``poly10``), each with DACS and target-only (their warm-up runs are members of 1).
- 5: RCS / FD ablation on SegFormer MiT-B5 (DAFormer Table 5).
- 6: decoder study (Table 7), full UDA and target-only.
- 7: final DAFormer on Synthia -> Cityscapes (Table 6; evaluated with mIoU16 too).
- 8: final DAFormer on Cityscapes -> ACDC and Cityscapes -> Dark Zurich (pseudo-label crop v1).
- 40: final HRDA (HRDA Table 1) on GTA-HR and Synthia-HR -> Cityscapes-HR: ``hrda1-512-0.1_daformer_sepaspp``,
  1024 crops, RCS min_crop_ratio 2.0, pseudo-label crop v2, slide inference.
- 41: HRDA with other UDA methods (HRDA Table 2), all on DeepLabV2-R101: AdvSeg, MinEnt, DACS and DAFormer's
  UDA (``dacs_a999_fdthings``, RCS, pseudo-label crop), each at LR (GTA -> Cityscapes 512x512) and with HRDA
  (``hrda1-512-0.1_dlv2red``, GTA-HR -> Cityscapes-HR 1024x1024, plcrop v2 for DAFormer's UDA). AdvSeg and MinEnt
  train as the reference with SGD (lr 0.0025, no head multiplier) on colour-augmented source data (the ``gtaCAug`` /
  ``gtaCAugHR`` data sets, PhotoMetricDistortion on the source); DACS and DAFormer's UDA with AdamW.
- 42: HRDA crop-size study for UDA (Fig. 4 left): DAFormer with synchronised crops 128, 256, 384 and the full
  512 at LR, 256, 512, 768 of the 1024 crops at HR (plcrop v2 for all: the row cut of v1 needs crops of the
  full image height). The synchronised crops are ``UDADataset.sync_crop_size``; the slide inference uses
  windows of that size (for HR 256 not batched, as the reference, to save memory).
- 43: the same crop study target-only (Fig. 4 right), as Cityscapes crops of these sizes.
- 44: HRDA ablations on GTA -> Cityscapes: context crop (Table 3), detail crop (Table 4), naive HR (Table 5),
  detail-crop variants (Table 6), components (Table 7), detail loss weight (Fig. S1), context scale (Table S1).
- 49: HRDA on Cityscapes-HR -> ACDC-HR and -> Dark Zurich-HR (no pseudo-label crop).
- 80: MIC(HRDA) (MIC Table 2): GTA / Synthia with ``separatetrgaug`` and plcrop v2, ACDC / Dark Zurich with
  ``separate`` and no plcrop; blocks of 64, ratio 0.7.
- 81: MIC with other UDA methods (MIC Table 1), ``separatetrgaug`` with ratio 0.7 (blocks of 32 at LR, 64 at HR):
  on DeepLabV2-R101 AdvSeg and MinEnt (SGD, CAug data, MIC with its own teacher), DACS, DAFormer's UDA, and HRDA
  (``hrda1-512-0.1_dlv2red``); DAFormer's UDA on MiT-B5.
- 82: MIC domain study (Table 6): GTA with ``separatesrcaug`` / ``separateaug``, ACDC with ``separatesrc`` /
  ``separatetrg``.
- 83: MIC ablation on the final DAFormer (Table 7; blocks of 32 at 512): without colour augmentation, without
  masking (ratio 0), without EMA teacher (``mask_alpha=0``), without confidence weight (threshold None).
- 84: MIC block size {16, 32, 64, 128} x mask ratio {0.3, 0.5, 0.7, 0.9} on the final DAFormer (Table 8).
- 85: supervised Cityscapes with MIC (Table 9): ``dacs_srconly`` Cityscapes -> Cityscapes, ``separatesrc``.
- 90: EBDA on Cityscapes -> ACDC (not a reference ID; the EBDA repository runs its final config only):
  the final DAFormer with entropy balancing, batch 1, 8 workers, 50k iterations, evaluation every 2000
  iterations keeping the best-mIoU checkpoint, as configs/ebda/.
- 91: EBDA's second benchmark, Cityscapes -> Foggy Cityscapes (β 0.02) + Rain Cityscapes (not a reference ID; the
  EBDA repository has nothing for it): DAFormer and EBDA with the recipe of 90, validation per target, as
  configs/daformer/ and configs/ebda/ ``cs2foggyrain_*``. With ``data='synth'`` its runs go to the synthetic pair's
  fog + rain variant.
- 92: CDDA (not a reference ID; the CDDA repository runs its six configs, as configs/cdda/): DAFormer, HRDA and
  MIC(HRDA), each on GTA and on SYNTHIA, with the depth-distribution guidance (``uda.cdda``: the thresholds of the
  configs, the decay window [iters / 4, iters) every iters / 40) on the ``*_depth.py`` data bases, one seed each as
  the configs (DAFormer 0, HRDA 1, MIC 2), evaluation every 1000 iterations keeping the best-mIoU checkpoint. Each
  run needs its source bank first: ``python tools/cdda_preprocess.py <generated config>``.
- 100: architecture start-up test, target-only, 2 iterations, seed 0.
- 101: UDA start-up test, every UDA variant on the final DAFormer model, 2 iterations, seed 0.
- 200: the embedded synthetic pair on CPU (not a reference ID): source-only, DACS, + RCS, + entropy
  balancing, HRDA, MIC and MIC(HRDA) with the tiny DAFormer of configs/synth/ (detail crop 64, MIC blocks of 16,
  ratio 0.7, as configs/synth/). No ImageNet feature distance: the tiny model has no ImageNet weights, so FD
  would pull the features towards a random initialisation.
- 201: the fog + rain variant of the synthetic pair (not a reference ID): DACS + RCS and EBDA (DACS + RCS + entropy
  balancing with the reference's second forward) of ID 200 with the synthetic Foggy (β 0.02) + Rain targets, as
  configs/synth/synth_gta2foggyrain_*.py.
- 202: the CNN ladder on the synthetic pair (not a reference ID): DeepLabV2 (``dlv2red``) on a quarter-width
  ResNetV1c-18 trained from scratch (configs/_base_/models/dlv2red_r18v1c_tiny.py, about as costly as the tiny
  DAFormer) with the schedule of 200: source-only, AdvSeg (discriminator of a quarter width, ``advseg_ndf16``),
  MinEnt and DACS + RCS, all on the same source data (no CAug, so the rows differ by the adaptation alone).

Members whose architecture or backbone does not exist yet would be left out of the generated list and listed in
:data:`UNSUPPORTED_MEMBERS` (none at present). IDs whose components do not exist yet are listed in
:data:`PENDING_EXPERIMENTS`; asking for them raises :class:`MissingComponentsError` naming the missing components. An
unknown decoder name raises an error that lists the known ones.

``data='synth'`` (:func:`on_synthetic_pair`) scales what depends on the image size with the crop (1024 or 512
-> 128): HRDA detail crops (512 of 1024 -> 64), synchronised crops and MIC blocks (64 of 1024 and 32 of 512 ->
8: the reference's 16x16 grid of blocks; every block size of the IDs gives a divisor of 128), the plcrop v1
rows and v2 margins (the synthetic ``_cpl2`` base: [30, 240, 30, 30] of the 1024-high Cityscapes images ->
[4, 30, 4, 4] of the 128-high synthetic ones, the rows of v1 at this size); the RCS min_crop_ratio is 0.5 (the
HR runs' 2.0 compensates for twice the image resolution, which the synthetic pair does not have).
"""
import functools
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

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
# HRDA / MIC: 0.5 x 2^2, the images have twice the resolution (4x the pixels per class).
HR_RCS_MIN_CROP_RATIO = 2.0
# T = inf (uniform class sampling) cannot be written into a .py config (mmengine dumps it as `inf`, which
# does not load back). For T >= 1e8, (1 - f) / T is below float32 resolution, so the softmax of the rare
# class sampler is exactly uniform, bit for bit the T = inf probabilities; the name keeps 'rcsinf'.
RCS_UNIFORM_TEMP = 1e9
# The pseudo-label crop of DAFormer (plcrop v1): rows at the top / bottom of target crops get weight 0.
PLCROP = dict(pseudo_weight_ignore_top=15, pseudo_weight_ignore_bottom=120)
# Name suffix of each pseudo-label crop version; v2 is also the suffix of the data set base variant whose target
# carries the margins.
PLCROP_NAMES = {'v1': '_cpl', 'v2': '_cpl2'}
# Schedule files that configure their own optimiser (no `_base_/schedules/{opt}.py` next to them).
SCHEDULES_WITH_OPTIMIZER = ('synth_adamw_2k', )
# The GPUs of the reference runs (HRDA / MIC metadata).
TITAN_RTX = 'NVIDIATITANRTX'
RTX_2080_TI = 'NVIDIAGeForceRTX2080Ti'
# The embedded synthetic pair (tools/make_synthetic_data.py; `run_experiments.py --data synth`): its runs
# have this source, 128x128 crops, no ImageNet weights, and a rare class sampling threshold for 128x128
# images (about 3000 pixels of a 1914x1052 GTA frame, scaled to the synthetic source images).
SYNTHETIC_SOURCE = 'synthetic_gta'
SYNTHETIC_CROP = '128x128'
SYNTHETIC_RCS_MIN_PIXELS = 30
SYNTHETIC_TARGET_ONLY_DATASET = '_base_/datasets/synthetic_cityscapes_128x128.py'
# Data loader processes per run on the synthetic pair, where the reference's 4 (or 8) only add start-up time.
SYNTHETIC_MAX_WORKERS = 2
# Train-loader processes a UDA run on the real data needs to keep up with the speed goals on one GPU
# (tools/benchmark_data.py, benchmarks/README.md): a source + target pair costs a worker about 128 ms at
# DAFormer's 512 crops and 160 ms at HRDA's 1024 crops, so a 45 ms (DAFormer) or 90 ms (HRDA) iteration of
# batch 2 needs 6 or 4 workers. (largest crop side, workers), first match; never fewer than workers_per_gpu.
UDA_TRAIN_WORKERS = ((512, 6), (1024, 4))
# The multi-target benchmark of Foggy + Rain Cityscapes; with the synthetic pair's targets it keeps its name (the
# synthetic pair renders fog and rain of its target, uda_synthetic_gta_to_foggyrain_128x128.py).
FOG_RAIN = 'foggyrain'
SYNTHETIC_TARGETS = ('cityscapes', FOG_RAIN)
DATA_CHOICES = ('benchmark', 'synth')

# (architecture, backbone) -> model base file. SegFormer on MiT-B3/B4 uses the B5 file with another
# backbone type, as the reference ("<=b4 refers to b5 config"); the CNN decoders use the reference's ResNet-50 d8
# files, with the run's backbone set by :func:`backbone_overrides` and the decoder options (``sfa_``, ``_nodbn``) by
# :func:`decoder_overrides`.
MODEL_BASES: Dict[Tuple[str, str], str] = {
    ('segformer', 'mitb3'): '_base_/models/segformer_mitb5.py',
    ('segformer', 'mitb4'): '_base_/models/segformer_mitb5.py',
    ('segformer', 'mitb5'): '_base_/models/segformer_mitb5.py',
    ('segformer', 'r101v1c'): '_base_/models/segformer_r101.py',
    ('upernet', 'mitb5'): '_base_/models/upernet_mit.py',
    ('upernet_ch256', 'mitb5'): '_base_/models/upernet_ch256_mit.py',
    ('dlv2red', 'r50v1c'): '_base_/models/deeplabv2red_r50-d8.py',
    ('dlv2red', 'r101v1c'): '_base_/models/deeplabv2red_r50-d8.py',
    ('dlv2red', 's50'): '_base_/models/deeplabv2red_r50-d8.py',
    ('dlv2red', 's101'): '_base_/models/deeplabv2red_r50-d8.py',
    ('dlv2red', 's200'): '_base_/models/deeplabv2red_r50-d8.py',
    ('da_nodbn', 'r101v1c'): '_base_/models/danet_r50-d8.py',
    ('isa_nodbn', 'r101v1c'): '_base_/models/isanet_r50-d8.py',
    ('dlv3p_nodbn', 'r101v1c'): '_base_/models/deeplabv3plus_r50-d8.py',
    ('sfa_dlv3p_nodbn', 'mitb5-del'): '_base_/models/deeplabv3plus_r50-d8.py',
    ('daformer_conv1', 'mitb5'): '_base_/models/daformer_conv1_mitb5.py',
    ('daformer_isa', 'mitb5'): '_base_/models/daformer_isa_mitb5.py',
    ('daformer_sepaspp_bottleneck', 'mitb5'): '_base_/models/daformer_sepaspp_bottleneck_mitb5.py',
    ('daformer_aspp', 'mitb5'): '_base_/models/daformer_aspp_mitb5.py',
    ('daformer_sepaspp', 'mitb5'): '_base_/models/daformer_sepaspp_mitb5.py',
    ('daformer_conv1', 'mit_tiny'): '_base_/models/daformer_conv1_mit_tiny.py',
    ('dlv2red', 'r18v1c_tiny'): '_base_/models/dlv2red_r18v1c_tiny.py',
}
# (decoder, backbone) of an HRDA architecture -> model base file (HRDAEncoderDecoder with HRDAHead around it).
HRDA_MODEL_BASES: Dict[Tuple[str, str], str] = {
    ('daformer_sepaspp', 'mitb5'): '_base_/models/daformer_sepaspp_mitb5_hrda.py',
    ('daformer_conv1', 'mit_tiny'): '_base_/models/daformer_conv1_mit_tiny_hrda.py',
    ('dlv2red', 'r101v1c'): '_base_/models/deeplabv2red_r50-d8_hrda.py',
}
HRDA_PREFIX = 'hrda1-'
# Architectures and backbones of the reference experiments that are not implemented yet (none at present).
MISSING_ARCHITECTURES: Dict[str, Tuple[str, ...]] = {}
MISSING_BACKBONES: Dict[str, Tuple[str, ...]] = {}
# CNN backbones of the run names -> (ImageNet weights, overrides of the model base's backbone), as the reference's
# get_pretraining_file / get_backbone_cfg: the ResNeSt keys merge into the d8 ResNetV1c dict of the base (its
# strides, dilations and contract_dilation stay).
CNN_BACKBONES: Dict[str, Tuple[str, dict]] = {
    'r50v1c': ('open-mmlab://resnet50_v1c', dict(depth=50)),
    'r101v1c': ('open-mmlab://resnet101_v1c', dict(depth=101)),
    's50': ('open-mmlab://resnest50', dict(type='ResNeSt', depth=50, stem_channels=64, radix=2, reduction_factor=4,
                                           avg_down_stride=True)),
    's101': ('open-mmlab://resnest101', dict(type='ResNeSt', depth=101, stem_channels=128, radix=2,
                                             reduction_factor=4, avg_down_stride=True)),
    's200': ('open-mmlab://resnest200', dict(type='ResNeSt', depth=200, stem_channels=128, radix=2,
                                             reduction_factor=4, avg_down_stride=True)),
}
# MiT backbone names ending in this replace the model base's (ResNet) backbone dict instead of updating it.
DELETE_BACKBONE_SUFFIX = '-del'

# UDA variant -> (uda base file, or None for a plain segmentor; overrides of its `uda` dict).
UDA_VARIANTS: Dict[str, Tuple[Optional[str], dict]] = {
    'target-only': (None, {}),
    'source-only': (None, {}),
    'dacs_srconly': ('_base_/uda/dacs_srconly.py', {}),
    'dacs_srconly_aug': ('_base_/uda/dacs_srconly_aug.py', {}),
    'dacs': ('_base_/uda/dacs.py', {}),
    'dacs_fd': ('_base_/uda/dacs_fd.py', {}),
    'dacs_fdthings': ('_base_/uda/dacs_fdthings.py', {}),
    'dacs_a999_fdthings': ('_base_/uda/dacs_a999_fdthings.py', {}),
    'dacs_a999_fdthings_eb': ('_base_/uda/dacs_a999_fdthings_eb.py', {}),
    # Entropy balancing on plain DACS (the synthetic pair, where FD does not apply).
    'dacs_eb': ('_base_/uda/dacs.py', dict(entropy_balance=dict(target=0.4, weight=0.1, second_forward=True))),
    # The output-space baselines (HRDA 41, MIC 81; trained with SGD on colour-augmented source data).
    'advseg': ('_base_/uda/advseg.py', {}),
    'minent': ('_base_/uda/minent.py', {}),
    # AdvSeg with a discriminator of a quarter of the width, for the quarter-width ResNet of the CNN ladder (202).
    'advseg_ndf16': ('_base_/uda/advseg.py', dict(discriminator=dict(type='FCDiscriminator', ndf=16))),
}
# Variants that train a plain segmentor on one labelled data set of the base (no UDADataset).
PLAIN_SEGMENTOR_VARIANTS = ('target-only', 'source-only')
# The colour-augmented ("CAug") source data sets of AdvSeg / MinEnt: PhotoMetricDistortion on the source images.
CAUG = 'CAug'
# The optimiser of AdvSeg / MinEnt in HRDA 41 and MIC 81: SGD, lr 0.0025, no head multiplier (the schedule stays).
OUTPUT_SPACE_OPTIMIZER = dict(opt='sgd', lr=0.0025, pmult=False)
# MIC mask mode -> its abbreviation in the names.
MASK_MODE_NAMES = {'separate': 'sep', 'separateaug': 'spa', 'separatesrc': 'sps', 'separatesrcaug': 'spsa',
                   'separatetrg': 'spt', 'separatetrgaug': 'spta'}


class BaseVar(str):
    """A reference to a variable of the base configs, ``{{_base_.<name>}}``; ``repr`` writes it bare into a
    config file, where mmengine resolves it."""

    def __repr__(self) -> str:
        return str(self)


def base_var(name: str) -> BaseVar:
    """``{{_base_.<name>}}``."""
    return BaseVar(f'{{{{_base_.{name}}}}}')


@dataclass(frozen=True)
class Mask:
    """MIC masked image consistency (spec §6): the ``mask_*`` keys of DACS (reference defaults)."""
    mode: str  # one of MASK_MODE_NAMES
    block_size: int
    ratio: float
    alpha: Union[str, float] = 'same'  # 'same': the DACS teacher
    pseudo_threshold: Union[str, float, None] = 'same'  # None: confidence weight 1
    weight: float = 1  # mask_lambda


@dataclass(frozen=True)
class Cdda:
    """CDDA (spec ebda-cdda-ddb §2): the data set and thresholds of ``uda.cdda``."""
    dataset: str  # 'gta' or 'synthia'
    reweight_threshold: float
    relabel_threshold: float
    threshold_decay: float


@dataclass(frozen=True)
class Run:
    """One training run: the variables of the reference's ``config_from_vars`` (defaults as there)."""
    architecture: str  # HRDA: 'hrda1-{hrcrop}-{λ_hr}[-opts]_{decoder}'
    backbone: str
    uda: str
    seed: int = 0
    source: str = 'gta'
    target: str = 'cityscapes'
    crop: str = DEFAULT_CROP  # 'HxW'
    sync_crop: Optional[int] = None  # square crop synchronised over source and target (UDADataset)
    rcs_T: Optional[float] = None  # rare class sampling temperature; None: off
    rcs_min_pixels: int = 3000
    rcs_min_crop: float = RCS_MIN_CROP_RATIO
    plcrop: Optional[str] = None  # pseudo-label crop: 'v1' (row cut, DAFormer) or 'v2' (margins, HRDA / MIC)
    inference: str = 'whole'  # or 'slide' (windows of the training crop, stride crop / 2)
    batched_slide: bool = True  # slide windows in one batch (False: one after the other, less memory)
    mask: Optional[Mask] = None  # MIC
    cdda: Optional[Cdda] = None  # CDDA (on the data bases with depth maps)
    opt: str = DEFAULT_OPT
    lr: float = DEFAULT_LR
    schedule: str = 'poly10warm'
    pmult: bool = True  # decode head lr x10
    iters: int = 40000
    batch_size: int = 2
    workers: int = 4  # the reference's workers_per_gpu: validation, test and the floor of uda_train_workers()
    val_interval: Optional[int] = None  # None: iters // 10 (10 evaluations)
    save_best: bool = False  # keep the best-mIoU checkpoint (EBDA)
    runtime: str = 'default_runtime'
    gpu_model: Optional[str] = None  # HRDA / MIC runs: the reference's GPU (HRDA / MIC metadata); None: DAFormer


class Unsupported(NamedTuple):
    """A member of an experiment that cannot be generated yet."""
    name: str
    missing: Tuple[str, ...]


class HRDAArchitecture(NamedTuple):
    """The parts of ``hrda1-{hr_crop}-{hr_loss_weight}[-options]_{decoder}``."""
    hr_crop: int
    hr_loss_weight: float
    options: Tuple[str, ...]
    decoder: str


class MissingComponentsError(NotImplementedError):
    """An experiment ID whose runs need components that do not exist yet."""

    def __init__(self, exp_id: int, description: str, missing: Sequence[str]):
        self.missing = tuple(missing)
        super().__init__(f'experiment {exp_id} ({description}) needs components that do not exist yet: '
                         f'{", ".join(self.missing)}')


def hrda_architecture(architecture: str) -> Optional[HRDAArchitecture]:
    """The HRDA settings of ``architecture``, None for a single-scale one."""
    if not architecture.startswith(HRDA_PREFIX):
        return None
    hrda, decoder = architecture.split('_', 1)
    _, hr_crop, hr_loss_weight, *options = hrda.split('-')
    return HRDAArchitecture(int(hr_crop), float(hr_loss_weight), tuple(options), decoder)


def crop_size(crop: str) -> List[int]:
    """``'HxW'`` as ``[H, W]``."""
    return [int(side) for side in crop.split('x')]


def outer_crop_size(run: Run) -> List[int]:
    """The crop the model trains on: the synchronised crop, else the data set's."""
    return [run.sync_crop] * 2 if run.sync_crop else crop_size(run.crop)


def caug_source(source: str) -> str:
    """The colour-augmented variant of a source: ``gta`` -> ``gtaCAug``, ``gtaHR`` -> ``gtaCAugHR``."""
    return f'{source[:-2]}{CAUG}HR' if source.endswith('HR') else f'{source}{CAUG}'


def is_synthetic(run: Run) -> bool:
    """Whether the run trains on the embedded synthetic pair (its plain or CAug source)."""
    return run.source.startswith(SYNTHETIC_SOURCE)


def pseudo_label_crop_version(run: Run) -> Optional[str]:
    """``run.plcrop`` where it applies (DACS or MIC runs), else None."""
    return run.plcrop if 'dacs' in run.uda or run.mask is not None else None


# ---------------------------------------------------------------------------------------------------
# Config names (spec §10.1)
# ---------------------------------------------------------------------------------------------------
NAME_REPLACEMENTS = [('.', ''), ('True', 'T'), ('False', 'F'), ('None', 'N'), ('[', ''), (']', ''), (',', 'j'),
                     (' ', ''), ('cityscapes', 'cs'), ('synthia', 'syn'), ('darkzurich', 'dzur')]


def mask_name(mask: Mask) -> str:
    """``_m{block}-{ratio}-[a{alpha}-][p{threshold}-]{mode}[-w{lambda}]``."""
    name = f'_m{mask.block_size}-{mask.ratio}-'
    if mask.alpha != 'same':
        name += f'a{mask.alpha}-'
    if mask.pseudo_threshold != 'same':
        name += f'p{mask.pseudo_threshold}-'
    name += MASK_MODE_NAMES[mask.mode]
    if mask.weight != 1:
        name += f'-w{mask.weight}'
    return name


def uda_name(run: Run) -> str:
    """``name_uda``: the UDA variant with ``_rcs{T}[-{min_crop}]`` and ``_sf{H}x{W}`` (DACS runs), ``_cpl`` /
    ``_cpl2`` (pseudo-label crop) and the MIC mask suffix."""
    name = run.uda
    if 'dacs' in run.uda and run.rcs_T is not None:
        name += f'_rcs{run.rcs_T}'
        if run.rcs_min_crop != RCS_MIN_CROP_RATIO:
            name += f'-{run.rcs_min_crop}'
    if 'dacs' in run.uda and run.sync_crop:
        name += f'_sf{run.sync_crop}x{run.sync_crop}'
    plcrop = pseudo_label_crop_version(run)
    if plcrop:
        name += PLCROP_NAMES[plcrop]
    if run.mask is not None:
        name += mask_name(run.mask)
    if run.cdda is not None:
        name += '_cdda'
    return name


def architecture_name(run: Run) -> str:
    """``name_decoder``: the architecture, ``_sl`` for slide inference."""
    return run.architecture + ('_sl' if run.inference == 'slide' else '')


def opt_name(run: Run) -> str:
    """``name_opt``: optimiser, lr, head multiplier, schedule, GPUs x batch and iterations."""
    return f'{run.opt}_{run.lr}_pm{run.pmult}_{run.schedule}_{N_GPUS}x{run.batch_size}_{run.iters // 1000}k'


def crop_name(run: Run) -> str:
    """``_{crop}`` unless it is the default crop."""
    return f'_{run.crop}' if run.crop != DEFAULT_CROP else ''


def run_name(run: Run) -> str:
    """``{source}2{target}[_crop]_{uda}_{arch}_{backbone}_{schedule}[_opt][_lr][_pmF]_s{seed}``, shortened."""
    name = f'{run.source}2{run.target}{crop_name(run)}_{uda_name(run)}_{architecture_name(run)}_{run.backbone}_' \
           f'{run.schedule}'
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
    """``name``, ``exp`` and the ``name_*`` keys of the reference configs (HRDA / MIC: with the crop in
    ``name_dataset``, and ``gpu_model``, ``n_gpus``)."""
    hrda_mic = run.gpu_model is not None
    meta = dict(name=run_name(run), exp=exp_id,
                name_dataset=f'{run.source}2{run.target}' + (crop_name(run) if hrda_mic else ''),
                name_architecture=f'{architecture_name(run)}_{run.backbone}', name_encoder=run.backbone,
                name_decoder=architecture_name(run), name_uda=uda_name(run), name_opt=opt_name(run))
    if hrda_mic:
        meta.update(gpu_model=run.gpu_model, n_gpus=N_GPUS)
    return meta


# ---------------------------------------------------------------------------------------------------
# Config parts
# ---------------------------------------------------------------------------------------------------
def missing_components(run: Run) -> Tuple[str, ...]:
    """The components ``run`` needs that do not exist yet (empty if it can be generated)."""
    hrda = hrda_architecture(run.architecture)
    decoder = hrda.decoder if hrda else run.architecture
    if (decoder, run.backbone) in (HRDA_MODEL_BASES if hrda else MODEL_BASES):
        return ()
    missing = MISSING_BACKBONES.get(run.backbone, ()) + MISSING_ARCHITECTURES.get(decoder, ())
    if not missing:
        raise ValueError(unknown_model_message(decoder, run.backbone, hrda is not None))
    return tuple(dict.fromkeys(missing))


def unknown_model_message(decoder: str, backbone: str, hrda: bool) -> str:
    """Why (decoder, backbone) has no model base: an unknown decoder (listing the known ones), or a backbone the
    decoder has no model for (listing those)."""
    bases = HRDA_MODEL_BASES if hrda else MODEL_BASES
    kind = 'HRDA decoder' if hrda else 'decoder'
    decoders = sorted({known for known, _ in bases} | (set() if hrda else set(MISSING_ARCHITECTURES)))
    if decoder not in decoders:
        return f'unknown {kind} {decoder!r}; known {kind}s: {", ".join(decoders)}'
    backbones = sorted(known for name, known in bases if name == decoder)
    return f'{kind} {decoder!r} has no model for backbone {backbone!r}; its backbones: {", ".join(backbones)}'


def model_base(run: Run) -> str:
    """The model base file of the architecture (the HRDA one for an HRDA architecture)."""
    hrda = hrda_architecture(run.architecture)
    if hrda:
        return HRDA_MODEL_BASES[(hrda.decoder, run.backbone)]
    return MODEL_BASES[(run.architecture, run.backbone)]


@functools.lru_cache(maxsize=None)
def target_has_margins(dataset_base_file: str) -> bool:
    """Whether the target data set of a UDA data set base carries ``crop_pseudo_margins`` (plcrop v2)."""
    cfg = Config.fromfile(str(CONFIG_ROOT / dataset_base_file))
    return cfg.target_dataset.get('crop_pseudo_margins') is not None


def dataset_base(run: Run) -> str:
    """Target-only runs train on the target with its labels: ``{target}_half_{crop}.py`` for Cityscapes (at half
    resolution), ``{target}_{crop}.py`` for the HR Cityscapes, the labelled target on the synthetic pair. The
    others on ``uda_{source}_to_{target}_{crop}.py``, or its ``_cpl2`` variant for plcrop v2 if that base's
    target has no margins."""
    if run.uda == 'target-only':
        if is_synthetic(run):
            return SYNTHETIC_TARGET_ONLY_DATASET
        resolution = '_half' if run.target == 'cityscapes' else ''
        return f'_base_/datasets/{run.target}{resolution}_{run.crop}.py'
    if run.uda == 'source-only':
        return f'_base_/datasets/{run.source}_to_{run.target}_{run.crop}.py'
    base = f'_base_/datasets/uda_{run.source}_to_{run.target}_{run.crop}.py'
    margins = pseudo_label_crop_version(run) == 'v2'
    if margins and not target_has_margins(base):
        base = base[:-len('.py')] + f'{PLCROP_NAMES["v2"]}.py'
    if pseudo_label_crop_version(run) == 'v1' and target_has_margins(base):
        raise ValueError(f'{base}: its target carries crop_pseudo_margins (pseudo-label crop v2), which exclude the '
                         f"row cut of plcrop='v1' of {run_name(run)}")
    return base[:-len('.py')] + '_depth.py' if run.cdda is not None else base


def schedule_bases(run: Run) -> List[str]:
    """``_base_/schedules/{opt}.py`` and ``{schedule}.py`` (only the latter if it sets the optimiser)."""
    schedule = f'_base_/schedules/{run.schedule}.py'
    return [schedule] if run.schedule in SCHEDULES_WITH_OPTIMIZER else [f'_base_/schedules/{run.opt}.py', schedule]


def base_files(run: Run) -> List[str]:
    """Runtime, model, data, UDA method (if any), optimiser and schedule."""
    uda_base, _ = UDA_VARIANTS[run.uda]
    bases = [f'_base_/{run.runtime}.py', model_base(run), dataset_base(run)]
    return bases + ([uda_base] if uda_base else []) + schedule_bases(run)


def hrda_model(run: Run) -> dict:
    """The ``model`` keys of an HRDA architecture (spec §4.1, §10.1): detail crop and loss weight; with a detail
    crop as large as the training crop also the context loss (``lr_loss_weight``) and, with FD, the features of
    both scales; then the ablation options."""
    hrda = hrda_architecture(run.architecture)
    if hrda is None:
        return {}
    if run.inference != 'slide':
        raise ValueError(f'{run.architecture}: the HRDA model bases test by slide inference')
    hr_crop = [hrda.hr_crop] * 2
    model = dict(scales=[1, 0.5], hr_crop_size=hr_crop, feature_scale=0.5, crop_coord_divisible=8,
                 hr_slide_inference=True)
    head = dict(attention_classwise=True, hr_loss_weight=hrda.hr_loss_weight)
    if hr_crop == outer_crop_size(run):
        head['lr_loss_weight'] = hrda.hr_loss_weight
        model['feature_scale'] = 'all' if '_fd' in run.uda else 0.5
    for option in hrda.options:
        if option == 'fixedatt':  # the mean of both scales instead of a learned attention
            head['fixed_attention'] = 0.5
        elif option == 'nooverlap':
            model['hr_slide_overlapping'] = False
        elif option == 'singleatt':  # one attention channel for all classes
            head['attention_classwise'] = False
        elif option == 'blurhr':  # the detail crop from the upsampled context image
            model['blur_hr_crop'] = True
        elif option == 'samescale':
            model.update(scales=[1, 1], feature_scale=1)
        elif option.startswith('sc'):  # context scale
            scale = float(option[len('sc'):])
            model['scales'] = [1, scale]
            if not isinstance(model['feature_scale'], str):
                model['feature_scale'] = scale
        else:
            raise ValueError(f'unknown HRDA option {option!r} in {run.architecture!r}')
    return dict(model, decode_head=head)


def backbone_overrides(run: Run) -> dict:
    """``pretrained`` and ``backbone`` of the run's backbone (reference get_pretraining_file / get_backbone_cfg):
    MiT-B1..B5 (``-del``: replacing the base's backbone dict) and the ResNets of :data:`CNN_BACKBONES`; the model
    files are written for one of them. On the synthetic pair no ImageNet weights: trained from scratch as
    configs/synth/. Other backbones (``mit_tiny``) are their model file's."""
    if run.backbone.startswith('mitb'):
        variant = f'mit_b{run.backbone[len("mitb"):].removesuffix(DELETE_BACKBONE_SUFFIX)}'
        pretrained, backbone = f'pretrained/{variant}.pth', dict(type=variant)
        if run.backbone.endswith(DELETE_BACKBONE_SUFFIX):
            backbone = dict(_delete_=True, **backbone)
    elif run.backbone in CNN_BACKBONES:
        pretrained, backbone = CNN_BACKBONES[run.backbone]
    else:
        return {}
    return dict(pretrained=None if is_synthetic(run) else pretrained, backbone=dict(backbone))


def decoder_overrides(run: Run) -> dict:
    """The decoder options of the architecture name (reference config_from_vars / update_decoder_in_channels):
    ``sfa_`` puts the SegFormerAdapter between MiT and the head (stage 4 upsampled x4 into the last level, 512
    channels), ``_nodbn`` drops the decoder's BatchNorm, and DeepLabV3+ on MiT takes its skip from 64 channels."""
    model, head = {}, {}
    if 'sfa_' in run.architecture:
        model['neck'] = dict(type='SegFormerAdapter')
        head['in_channels'] = 512
    if '_nodbn' in run.architecture:
        head['norm_cfg'] = None
    if 'dlv3p' in run.architecture and 'mit' in run.backbone:
        head['c1_in_channels'] = 64
    return dict(model, decode_head=head) if head else model


def model_overrides(run: Run) -> dict:
    """Backbone and ImageNet weights, decoder options, the HRDA keys, and the slide inference over windows of the
    training crop."""
    model = backbone_overrides(run)
    model.update(decoder_overrides(run))
    for key, value in hrda_model(run).items():
        model[key] = dict(model[key], **value) if key == 'decode_head' and key in model else value
    if run.inference == 'slide':
        height, width = outer_crop_size(run)
        model['test_cfg'] = dict(mode='slide', batched_slide=run.batched_slide, stride=[height // 2, width // 2],
                                 crop_size=[height, width])
    return dict(model=model) if model else {}


def pseudo_label_crop(run: Run) -> dict:
    """The rows of :data:`PLCROP`, for 512-pixel-high crops, scaled to the run's crop height."""
    scale = crop_size(run.crop)[0] / crop_size(DEFAULT_CROP)[0]
    return {key: round(rows * scale) for key, rows in PLCROP.items()}


def mask_overrides(mask: Mask) -> dict:
    """The ``mask_*`` keys of DACS."""
    return dict(mask_mode=mask.mode, mask_alpha=mask.alpha, mask_pseudo_threshold=mask.pseudo_threshold,
                mask_lambda=mask.weight, mask_generator=dict(_delete_=True, type='block', mask_ratio=mask.ratio,
                                                             mask_block_size=mask.block_size))


def uda_overrides(run: Run) -> dict:
    """The variant's ``uda`` overrides, the pseudo-label crop v1 and MIC."""
    _, overrides = UDA_VARIANTS[run.uda]
    uda = dict(overrides)
    if pseudo_label_crop_version(run) == 'v1':
        uda.update(pseudo_label_crop(run))
    if run.mask is not None:
        uda.update(mask_overrides(run.mask))
    if run.cdda is not None:  # the reference's decay window, 10k-40k of 40k iterations, scaled to the run
        uda['cdda'] = dict(dataset=run.cdda.dataset, reweight_threshold=run.cdda.reweight_threshold,
                           relabel_threshold=run.cdda.relabel_threshold, threshold_decay=run.cdda.threshold_decay,
                           decay_start=run.iters // 4, decay_interval=run.iters // 40, decay_end=run.iters)
    return dict(uda=uda) if uda else {}


def rare_class_sampling(run: Run) -> dict:
    """``UDADataset.rare_class_sampling`` (T = inf written as :data:`RCS_UNIFORM_TEMP`)."""
    class_temp = RCS_UNIFORM_TEMP if math.isinf(run.rcs_T) else run.rcs_T
    return dict(min_pixels=run.rcs_min_pixels, class_temp=class_temp, min_crop_ratio=run.rcs_min_crop)


def uda_train_workers(run: Run) -> int:
    """The train-loader processes of a UDA run: on the synthetic pair at most :data:`SYNTHETIC_MAX_WORKERS`, else
    :data:`UDA_TRAIN_WORKERS` for the largest crop side (the last entry beyond it), at least the reference's
    ``workers``."""
    if is_synthetic(run):
        return min(run.workers, SYNTHETIC_MAX_WORKERS)
    side = max(crop_size(run.crop))
    needed = next((workers for limit, workers in UDA_TRAIN_WORKERS if side <= limit), UDA_TRAIN_WORKERS[-1][1])
    return max(run.workers, needed)


def data_overrides(run: Run) -> dict:
    """Batch and workers; for UDA the ``UDADataset`` of the base's source and target data sets (with RCS), with
    :func:`uda_train_workers` loader processes (pinned memory on the real data, which trains on a GPU)."""
    train = dict(batch_size=run.batch_size, num_workers=run.workers)
    if run.uda not in PLAIN_SEGMENTOR_VARIANTS:
        train['num_workers'] = uda_train_workers(run)
        if not is_synthetic(run):
            train['pin_memory'] = True
        dataset = dict(type='UDADataset', source=base_var('source_dataset'), target=base_var('target_dataset'))
        if 'dacs' in run.uda and run.rcs_T is not None:
            dataset['rare_class_sampling'] = rare_class_sampling(run)
        if 'dacs' in run.uda and run.sync_crop:
            dataset['sync_crop_size'] = outer_crop_size(run)
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
FINAL_DAFORMER = Run('daformer_sepaspp', 'mitb5', 'dacs_a999_fdthings', rcs_T=0.01, plcrop='v1')
# The final HRDA (HRDA Table 1) on GTA-HR -> Cityscapes-HR, one worker as every HRDA / MIC run.
FINAL_HRDA = Run('hrda1-512-0.1_daformer_sepaspp', 'mitb5', 'dacs_a999_fdthings', source='gtaHR',
                 target='cityscapesHR', crop='1024x1024', rcs_T=0.01, rcs_min_crop=HR_RCS_MIN_CROP_RATIO, plcrop='v2',
                 inference='slide', workers=1, gpu_model=TITAN_RTX)
# MIC(HRDA) (MIC Table 2) on GTA-HR -> Cityscapes-HR.
FINAL_MIC_HRDA = replace(FINAL_HRDA, mask=Mask('separatetrgaug', 64, 0.7))
# MIC(DAFormer) at 512x512 (MIC Table 1, as configs/mic/gta2cs_mic_daformer.py): blocks of 32.
FINAL_MIC_DAFORMER = replace(FINAL_DAFORMER, workers=1, gpu_model=RTX_2080_TI, mask=Mask('separatetrgaug', 32, 0.7))
# EBDA's recipe (batch 1, 8 workers, 50k iterations, evaluation every 2000 keeping the best mIoU) on Cityscapes.
EBDA_RECIPE = replace(FINAL_DAFORMER, uda='dacs_a999_fdthings_eb', source='cityscapes', batch_size=1, workers=8,
                      iters=50000, val_interval=2000, save_best=True)
# DACS on the embedded synthetic pair (configs/synth/): the tiny DAFormer from scratch, 2000 iterations of batch 8.
SYNTHETIC_DACS = Run('daformer_conv1', 'mit_tiny', 'dacs', source=SYNTHETIC_SOURCE, crop=SYNTHETIC_CROP, lr=6e-4,
                     schedule='synth_adamw_2k', pmult=False, iters=2000, batch_size=8, workers=1, val_interval=2000,
                     runtime='synth_runtime', rcs_min_pixels=SYNTHETIC_RCS_MIN_PIXELS)


def with_seeds(members: Sequence[Run]) -> List[Run]:
    """Every member with every seed of :data:`SEEDS`."""
    return [replace(member, seed=seed) for member in members for seed in SEEDS]


# DAFormer Table 1: the architectures compared (CNN decoders on ResNet-101 without decoder BN, SegFormer).
ARCHITECTURE_COMPARISON = [('dlv2red', 'r101v1c'), ('da_nodbn', 'r101v1c'), ('isa_nodbn', 'r101v1c'),
                           ('dlv3p_nodbn', 'r101v1c'), ('segformer', 'mitb5')]
# DAFormer Table 2: SegFormer's encoder with DeepLabV3+'s decoder, and ResNet-101 with SegFormer's decoder.
SEGFORMER_ABLATION = [('sfa_dlv3p_nodbn', 'mitb5-del'), ('segformer', 'r101v1c')]
# DAFormer Table 3: DeepLabV2 on ResNet-50 and ResNeSt-50/101/200, SegFormer on MiT-B3/B4.
ENCODER_STUDY = [('dlv2red', 'r50v1c'), ('dlv2red', 's50'), ('dlv2red', 's101'), ('dlv2red', 's200'),
                 ('segformer', 'mitb3'), ('segformer', 'mitb4')]


def architecture_comparison() -> List[Run]:
    """1: DAFormer Table 1, each architecture source-only, with DACS and target-only."""
    return with_seeds([Run(architecture, backbone, uda) for architecture, backbone in ARCHITECTURE_COMPARISON
                       for uda in ('source-only', 'dacs', 'target-only')])


def segformer_ablation() -> List[Run]:
    """2: DAFormer Table 2, with DACS and target-only."""
    return with_seeds([Run(architecture, backbone, uda) for architecture, backbone in SEGFORMER_ABLATION
                       for uda in ('dacs', 'target-only')])


def encoder_study() -> List[Run]:
    """3: DAFormer Table 3, seed 0, each encoder source-only, with DACS and target-only."""
    return [Run(architecture, backbone, uda) for architecture, backbone in ENCODER_STUDY
            for uda in ('source-only', 'dacs', 'target-only')]


def warmup_ablation() -> List[Run]:
    """4: learning-rate warm-up ablation (DAFormer Table 4), seed 0: poly decay without warm-up for DeepLabV2-R101 and
    SegFormer MiT-B5, with DACS and target-only."""
    return [Run(architecture, backbone, uda, schedule='poly10') for architecture, backbone in
            (('dlv2red', 'r101v1c'), ('segformer', 'mitb5')) for uda in ('dacs', 'target-only')]


def output_space_baseline(run: Run, uda: str) -> Run:
    """``run`` with AdvSeg or MinEnt as the reference trains them: SGD, colour-augmented source data."""
    return replace(run, uda=uda, source=caug_source(run.source), rcs_T=None, plcrop=None, **OUTPUT_SPACE_OPTIMIZER)


def rcs_fd_ablation() -> List[Run]:
    """5: RCS / FD ablation on SegFormer MiT-B5 (DAFormer Table 5), and the full strategy on DLV2-R101."""
    segformer = Run('segformer', 'mitb5', 'dacs')
    return with_seeds([
        replace(segformer, rcs_T=math.inf),
        replace(segformer, rcs_T=0.01),
        replace(segformer, uda='dacs_fd'),
        replace(segformer, uda='dacs_fdthings'),
        replace(segformer, uda='dacs_fdthings', rcs_T=0.01),
        replace(segformer, uda='dacs_a999_fdthings', rcs_T=0.01, plcrop='v1'),
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


def hrda_final() -> List[Run]:
    """40: final HRDA on GTA-HR and Synthia-HR -> Cityscapes-HR (HRDA Table 1)."""
    return with_seeds([FINAL_HRDA, replace(FINAL_HRDA, source='synthiaHR')])


def hrda_uda_methods() -> List[Run]:
    """41: HRDA with other UDA methods (HRDA Table 2) on DeepLabV2-R101: AdvSeg, MinEnt, DACS and DAFormer's UDA, each
    at LR (512 crops of GTA -> Cityscapes) and with HRDA (1024 crops of GTA-HR -> Cityscapes-HR)."""
    hrda = replace(FINAL_HRDA, architecture='hrda1-512-0.1_dlv2red', backbone='r101v1c')
    lr = replace(hrda, architecture='dlv2red', source='gta', target='cityscapes', crop=DEFAULT_CROP,
                 rcs_min_crop=RCS_MIN_CROP_RATIO, plcrop='v1', inference='whole')
    members = []
    for uda in ('advseg', 'minent'):
        members += [output_space_baseline(lr, uda), output_space_baseline(hrda, uda)]
    members += [replace(lr, uda='dacs', rcs_T=None, plcrop=None), replace(hrda, uda='dacs', rcs_T=None, plcrop=None),
                lr, hrda]
    return with_seeds(members)


def hrda_crop_study_uda() -> List[Run]:
    """42: the DAFormer crop-size study for UDA (HRDA Fig. 4 left): crops synchronised over source and target,
    128, 256, 384 of the 512 crops and the full 512 at LR, 256, 512, 768 of the 1024 crops at HR. (The reference
    runs the HR 256 one with a non-batched slide inference to save memory.)"""
    lr = replace(FINAL_HRDA, architecture='daformer_sepaspp', source='gta', target='cityscapes', crop=DEFAULT_CROP,
                 rcs_min_crop=RCS_MIN_CROP_RATIO)
    hr = replace(FINAL_HRDA, architecture='daformer_sepaspp')
    return with_seeds([replace(lr, sync_crop=size) for size in (128, 256, 384)] + [lr]
                      + [replace(hr, sync_crop=256, batched_slide=False)]
                      + [replace(hr, sync_crop=size) for size in (512, 768)])


def hrda_crop_study_target_only() -> List[Run]:
    """43: the crop-size study target-only (HRDA Fig. 4 right): Cityscapes crops of 128, 256, 384, 512 at LR and
    256, 512, 768 at HR."""
    lr = Run('daformer_sepaspp', 'mitb5', 'target-only', inference='slide', workers=1, gpu_model=TITAN_RTX)
    hr = replace(lr, source='gtaHR', target='cityscapesHR')
    return with_seeds([replace(lr, crop=f'{size}x{size}') for size in (128, 256, 384, 512)]
                      + [replace(hr, crop=f'{size}x{size}') for size in (256, 512, 768)])


def hrda_daformer(setting: str) -> str:
    """The HRDA architecture ``hrda1-{setting}`` around the final DAFormer decoder."""
    return f'{HRDA_PREFIX}{setting}_daformer_sepaspp'


def hrda_ablations() -> List[Run]:
    """44: HRDA ablations on GTA-HR -> Cityscapes-HR (HRDA Tables 3-7, S1, Fig. S1), around the final HRDA."""
    return with_seeds(
        # Table 3, context crop size: LR0.5 + HR0.5, LR0.75 + HR0.5 (context crops of 512 and 768)
        [replace(FINAL_HRDA, sync_crop=size) for size in (512, 768)]
        # Table 4, detail crop size: HR 256, 384
        + [replace(FINAL_HRDA, architecture=hrda_daformer(setting)) for setting in ('256-0.1', '384-0.1')]
        # Table 5, naive HR comparison at the same memory: LR0.75 + HR0.375
        + [replace(FINAL_HRDA, sync_crop=768, architecture=hrda_daformer('384-0.1'))]
        # Table 6, detail crop variants; Table 7, components (fixed attention and no overlap, no overlap,
        # lambda_d = 0); Fig. S1, detail loss weight; Table S1, context crop resolution
        + [replace(FINAL_HRDA, architecture=hrda_daformer(setting)) for setting in (
            '512-0.1-samescale', '512-0.1-blurhr', '512-0.1-fixedatt-nooverlap', '512-0.1-nooverlap', '512-0.0',
            *[f'512-{weight}' for weight in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)], '512-0.1-sc0.25', '512-0.1-sc0.75')])


def hrda_adverse() -> List[Run]:
    """49: HRDA on Cityscapes-HR -> ACDC-HR and -> Dark Zurich-HR (no pseudo-label crop)."""
    return with_seeds([replace(FINAL_HRDA, source='cityscapesHR', target=target, plcrop=None)
                       for target in ('acdcHR', 'darkzurichHR')])


def mic_hrda_final() -> List[Run]:
    """80: MIC(HRDA) on GTA, Synthia (target masks, colour-augmented; plcrop v2), ACDC and Dark Zurich (source
    and target masks; no plcrop) (MIC Table 2)."""
    adverse = replace(FINAL_MIC_HRDA, source='cityscapesHR', plcrop=None,
                      mask=replace(FINAL_MIC_HRDA.mask, mode='separate'))
    return with_seeds([FINAL_MIC_HRDA, replace(FINAL_MIC_HRDA, source='synthiaHR'),
                       replace(adverse, target='acdcHR'), replace(adverse, target='darkzurichHR')])


def mic_uda_methods() -> List[Run]:
    """81: MIC with other UDA methods (MIC Table 1): on DeepLabV2-R101 AdvSeg, MinEnt, DACS, DAFormer's UDA (blocks of
    32 at 512) and HRDA (blocks of 64 at 1024); DAFormer's UDA on MiT-B5."""
    daformer_uda = replace(FINAL_MIC_DAFORMER, architecture='dlv2red', backbone='r101v1c')
    dacs = replace(daformer_uda, uda='dacs', rcs_T=None, plcrop=None)
    return with_seeds([output_space_baseline(dacs, 'advseg'), output_space_baseline(dacs, 'minent'), dacs,
                       daformer_uda, replace(FINAL_MIC_HRDA, architecture='hrda1-512-0.1_dlv2red', backbone='r101v1c'),
                       FINAL_MIC_DAFORMER])


def mic_domain_study() -> List[Run]:
    """82: which domain MIC masks (MIC Table 6): GTA source (augmented) and source + target (augmented), ACDC
    source and target."""
    adverse = replace(FINAL_MIC_HRDA, source='cityscapesHR', target='acdcHR', plcrop=None)
    return with_seeds([replace(run, mask=replace(FINAL_MIC_HRDA.mask, mode=mode)) for run, mode in (
        (FINAL_MIC_HRDA, 'separatesrcaug'), (FINAL_MIC_HRDA, 'separateaug'), (adverse, 'separatesrc'),
        (adverse, 'separatetrg'))])


def mic_ablation() -> List[Run]:
    """83: MIC(DAFormer) ablation (MIC Table 7): without colour augmentation, without masking, without EMA teacher
    (a teacher of its own with alpha 0: the student), without confidence weight."""
    mask = FINAL_MIC_DAFORMER.mask
    return with_seeds([replace(FINAL_MIC_DAFORMER, mask=variant) for variant in (
        replace(mask, mode='separatetrg'), replace(mask, ratio=0), replace(mask, alpha=0),
        replace(mask, pseudo_threshold=None))])


def mic_block_study() -> List[Run]:
    """84: MIC(DAFormer) block size x mask ratio (MIC Table 8; the blocks of the 1024 table halved for 512)."""
    return with_seeds([replace(FINAL_MIC_DAFORMER, mask=replace(FINAL_MIC_DAFORMER.mask, block_size=size, ratio=ratio))
                       for size in (16, 32, 64, 128) for ratio in (0.3, 0.5, 0.7, 0.9)])


def mic_supervised() -> List[Run]:
    """85: supervised Cityscapes training with MIC on the source (MIC Table 9)."""
    return with_seeds([Run('daformer_sepaspp', 'mitb5', 'dacs_srconly', source='cityscapes', workers=1,
                           gpu_model=RTX_2080_TI, mask=Mask('separatesrc', 32, 0.7))])


def ebda_acdc() -> List[Run]:
    """90: EBDA on Cityscapes -> ACDC, as configs/ebda/ (batch 1, 8 workers, 50k iterations, best mIoU)."""
    return with_seeds([replace(EBDA_RECIPE, target='acdc')])


def ebda_fog_rain() -> List[Run]:
    """91: DAFormer and EBDA on Cityscapes -> Foggy + Rain Cityscapes, both with EBDA's recipe (configs/daformer/ and
    configs/ebda/ cs2foggyrain_*)."""
    ebda = replace(EBDA_RECIPE, target=FOG_RAIN)
    return with_seeds([replace(ebda, uda='dacs_a999_fdthings'), ebda])


def cdda_final() -> List[Run]:
    """92: CDDA on DAFormer, HRDA and MIC(HRDA), GTA and SYNTHIA, as configs/cdda/ (seeds 0, 1, 2 by method)."""
    gta, synthia = Cdda('gta', 0.56, 0.54, 0.0025), Cdda('synthia', 0.49, 0.47, 0.001)
    hr_gta, hr_synthia = replace(gta, threshold_decay=0.003), replace(synthia, threshold_decay=0.002)
    runs = []
    for final, seed, on_gta, on_synthia, synthia_source in (
            (FINAL_DAFORMER, 0, gta, synthia, 'synthia'), (FINAL_HRDA, 1, hr_gta, hr_synthia, 'synthiaHR'),
            (FINAL_MIC_HRDA, 2, hr_gta, hr_synthia, 'synthiaHR')):
        run = replace(final, seed=seed, val_interval=1000, save_best=True)
        runs += [replace(run, cdda=on_gta), replace(run, source=synthia_source, cdda=on_synthia)]
    return runs


# The architectures of the reference's tables 1-3 and 7 (spec §10.2: 22 in the reference's list).
STARTUP_ARCHITECTURES = (ARCHITECTURE_COMPARISON + SEGFORMER_ABLATION + ENCODER_STUDY
                         + [(architecture, 'mitb5') for architecture in DECODER_STUDY])


def architecture_startup_test() -> List[Run]:
    """100: every architecture target-only for 2 iterations, seed 0."""
    return [Run(architecture, backbone, 'target-only', iters=STARTUP_ITERS, val_interval=STARTUP_VAL_INTERVAL)
            for architecture, backbone in STARTUP_ARCHITECTURES]


def uda_startup_test() -> List[Run]:
    """101: every UDA variant on the final DAFormer model for 2 iterations, seed 0."""
    base = replace(FINAL_DAFORMER, rcs_T=None, plcrop=None, iters=STARTUP_ITERS, val_interval=STARTUP_VAL_INTERVAL)
    return [
        replace(base, uda='target-only'),
        replace(base, uda='dacs_srconly'),
        replace(base, uda='dacs_srconly_aug'),
        replace(base, uda='dacs', rcs_T=math.inf),
        replace(base, uda='dacs_fd'),
        replace(base, uda='dacs_fdthings'),
        replace(base, uda='dacs_fdthings', rcs_T=0.01),
        replace(base, uda='dacs_a999_fdthings', rcs_T=0.01, plcrop='v1'),
        replace(base, uda='dacs_a999_fdthings_eb', rcs_T=0.01, plcrop='v1'),
    ]


def synthetic_benchmark() -> List[Run]:
    """200: the embedded synthetic pair on CPU (configs/synth/): source-only, DACS, + RCS, + entropy balancing,
    HRDA, MIC and MIC(HRDA) (the last three with RCS)."""
    synth = SYNTHETIC_DACS
    rcs = replace(synth, rcs_T=0.01)
    hrda = replace(rcs, architecture='hrda1-64-0.1_daformer_conv1', inference='slide')
    mask = Mask('separatetrgaug', 16, 0.7)
    return with_seeds([
        replace(synth, uda='dacs_srconly'),
        synth,
        rcs,
        replace(synth, uda='dacs_eb', rcs_T=0.01),
        hrda,
        replace(rcs, mask=mask),
        replace(hrda, mask=mask),
    ])


def synthetic_fog_rain() -> List[Run]:
    """201: DACS + RCS and EBDA (DACS + RCS + entropy balancing) on the synthetic pair's fog + rain variant."""
    rcs = replace(SYNTHETIC_DACS, target=FOG_RAIN, rcs_T=0.01)
    return with_seeds([rcs, replace(rcs, uda='dacs_eb')])


def synthetic_cnn_ladder() -> List[Run]:
    """202: DeepLabV2 on a quarter-width ResNet-18 on the synthetic pair (the schedule of 200): source-only, AdvSeg,
    MinEnt, DACS + RCS."""
    cnn = replace(SYNTHETIC_DACS, architecture='dlv2red', backbone='r18v1c_tiny')
    return with_seeds([replace(cnn, uda='dacs_srconly'), replace(cnn, uda='advseg_ndf16'), replace(cnn, uda='minent'),
                       replace(cnn, rcs_T=0.01)])


EXPERIMENTS: Dict[int, Callable[[], List[Run]]] = {
    1: architecture_comparison,
    2: segformer_ablation,
    3: encoder_study,
    4: warmup_ablation,
    5: rcs_fd_ablation,
    6: decoder_study,
    7: synthia_final,
    8: cityscapes_to_adverse_final,
    40: hrda_final,
    41: hrda_uda_methods,
    42: hrda_crop_study_uda,
    43: hrda_crop_study_target_only,
    44: hrda_ablations,
    49: hrda_adverse,
    80: mic_hrda_final,
    81: mic_uda_methods,
    82: mic_domain_study,
    83: mic_ablation,
    84: mic_block_study,
    85: mic_supervised,
    90: ebda_acdc,
    91: ebda_fog_rain,
    92: cdda_final,
    100: architecture_startup_test,
    101: uda_startup_test,
    200: synthetic_benchmark,
    201: synthetic_fog_rain,
    202: synthetic_cnn_ladder,
}
# Reference IDs that cannot run yet: ID -> (what it is, the missing components).
PENDING_EXPERIMENTS: Dict[int, Tuple[str, Tuple[str, ...]]] = {
}
# Members of the generated experiments that are left out: ID -> [(run name, missing components)].
UNSUPPORTED_MEMBERS: Dict[int, List[Unsupported]] = {
    exp_id: [Unsupported(run_name(run), missing_components(run)) for run in members() if missing_components(run)]
    for exp_id, members in EXPERIMENTS.items()
}


def scaled_size(size: int, scale: float) -> int:
    """``size * scale``, which must be a whole number of pixels."""
    scaled = size * scale
    if not scaled.is_integer():
        raise ValueError(f'{size} pixels scaled by {scale} to the synthetic crop is not a whole number')
    return int(scaled)


def scaled_architecture(architecture: str, scale: float) -> str:
    """An HRDA architecture with the detail crop scaled by ``scale``; any other as it is."""
    if not architecture.startswith(HRDA_PREFIX):
        return architecture
    hrda, decoder = architecture.split('_', 1)
    prefix, hr_crop, *settings = hrda.split('-')
    return '-'.join([prefix, str(scaled_size(int(hr_crop), scale)), *settings]) + f'_{decoder}'


def on_synthetic_pair(run: Run) -> Run:
    """``run`` with the embedded synthetic pair as data (``--data synth``): any source and target become the
    synthetic GTA -> Cityscapes pair with 128x128 crops (a Foggy + Rain target its fog + rain variant); HRDA detail
    crops, synchronised crops and MIC blocks scale with the crop (see the module docstring); rare class sampling
    thresholds for its image size, at most :data:`SYNTHETIC_MAX_WORKERS` loader processes; model, UDA method and
    schedule stay."""
    scale = crop_size(SYNTHETIC_CROP)[0] / crop_size(run.crop)[0]
    target = run.target if run.target in SYNTHETIC_TARGETS else 'cityscapes'
    source = caug_source(SYNTHETIC_SOURCE) if CAUG in run.source else SYNTHETIC_SOURCE
    return replace(run, source=source, target=target, crop=SYNTHETIC_CROP,
                   architecture=scaled_architecture(run.architecture, scale),
                   sync_crop=run.sync_crop and scaled_size(run.sync_crop, scale),
                   mask=run.mask and replace(run.mask, block_size=scaled_size(run.mask.block_size, scale)),
                   rcs_min_pixels=SYNTHETIC_RCS_MIN_PIXELS, rcs_min_crop=RCS_MIN_CROP_RATIO,
                   workers=min(run.workers, SYNTHETIC_MAX_WORKERS))


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
        pending = f' (not yet runnable: {", ".join(map(str, PENDING_EXPERIMENTS))})' if PENDING_EXPERIMENTS else ''
        raise ValueError(f'unknown experiment ID {exp_id}; valid IDs: {", ".join(map(str, EXPERIMENTS))}{pending}')
    runs = [run for run in EXPERIMENTS[exp_id]() if not missing_components(run)]
    if data == 'synth':
        runs = [on_synthetic_pair(run) for run in runs]
    return [experiment_config(exp_id, run) for run in runs]
