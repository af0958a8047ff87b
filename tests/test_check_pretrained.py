"""tools/check_pretrained.py on files the test writes."""
import subprocess
import sys
from pathlib import Path

import torch

import mmseg.models  # noqa: F401
from mmseg.models.backbones.mit_variant_match import match_mit_variants
from mmseg.registry import MODELS

TOOL = Path(__file__).resolve().parents[1] / 'tools' / 'check_pretrained.py'


def _mit_state(variant: str) -> dict:
    state = MODELS.build(dict(type=variant)).state_dict()
    state['head.weight'] = torch.zeros(1000, 256 if variant == 'mit_b0' else 512)
    return state


def test_match_names_the_variant_and_the_differences():
    state = _mit_state('mit_b2')
    assert match_mit_variants(state)[0].variant == 'mit_b2' and match_mit_variants(state)[0].exact
    del state['block3.5.mlp.fc2.weight']
    state['block2.0.attn.q.weight'] = torch.zeros(3, 3)
    best = match_mit_variants(state)[0]
    assert best.variant == 'mit_b2' and not best.exact
    assert best.missing == ['block3.5.mlp.fc2.weight'] and best.wrong_shape == ['block2.0.attn.q.weight']


def test_tool_reports_ok_mismatch_and_missing_file(tmp_path):
    good, bad = tmp_path / 'mit_b0.pth', tmp_path / 'mit_b5.pth'
    torch.save(_mit_state('mit_b0'), good)
    torch.save({'state_dict': _mit_state('mit_b1')}, bad)
    run = subprocess.run([sys.executable, str(TOOL), str(good)], capture_output=True, text=True)
    assert run.returncode == 0 and '[OK]' in run.stdout and 'mit_b0' in run.stdout
    run = subprocess.run([sys.executable, str(TOOL), str(bad), str(tmp_path / 'absent.pth')],
                         capture_output=True, text=True)
    assert run.returncode == 1
    assert 'mit_b1' in run.stdout and 'does not say mit_b1' in run.stdout
    assert 'Pretrained weights not found' in run.stdout and 'SegFormer' in run.stdout
