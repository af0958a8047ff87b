"""tools/test.py --hrda-out (spec §10.4, §4.2): context-only, detail-only and attention outputs of an HRDA run."""
import copy
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from mmseg.apis import inference_model, load_checkpoint, load_test_config
from mmseg.apis.inference import WRAPPER_LEFTOVER_PREFIXES
from mmseg.apis.train_config import runner_config
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules
from tests.test_dacs import DACS_CFG
from tests.test_datasets import make_cityscapes
from tests.test_hrda import hrda_cfg
from tests.test_test_tool import TEST_PIPELINE, VAL, our_run_dir
from tools import test as test_tool


def hrda_run_dir(tmp_path: Path) -> Path:
    """A run directory of a tiny HRDA DACS run on three 64x96 Cityscapes val images."""
    make_cityscapes(tmp_path / 'cityscapes', dict(val=VAL), size=(64, 96), with_labels=('val', ))
    run = tmp_path / 'work_dirs' / 'local-basic' / '211121_1200_hrda_abcde'
    run.mkdir(parents=True)
    uda = {k: v for k, v in copy.deepcopy(DACS_CFG).items() if k not in ('model', 'max_iters')}
    cfg = Config(dict(
        default_scope='mmseg', work_dir=str(run), model=hrda_cfg(), uda=uda,
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=4),
        test_dataloader=dict(batch_size=1, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                             dataset=dict(type='CityscapesDataset', data_root=str(tmp_path / 'cityscapes'),
                                          data_prefix=dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
                                          pipeline=TEST_PIPELINE)),
        test_evaluator=dict(type='IoUMetric')))
    folded = runner_config(cfg)
    folded.dump(str(run / f'{run.name}.py'))
    register_all_modules(init_default_scope=False)
    torch.manual_seed(0)
    dacs = MODELS.build(folded.model)
    torch.save(dict(meta=dict(iter=4), state_dict=dacs.state_dict()), run / 'iter_4.pth')
    (run / 'last_checkpoint').write_text(str(run / 'iter_4.pth'))
    return run


def reference_model(run: Path, **head):
    """The reference's route: the head options set in the config, the checkpoint loaded non-strictly."""
    cfg = load_test_config(run / f'{run.name}.py')
    cfg.model.decode_head.update(head)
    model = MODELS.build(copy.deepcopy(cfg.model))
    _, report = load_checkpoint(model, run / 'iter_4.pth', ignore_prefixes=WRAPPER_LEFTOVER_PREFIXES)
    assert not report.missing and all(k.startswith('decode_head.scale_attention.') for k in report.unexpected)
    model.cfg = cfg
    return model.eval()


def images() -> list:
    return [f'{stem}_leftImg8bit.png' for stem in VAL]


def test_lr_and_hr_outputs_predict_with_the_context_or_the_detail_branch_only(tmp_path):
    run = hrda_run_dir(tmp_path)
    cityscapes_val = tmp_path / 'cityscapes' / 'leftImg8bit' / 'val'
    written = {}
    for hrda_out, fixed in (('', None), ('LR', 0.), ('HR', 1.)):
        show_dir = tmp_path / f'preds_{hrda_out}'
        results = test_tool.main([str(run), '--eval', 'mIoU', '--show-dir', str(show_dir), '--opacity', '1',
                                  '--hrda-out', hrda_out])
        assert 'mIoU' in results
        labels = [np.array(Image.open(show_dir / name.replace('_leftImg8bit', '_labelTrainIds'))) for name in images()]
        if fixed is not None:
            model = reference_model(run, fixed_attention=fixed)
            for label, name in zip(labels, images()):
                expected = inference_model(model, str(cityscapes_val / name)).pred_sem_seg.data[0].numpy()
                np.testing.assert_array_equal(label, expected)
        written[hrda_out] = np.stack(labels)
    assert not np.array_equal(written['LR'], written['HR'])
    assert not np.array_equal(written[''], written['LR']) and not np.array_equal(written[''], written['HR'])


def test_att_output_writes_the_attention_map_times_255(tmp_path):
    run = hrda_run_dir(tmp_path)
    show_dir = tmp_path / 'preds_ATT'
    test_tool.main([str(run), '--show-dir', str(show_dir), '--hrda-out', 'ATT'])
    model = reference_model(run, debug_output_attention=True)
    for name in images():
        attention = cv2.imread(str(show_dir / name), cv2.IMREAD_UNCHANGED)
        sample = inference_model(model, str(tmp_path / 'cityscapes' / 'leftImg8bit' / 'val' / name))
        expected = np.clip(np.rint(sample.seg_logits.data[0].numpy() * 255), 0, 255).astype(np.uint8)
        assert attention.shape == (64, 96) and attention.dtype == np.uint8
        np.testing.assert_array_equal(attention, expected)
        assert attention.min() < attention.max()
    assert not list(show_dir.rglob('*_labelTrainIds.png'))


def test_hrda_out_needs_an_hrda_model_and_att_only_writes_images(tmp_path, capsys):
    run = our_run_dir(tmp_path)
    with pytest.raises(ValueError, match='--hrda-out LR needs an HRDA model'):
        test_tool.main([str(run), '--eval', 'mIoU', '--hrda-out', 'LR'])
    for extra in (['--eval', 'mIoU', '--show-dir', 'x'], ['--out', 'x'], ['--show-dir', 'x', '--tta']):
        with pytest.raises(SystemExit):
            test_tool.main(['cfg.py', 'ckpt.pth', '--hrda-out', 'ATT', *extra])
        assert 'writes attention maps' in capsys.readouterr().err
