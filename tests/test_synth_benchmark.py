"""The embedded benchmark end to end on a tiny synthetic pair: every synth config trains, test.sh evaluates, results are written."""
import json

from PIL import Image

from tools import synth_benchmark

FEW_ITERATIONS = ['train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'param_scheduler.0.max_iters=2',
                  'param_scheduler.0.end=2', 'default_hooks.checkpoint.interval=2', 'train_dataloader.batch_size=2']


def test_benchmark_trains_and_evaluates_every_method(tmp_path):
    out = tmp_path / 'benchmark'
    summary = synth_benchmark.main([
        '--data-dir', str(tmp_path / 'synthetic'), '--out', str(out), '--seeds', '0', '1', '--methods',
        'source_only', 'dacs', '--generator-args=--num 20 --num-target-train 4 --num-val 2',
        '--cfg-options', *FEW_ITERATIONS])
    assert set(summary) == {'source_only', 'dacs'}
    record = json.loads((out / 'results.json').read_text())
    for method in ('source_only', 'dacs'):
        per_seed = [json.loads((out / 'runs' / f'{method}_s{seed}' / 'test_results.json').read_text())['metrics']['mIoU']
                    for seed in (0, 1)]
        entry = record['methods'][method]
        assert entry['miou_per_seed'] == {'0': per_seed[0], '1': per_seed[1]}
        assert abs(entry['miou_mean'] - sum(per_seed) / 2) < 0.006 and entry['data_seed'] == 0 and entry['wall_s'] > 0
        assert set(entry['per_class_iou']) >= {'road', 'car'}
    assert (out / 'runs' / 'dacs_s0' / 'class_mix_debug' / '000001_0.png').is_file()
    assert '| dacs |' in (out / 'results.md').read_text()
    assert Image.open(out / 'per_class_iou.png').size[0] > 0
    assert Image.open(out / 'predictions.png').size[1] > 0


def test_oracle_and_augmented_baseline_configs_train(tmp_path):
    out = tmp_path / 'benchmark'
    summary = synth_benchmark.main([
        '--data-dir', str(tmp_path / 'synthetic'), '--out', str(out), '--methods', 'oracle', 'source_only_aug',
        '--generator-args=--num 20 --num-target-train 4 --num-val 2',
        '--cfg-options', *FEW_ITERATIONS])
    assert all(0 <= s['miou_mean'] <= 100 for s in summary.values())
    assert (out / 'runs' / 'oracle_s0' / 'iter_2.pth').is_file()
