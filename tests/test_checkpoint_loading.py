"""Reference checkpoint key revision and loading errors."""
import pytest
import torch

import mmseg.models  # noqa: F401
from mmseg.apis import load_checkpoint, revise_keys
from mmseg.registry import MODELS


def test_reference_key_revision_is_unanchored():
    keys = ['module.model.backbone.norm1.weight', 'model.decode_head.conv_seg.bias', 'ema_model.backbone.x',
            'imnet_model.decode_head.y', 'backbone.plain']
    revised = list(revise_keys(dict.fromkeys(keys, torch.zeros(1))))
    assert revised == ['backbone.norm1.weight', 'decode_head.conv_seg.bias', 'ema_backbone.x', 'imnet_decode_head.y',
                       'backbone.plain']


def test_student_is_loaded_from_a_wrapper_checkpoint(tmp_path):
    student = MODELS.build(dict(type='mit_b0'))
    teacher = MODELS.build(dict(type='mit_b0'))
    state = {f'model.{k}': v for k, v in student.state_dict().items()}
    state.update({f'ema_model.{k}': v for k, v in teacher.state_dict().items()})
    path = tmp_path / 'iter_40000.pth'
    torch.save(dict(meta=dict(iter=40000), state_dict=state), path)
    target = MODELS.build(dict(type='mit_b0'))
    checkpoint, report = load_checkpoint(target, path)
    assert checkpoint['meta']['iter'] == 40000
    assert report.missing == [] and all(k.startswith('ema_') for k in report.unexpected)
    torch.testing.assert_close(target.block1[0].attn.q.weight, student.block1[0].attn.q.weight)


def test_missing_file_and_wrong_shapes_are_named(tmp_path):
    model = MODELS.build(dict(type='mit_b0'))
    with pytest.raises(FileNotFoundError, match='absent.pth'):
        load_checkpoint(model, tmp_path / 'absent.pth')
    wrong = {'model.norm4.weight': torch.zeros(7)}
    with pytest.raises(ValueError, match=r'norm4\.weight: \(7,\) in the file, \(256,\) expected'):
        load_checkpoint(model, {'state_dict': wrong})
