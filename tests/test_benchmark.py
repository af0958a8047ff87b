"""tools/benchmark.py: both modes in their own processes, the JSON record, bad input."""
import json

import pytest

from tools import benchmark

SYNTH_CONFIG = 'configs/synth/synth_gta2cs_dacs_rcs.py'


def test_benchmark_writes_both_modes_and_their_ratio(tmp_path):
    report = benchmark.main([SYNTH_CONFIG, '--iters', '2', '--warmup', '1', '--inference-runs', '1', '--crop', '64',
                             '64', '--test-size', '64', '128', '--batch-size', '2', '--threads', '1',
                             '--out-dir', str(tmp_path)])
    files = list(tmp_path.glob('synth_gta2cs_dacs_rcs__*__1threads.json'))
    assert len(files) == 1 and json.loads(files[0].read_text()) == report
    assert report['config'] == SYNTH_CONFIG
    env = report['environment']
    assert env['device'] and env['torch'] and env['git_revision'] and env['torch_threads'] == 1
    reference, fast = report['modes']['reference'], report['modes']['fast']
    assert reference['settings']['attn_impl'] == 'math' and fast['settings']['attn_impl'] == 'sdpa'
    assert reference['settings']['amp_dtype'] == 'float32' and fast['settings']['amp_dtype'] == 'bfloat16'
    assert reference['settings']['fused_ema'] is False and fast['settings']['fused_ema'] is True
    for record in (reference, fast):
        timing = record['train_ms_per_iter']
        assert 0 < timing['min'] <= timing['median'] <= timing['max'] and record['iters'] == 2
        assert record['crop'] == [64, 64] and record['inference_size'] == [64, 128]
        assert record['peak_memory_mb'] > 0 and record['inference_ms_per_image']['median'] > 0
    ratio = report['fast_over_reference']['train_ms_per_iter']
    assert ratio == pytest.approx(fast['train_ms_per_iter']['median'] / reference['train_ms_per_iter']['median'])


def test_benchmark_bad_input_names_it(tmp_path):
    with pytest.raises(SystemExit, match='config nowhere.py does not exist'):
        benchmark.main(['nowhere.py', '--out-dir', str(tmp_path)])
    with pytest.raises(SystemExit):
        benchmark.main([SYNTH_CONFIG, '--iters', '0'])
