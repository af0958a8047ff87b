"""Checker for full reference training checkpoints (``dacs_checkpoint_*``)."""
import copy

import torch

from mmseg.apis import load_checkpoint
from mmseg.registry import MODELS
from tests.golden_utils import assert_matches


def check_dacs_checkpoint(case: dict) -> None:
    """Load the DACS state dict into the plain segmentor as the reference test tool does: the
    student (``model.``) must be evaluated, and the EMA weights must give the stored other logits."""
    atol, rtol = case['atol'], case['rtol']
    img, metas = case['inputs']['img'], case['inputs']['img_metas']
    state = case['state_dict']
    model = MODELS.build(copy.deepcopy(case['config']['model'])).eval()
    _, report = load_checkpoint(model, {'state_dict': state})
    assert report.missing == [], f'student keys missing after the reference key revision: {report.missing[:5]}'
    assert all(k.startswith(('ema_', 'imnet_')) for k in report.unexpected), report.unexpected[:5]
    with torch.no_grad():
        logits = model.encode_decode(img, metas)
        assert_matches(logits, case['outputs']['encode_decode'], atol, rtol, 'encode_decode')
        pred = model.simple_test(img, metas)
        top2 = case['outputs']['encode_decode'].topk(2, dim=1).values
        near_tie = (top2[:, 0] - top2[:, 1]) < 2 * atol
        differs = pred != case['outputs']['simple_test_pred'].long()
        assert not bool((differs & ~near_tie).any()), f'simple_test_pred: {int(differs.sum())} pixels differ'

        ema = MODELS.build(copy.deepcopy(case['config']['model'])).eval()
        ema.load_state_dict({k[len('ema_model.'):]: v for k, v in state.items() if k.startswith('ema_model.')})
        diff = (ema.encode_decode(img, metas) - logits).abs().max()
        assert_matches(diff, torch.tensor(case['outputs']['ema_model_logits_maxabs_diff']), atol, rtol,
                       'ema_model_logits_maxabs_diff')
