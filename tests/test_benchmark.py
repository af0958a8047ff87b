"""tools/benchmark.py: both modes in their own processes, the JSON record, the original's host work in
the reference mode, the FLOP count on the meta device, bad input."""
import json

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import mmseg.models  # noqa: F401
import mmseg.models.uda.dacs as dacs_module
from tools import benchmark
from tools.benchmark_flops import flop_counter, step_flops

SYNTH_CONFIG = 'configs/synth/synth_gta2cs_dacs_rcs.py'
SYNTH_HRDA_CONFIG = 'configs/synth/synth_gta2cs_hrda.py'
MITB0_FD_CONFIG = 'configs/benchmark/gta2cs_daformer_mitb0_dacs_256x256.py'


def test_benchmark_writes_both_modes_and_their_ratio(tmp_path):
    report = benchmark.main([SYNTH_CONFIG, '--iters', '2', '--warmup', '1', '--inference-runs', '1', '--crop', '64',
                             '64', '--test-size', '64', '128', '--batch-size', '2', '--threads', '1',
                             '--out-dir', str(tmp_path)])
    files = list(tmp_path.glob('synth_gta2cs_dacs_rcs__*__1threads.json'))
    assert len(files) == 1 and json.loads(files[0].read_text()) == report
    assert report['config'] == SYNTH_CONFIG
    env = report['environment']
    assert env['device'] and env['torch'] and env['git_revision'] and env['torch_threads'] == 1
    assert len(env['load_average_at_start']) == 3 and len(env['load_average_at_end']) == 3
    reference, fast = report['modes']['reference'], report['modes']['fast']
    assert reference['settings']['attn_impl'] == 'math' and fast['settings']['attn_impl'] == 'sdpa'
    assert reference['settings']['amp_dtype'] == 'float32' and fast['settings']['amp_dtype'] == 'bfloat16'
    assert reference['settings']['fused_ema'] is False and fast['settings']['fused_ema'] is True
    assert reference['settings']['original_host_work'] is True and fast['settings']['original_host_work'] is False
    assert reference['settings']['matmul_tf32'] is True and fast['settings']['matmul_tf32'] is False
    for record in (reference, fast):
        timing = record['train_ms_per_iter']
        assert 0 < timing['min'] <= timing['median'] <= timing['max'] and record['iters'] == timing['n'] == 2
        assert record['train_process_cpu_ms_per_iter']['median'] > 0
        assert record['crop'] == [64, 64] and record['inference_size'] == [64, 128]
        assert record['peak_memory_mb'] > 0 and record['inference_ms_per_image']['median'] > 0
        assert len(record['load_average_after_training']) == 3
    ratio = report['fast_over_reference']['train_ms_per_iter']
    assert ratio == pytest.approx(fast['train_ms_per_iter']['median'] / reference['train_ms_per_iter']['median'])


def test_benchmark_bad_input_names_it(tmp_path):
    with pytest.raises(SystemExit, match='config nowhere.py does not exist'):
        benchmark.main(['nowhere.py', '--out-dir', str(tmp_path)])
    with pytest.raises(SystemExit):
        benchmark.main([SYNTH_CONFIG, '--iters', '0'])


def _tiny_batch(cfg: Config, crop, batch_size: int = 1) -> dict:
    return benchmark.synthetic_batch(batch_size, crop, torch.Generator().manual_seed(0),
                                     benchmark.target_pseudo_margins(cfg))


@pytest.mark.parametrize('config, crop', [(MITB0_FD_CONFIG, (64, 64)), (SYNTH_HRDA_CONFIG, (128, 128))])
def test_flops_on_the_meta_device_are_those_of_the_real_step(config, crop):
    """The meta-device stand-ins (ClassMix masks from the CPU labels, all-true FD mask, host reads 0)
    change no counted FLOP: the same step with real tensors on the CPU counts the same, part by part."""
    DefaultScope.get_instance('test-flops', scope_name='mmseg')
    cfg = Config.fromfile(config)
    batch = _tiny_batch(cfg, crop)
    torch.manual_seed(0)
    on_cpu = step_flops(cfg, batch, torch.device('cpu'))
    on_meta = step_flops(cfg, batch, torch.device('meta'))
    assert on_meta == on_cpu
    assert {'student forward (source)', 'backward (source loss)', 'teacher forward (pseudo-labels)',
            'student forward (mixed)', 'backward (mixed loss)'} <= set(on_meta)
    if cfg.uda.get('imnet_feature_dist_lambda', 0) > 0:
        assert on_meta['ImageNet model forward'] > 0 and on_meta['backward (feature distance)'] > 0


def test_grouped_convolution_backward_counts_one_forward_per_gradient():
    """torch's formula counts a depthwise convolution's weight gradient as dense (257x the forward)."""
    conv = torch.nn.Conv2d(64, 64, 3, padding=1, groups=64)
    x = torch.randn(1, 64, 16, 16, requires_grad=True)
    with flop_counter() as counter:
        y = conv(x)
    forward = counter.get_total_flops()
    with flop_counter() as counter:
        y.sum().backward()
    assert counter.get_total_flops() == 2 * forward


def test_flops_report_and_the_implied_time(tmp_path):
    report = benchmark.main([SYNTH_CONFIG, '--flops', '--crop', '64', '64', '--batch-size', '2', '--test-size', '64',
                             '64', '--out-dir', str(tmp_path)])
    assert json.loads((tmp_path / 'synth_gta2cs_dacs_rcs__flops.json').read_text()) == report
    flops = report['flops']
    parts = flops['parts']
    assert parts['backward (source loss)'] == parts['backward (mixed loss)']
    assert 1.5 * parts['student forward (source)'] < parts['backward (source loss)'] \
        <= 2 * parts['student forward (source)']
    assert flops['blur']['dacs'] > flops['blur']['separable'] > 0  # the 2-D kernel of the original
    assert flops['step_expected'] == sum(parts.values()) + 0.5 * flops['blur']['dacs']
    assert flops['ms_at_peak'] == pytest.approx(1000 * flops['step_expected'] / 790e12)
    assert flops['ms_at_sustained'] == pytest.approx(flops['ms_at_peak'] / 0.4)
    assert flops['inference_per_image'] > 0


def test_reference_mode_does_the_originals_host_work():
    """Loss values and pseudo-labels read on the host, gradients zeroed in place, TF32 matrix products;
    all undone on exit."""
    DefaultScope.get_instance('test-original', scope_name='mmseg')
    cfg = Config.fromfile(SYNTH_CONFIG)
    cfg.uda['work_dir'] = None
    model, optim_wrapper = benchmark.build(cfg, torch.device('cpu'))
    pseudo_labels = dacs_module.pseudo_label_and_weight
    with benchmark.emulate_original(model, optim_wrapper):
        model.train_step(_tiny_batch(cfg, (64, 64)), optim_wrapper)
        grads = [p.grad for p in model.get_model().parameters()]
        assert all(g is not None and not g.any() for g in grads)
        assert dacs_module.pseudo_label_and_weight is not pseudo_labels
        assert torch.backends.cuda.matmul.allow_tf32
    assert dacs_module.pseudo_label_and_weight is pseudo_labels
    assert 'parse_losses' not in vars(model) and 'zero_grad' not in vars(optim_wrapper)
    assert not torch.backends.cuda.matmul.allow_tf32
