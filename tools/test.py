"""Evaluate a trained segmentor (the student of a UDA run), save predictions, write test-server files.

    python -m tools.test CONFIG CHECKPOINT [--work-dir DIR] [--out DIR] [--show-dir DIR --opacity 1] [--show]
                         [--tta] [--launcher pytorch]
    python -m tools.test RUN_DIR                      # config and latest checkpoint found in RUN_DIR
    python -m tools.test CONFIG CHECKPOINT --test-set --format-only --eval-options imgfile_prefix=DIR
    torchrun --nproc_per_node N tools/test.py CONFIG CHECKPOINT --launcher pytorch   # distributed testing

The options of mmsegmentation 1.x: evaluation (mIoU) by default whenever the test data has labels;
``--work-dir`` receives the results as JSON (``test_results.json``; ``_tta``, ``_hrda-LR`` ... suffixes
for non-default modes; default: RUN_DIR for a run directory, else ``work_dirs/<config name>``); ``--out DIR``
the train-id label maps for offline evaluation (``<image path below the image folder>`` with
``_labelTrainIds.png``); ``--show`` shows each overlay in a window (``--wait-time`` seconds); ``--tta``
is DAFormer's ``--aug-test``: the softmax averaged over scales 0.5, 0.75, ..., 1.75 of the test scale, each
also flipped (``MultiScaleFlipAug``); ``--launcher pytorch`` under torchrun shards the images over the
processes and gathers the metric.

CONFIG is ours (.py) or a JSON config released with the original DAFormer/HRDA/MIC. Options as the
reference's ``tools/test.py``: ``--inference-mode same|whole|slide``; ``--test-set`` replaces 'val' by
'test' in the test data set's paths (labels are not read); ``--format-only`` writes one PNG per image
to ``imgfile_prefix`` (default ``<checkpoint dir>/format_results``) plus a zip: Cityscapes label ids
with the Cityscapes colours (``to_label_id=True``, the Cityscapes server), or train ids with the
19-class palette (``to_label_id=False``, the default for ACDC and Dark Zurich). ``--show-dir`` writes,
per image, the colour overlay at ``DIR/<image path below the image folder>`` and the train-id label
map next to it (``<name>_labelTrainIds.png`` for ``<name><img_suffix>``).
A multi-target test set (``MultiTargetDataset`` with ``MultiTargetIoUMetric``) is scored per target: a table and
a summary line per target after the mean over the targets, predictions in ``<show-dir>/<target>/``, and in the
JSON ``<target>/<key>`` metrics and a ``targets`` entry (``mmseg.evaluation.multi_target``).
``--hrda-out`` (HRDA models): ``LR`` / ``HR`` predict with the context or the detail branch only (fixed
attention 0 / 1); ``ATT`` writes the scale attention map Σ_c a_c·softmax(fused)_c ·255 as a grey image
to ``--show-dir`` instead of a prediction.
"""
import argparse
import copy
import json
import math
import os
import shutil
import sys
from datetime import datetime
from pathlib import Path
from typing import Dict, List, Optional

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from cityscapesscripts.helpers.labels import id2label, trainId2label  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.dist import get_rank  # noqa: E402
from mmengine.structures import PixelData  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from mmengine.runner import Runner  # noqa: E402
from tqdm import tqdm  # noqa: E402

from mmseg.apis import find_run_files, init_model, load_test_config  # noqa: E402
from mmseg.engine.compat import init_distributed  # noqa: E402
from mmseg.evaluation.multi_target import EvaluatedTargets, apply_to_target_configs  # noqa: E402
from mmseg.models.decode_heads.hrda_head import HRDAHead  # noqa: E402
from mmseg.models.segmentors.hrda_encoder_decoder import HRDAEncoderDecoder  # noqa: E402
from mmseg.registry import METRICS  # noqa: E402
from mmseg.utils.label_images import atomic_path, overlay, write_image, write_label_png  # noqa: E402

SERVER_LABEL_ID_DATASETS = ('CityscapesDataset', )
# Cityscapes train id -> label id (the test server's format); 255 -> 0 (unlabeled)
TRAIN_ID_TO_LABEL_ID = np.zeros(256, np.uint8)
for _train_id, _label in trainId2label.items():
    if 0 <= _train_id < 255:
        TRAIN_ID_TO_LABEL_ID[_train_id] = _label.id
LABEL_ID_PALETTE = [list(id2label[i].color) if i in id2label else [0, 0, 0] for i in range(max(id2label) + 1)]
HRDA_OUTPUTS = ('', 'LR', 'HR', 'ATT')
TTA_RATIOS = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75)  # DAFormer's --aug-test (tools/test.py of the reference)
RESULTS_NAME = 'test_results'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file (.py, or a legacy .json), or a run directory')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint file (default for a run directory: its latest)')
    parser.add_argument('--eval', nargs='+', choices=['mIoU', 'mDice', 'mFscore'],
                        help='metrics to compute (default: mIoU whenever the test data has labels)')
    parser.add_argument('--work-dir', type=Path,
                        help='write the results JSON here (default: RUN_DIR, or work_dirs/<config name>)')
    parser.add_argument('--out', type=Path, help='write the train-id label maps here (offline evaluation)')
    parser.add_argument('--show', action='store_true', help='show each overlay in a window')
    parser.add_argument('--wait-time', type=float, default=2, help='seconds each --show window stays (0: a key)')
    parser.add_argument('--show-dir', type=Path, help='write colour overlays and train-id label maps here')
    parser.add_argument('--opacity', type=float, default=0.5, help='overlay opacity in (0, 1]; 1 = colours only')
    parser.add_argument('--format-only', action='store_true', help='write test-server files, no evaluation')
    parser.add_argument('--test-set', action='store_true', help="use the test split ('val' -> 'test' in paths)")
    parser.add_argument('--inference-mode', choices=['same', 'whole', 'slide'], default='same',
                        help='same: as the config; slide: crop_size windows with stride crop/2, batched')
    parser.add_argument('--tta', '--aug-test', action='store_true',
                        help="test-time augmentation: DAFormer's --aug-test (scales 0.5-1.75 of the test scale, flips)")
    parser.add_argument('--eval-options', nargs='+', action=DictAction, default={},
                        help='imgfile_prefix=DIR to_label_id=True|False for --format-only')
    parser.add_argument('--hrda-out', choices=HRDA_OUTPUTS, default='',
                        help='HRDA only: LR / HR = context / detail branch only; ATT = write the attention map '
                             '(x255) to --show-dir')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config keys, k=v')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--launcher', choices=['none', 'pytorch'], default='none',
                        help="'pytorch' under torchrun: the images are shared out over the processes")
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0, help='set by older launchers; unused')
    args = parser.parse_args(argv)
    if args.show and sys.platform.startswith('linux') and not (os.environ.get('DISPLAY')
                                                               or os.environ.get('WAYLAND_DISPLAY')):
        parser.error('--show needs a display (DISPLAY is not set); write the overlays with --show-dir instead')
    if args.out is not None and args.out.suffix in ('.json', '.pkl'):
        parser.error(f'--out {args.out}: --out is the folder of the predicted label maps (as in mmsegmentation '
                     '1.x); the results JSON goes to --work-dir')
    if args.test_set and args.eval:
        parser.error('--test-set has no labels to evaluate; use --format-only (and/or --show-dir) instead of --eval')
    if args.format_only and args.eval:
        parser.error('--format-only writes test-server files without evaluating; drop --eval')
    if args.hrda_out == 'ATT' and (args.eval or args.format_only or args.out or args.tta or not args.show_dir):
        parser.error('--hrda-out ATT writes attention maps, not predictions: give --show-dir and none of '
                     '--eval, --format-only, --out, --tta')
    unknown = set(args.eval_options) - {'imgfile_prefix', 'to_label_id'}
    if unknown:
        parser.error(f'unknown --eval-options {sorted(unknown)}; expected imgfile_prefix, to_label_id')
    return args


def resolve_inputs(args: argparse.Namespace) -> None:
    """Fill config / checkpoint from a run directory, and the default work directory (the run directory, else
    ``work_dirs/<config name>``)."""
    if Path(args.config).is_dir():
        files = find_run_files(args.config)
        args.work_dir = args.work_dir or Path(args.config)
        args.config, args.checkpoint = str(files.config), args.checkpoint or str(files.checkpoint)
        print(f'Config File: {args.config}\nCheckpoint File: {args.checkpoint}')
    args.work_dir = args.work_dir or Path('work_dirs') / Path(args.config).stem
    if args.checkpoint is None:
        raise SystemExit('error: a CHECKPOINT is needed unless CONFIG is a run directory')


def use_test_split(dataset: Config) -> None:
    """The reference's ``--test-set``: 'val' -> 'test' in every string of the data set config; no labels."""
    for key, value in list(dataset.items()):
        if isinstance(value, str):
            dataset[key] = value.replace('val', 'test')
    prefix = dict(dataset.data_prefix)
    prefix.pop('seg_map_path', None)
    dataset.data_prefix = {key: value.replace('val', 'test') for key, value in prefix.items()}
    dataset.pipeline = [step for step in dataset.pipeline if step['type'] != 'LoadAnnotations']


def set_inference_mode(cfg: Config, mode: str) -> None:
    """``whole`` or ``slide`` (crop = ``sync_crop_size`` or ``crop_size``, stride crop/2, batched)."""
    if mode == 'same':
        return
    test_cfg = dict(cfg.model.get('test_cfg') or {})
    test_cfg['mode'] = mode
    if mode == 'slide':
        crop = cfg.get('sync_crop_size') or cfg.get('crop_size')
        if crop is None:
            raise KeyError(f'{cfg.filename}: --inference-mode slide needs crop_size (or sync_crop_size) in the config')
        test_cfg.update(crop_size=tuple(crop), stride=tuple(c // 2 for c in crop), batched_slide=True)
    cfg.model.test_cfg = test_cfg


def relative_image_path(img_path: str, img_dir: str) -> Path:
    """The image path below the data set's image folder (its file name if outside)."""
    path, folder = Path(img_path).resolve(), Path(img_dir).resolve()
    return path.relative_to(folder) if path.is_relative_to(folder) else Path(path.name)


def label_map_path(relative: Path, img_suffix: str) -> Path:
    """``<name>_labelTrainIds.png`` for an image ``<name><img_suffix>``."""
    name = relative.name[:-len(img_suffix)] if relative.name.endswith(img_suffix) else relative.stem
    return relative.parent / f'{name}_labelTrainIds.png'


def read_bgr(path: str) -> np.ndarray:
    """The image as BGR uint8 (for overlays)."""
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise OSError(f'could not read image {path}')
    return image


def server_uses_label_ids(dataset_type: str) -> bool:
    """Whether the data set's test server takes Cityscapes label ids (Cityscapes) or train ids (ACDC, Dark Zurich)."""
    return dataset_type in SERVER_LABEL_ID_DATASETS


def format_result(label: np.ndarray, img_path: str, prefix: Path, to_label_id: bool, palette: list) -> None:
    """``<prefix>/<image basename without extension>.png``: 'P' mode, label ids or train ids."""
    out = prefix / f'{Path(img_path).stem}.png'
    if to_label_id:
        write_label_png(out, TRAIN_ID_TO_LABEL_ID[label], LABEL_ID_PALETTE)
    else:
        write_label_png(out, label, palette)


def set_hrda_output(model: torch.nn.Module, hrda_out: str) -> None:
    """The reference's ``--hrda-out`` on the loaded model: ``LR`` / ``HR`` fix the scale attention to 0 / 1
    (the attention head is dropped), ``ATT`` makes the head return the attention map; '' changes nothing."""
    if not hrda_out:
        return
    head = getattr(model, 'decode_head', None)
    if not (isinstance(model, HRDAEncoderDecoder) and isinstance(head, HRDAHead)):
        raise ValueError(f'--hrda-out {hrda_out} needs an HRDA model (HRDAEncoderDecoder with an HRDAHead); '
                         f'this config builds {type(model).__name__} with {type(head).__name__}')
    if hrda_out == 'ATT':
        head.debug_output_attention = True
    else:
        head.fixed_attention = 0. if hrda_out == 'LR' else 1.
        head.scale_attention = None


def attention_image(attention: np.ndarray) -> np.ndarray:
    """An attention map in [0, 1] as the reference writes it: ·255, rounded and saturated to uint8."""
    return np.clip(np.rint(attention * 255), 0, 255).astype(np.uint8)


def tta_pipeline(pipeline: List[dict]) -> List[dict]:
    """``pipeline`` with its keep-ratio ``Resize`` (or, without one, the image's own size) turned into DAFormer's
    aug-test: :data:`TTA_RATIOS` of that scale, each also flipped; the steps after loading the image (label loading,
    packing) run on every copy."""
    steps = [dict(step) for step in pipeline]
    resizes = [step for step in steps if step['type'] == 'Resize']
    if len(resizes) > 1 or (resizes and not resizes[0].get('keep_ratio', True)):
        raise ValueError(f'--tta expects at most one keep-ratio Resize in the test pipeline; got {resizes}')
    if any(step['type'] == 'MultiScaleFlipAug' for step in steps):
        return steps
    loading = [step for step in steps if step['type'] == 'LoadImageFromFile']
    after = [step for step in steps if step['type'] not in ('LoadImageFromFile', 'Resize')]
    scale = tuple(resizes[0]['scale']) if resizes else None
    return loading + [dict(type='MultiScaleFlipAug', img_scale=scale, img_ratios=list(TTA_RATIOS), flip=True,
                           transforms=after)]


def predict_tta(model: torch.nn.Module, batch: dict) -> list:
    """The reference's ``aug_test``: per image the mean of the softmax over the augmented copies (each resized to
    the original size and un-flipped by ``predict``), its argmax as the prediction."""
    merged = None
    for inputs, data_samples in zip(batch['inputs'], batch['data_samples']):
        data = model.data_preprocessor(dict(inputs=inputs, data_samples=data_samples), False)
        samples = model.predict(data['inputs'], data['data_samples'])
        probs = [torch.softmax(sample.seg_logits.data, dim=0) for sample in samples]
        merged = probs if merged is None else [m + p for m, p in zip(merged, probs)]
    samples = list(batch['data_samples'][0])
    for sample, prob in zip(samples, merged):
        prob = prob / len(batch['inputs'])
        sample.seg_logits = PixelData(data=prob)
        sample.pred_sem_seg = PixelData(data=prob.argmax(dim=0, keepdim=True))
    return samples


def results_file(args: argparse.Namespace) -> Path:
    """``<work dir>/test_results[_<mode>...].json``: the plain name for the default evaluation, a suffix per
    non-default mode (``tta``, ``hrda-LR``, ``slide``) so they do not replace it."""
    suffixes = (['tta'] if args.tta else []) + ([f'hrda-{args.hrda_out}'] if args.hrda_out else [])
    suffixes += [args.inference_mode] if args.inference_mode != 'same' else []
    return args.work_dir / ('_'.join([RESULTS_NAME] + suffixes) + '.json')


def show_overlay(image: np.ndarray, title: str, wait_time: float) -> None:
    """``--show``: the overlay in an OpenCV window for ``wait_time`` seconds (0: until a key)."""
    try:
        cv2.imshow('tools/test.py', image)
        cv2.setWindowTitle('tools/test.py', title)
        cv2.waitKey(int(wait_time * 1000))
    except cv2.error as error:
        raise SystemExit(f'error: --show needs a display (OpenCV: {error}); write the overlays with --show-dir')


def clean_json(results: Dict[str, float]) -> Dict[str, Optional[float]]:
    """NaN (class absent from predictions and labels) -> null."""
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in results.items()}


def main(argv: Optional[List[str]] = None) -> Dict[str, float]:
    args = parse_args(argv)
    resolve_inputs(args)
    if args.launcher == 'pytorch':
        init_distributed()
    cfg = load_test_config(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if 'test_dataloader' not in cfg:
        raise KeyError(f'{args.config}: the config has no test_dataloader')
    if args.test_set:
        apply_to_target_configs(cfg.test_dataloader.dataset, use_test_split)
    if args.tta:
        apply_to_target_configs(cfg.test_dataloader.dataset,
                                lambda dataset: dataset.update(pipeline=tta_pipeline(dataset.pipeline)))
    set_inference_mode(cfg, args.inference_mode)
    if args.launcher == 'pytorch' and torch.cuda.is_available():
        args.device = f'cuda:{get_rank() % torch.cuda.device_count()}'
    model = init_model(cfg, args.checkpoint, args.device)
    set_hrda_output(model, args.hrda_out)
    classes, palette = model.dataset_meta['classes'], model.dataset_meta['palette']
    with DefaultScope.overwrite_default_scope('mmseg'):
        loader = Runner.build_dataloader(copy.deepcopy(cfg.test_dataloader))
        metric = METRICS.build(dict(cfg.get('test_evaluator', dict(type='IoUMetric')),
                                    **({'iou_metrics': args.eval} if args.eval else {})))
    dataset = loader.dataset
    targets = EvaluatedTargets(dataset)  # one unnamed target, or the named targets of a MultiTargetDataset
    targets.set_metric_meta(metric, classes, palette)
    evaluate = not (args.test_set or args.format_only or args.hrda_out == 'ATT')
    if evaluate and not targets.with_labels:
        if args.eval:
            raise ValueError(f'{args.config}: the test data set has no labels (data_prefix.seg_map_path); '
                             'use --format-only or --show-dir')
        print(f'No labels in the test data of {args.config}: predictions only, no evaluation')
        evaluate = False
    prefix = None
    if args.format_only:
        prefix = Path(args.eval_options.get('imgfile_prefix') or Path(args.checkpoint).parent / 'format_results')
        to_label_id = args.eval_options.get('to_label_id', server_uses_label_ids(type(dataset).__name__))
    with torch.no_grad():
        for batch in tqdm(loader, desc='test (TTA)' if args.tta else 'test', unit='img', dynamic_ncols=True,
                          disable=get_rank() != 0):
            if args.tta:
                samples = predict_tta(model, batch)
            else:
                data = model.data_preprocessor(batch, False)
                samples = model.predict(data['inputs'], data['data_samples'])
            if evaluate:
                metric.process(batch, samples)
            for sample in samples:
                img_path = sample.metainfo['img_path']
                target = targets.of(sample)
                relative = target.subdir / relative_image_path(img_path, target.img_dir)
                if args.hrda_out == 'ATT':  # channel 0 of the logits is the attention map
                    attention = sample.seg_logits.data[0].cpu().numpy()
                    write_image(args.show_dir / relative, attention_image(attention))
                    continue
                label = sample.pred_sem_seg.data[0].cpu().numpy().astype(np.uint8)
                if args.show_dir or args.show:
                    painted = overlay(read_bgr(img_path), label, palette, args.opacity)
                    if args.show:
                        show_overlay(painted, str(relative), args.wait_time)
                if args.show_dir:
                    write_image(args.show_dir / relative, painted)
                    write_label_png(args.show_dir / label_map_path(relative, target.img_suffix), label)
                if args.out:
                    write_label_png(args.out / label_map_path(relative, target.img_suffix), label)
                if prefix is not None:
                    format_result(label, img_path, prefix / target.subdir, to_label_id, palette)
    results: Dict[str, float] = {}
    if evaluate:
        results = metric.evaluate(len(dataset))  # gathered from every process under a launcher
    if get_rank() != 0:
        return results
    if evaluate:
        summary = ', '.join(f'{k}: {v:.2f}' for k, v in results.items() if '.' not in k and '/' not in k)
        print(f'Summary ({len(dataset)} images{", mean over the targets" if targets.multi else ""}): {summary}')
        for line in targets.summary_lines(results):
            print(line)
    if prefix is not None:
        archive = shutil.make_archive(str(prefix), 'zip', root_dir=prefix)
        print(f'Test-server files ({"label ids" if to_label_id else "train ids"}): {prefix}/ and {archive}')
    if args.show_dir:
        print(f'Predictions: {args.show_dir}/')
    if args.out:
        print(f'Label maps: {args.out}/')
    if evaluate:
        record = dict(config=str(args.config), checkpoint=str(args.checkpoint), time=datetime.now().isoformat(),
                      dataset=type(dataset).__name__, images=len(dataset), img_dir=targets.img_dir,
                      inference_mode=cfg.model.get('test_cfg', {}).get('mode', 'whole'), tta=args.tta,
                      classes=list(classes), metrics=clean_json(results), **targets.record(clean_json(results)))
        out_file = results_file(args)
        out_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = atomic_path(out_file)
        tmp.write_text(json.dumps(record, indent=2) + '\n')
        os.replace(tmp, out_file)
        print(f'Results: {out_file}')
    return results


if __name__ == '__main__':
    main()
