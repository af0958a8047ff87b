"""tools/benchmark_data.py on tiny generated images: the UDA pipelines, per-step times, decoders, workers."""
import json

import cv2
import numpy as np
import pytest

from tools import benchmark_data

DAFORMER = 'configs/daformer/gta2cs_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0.py'


def test_pairs_per_worker_steps_and_decoders_on_tiny_images(tmp_path):
    report = benchmark_data.main([DAFORMER, '--scale', '0.3', '--images', '2', '--pairs', '2', '--warmup', '0',
                                  '--decoder-runs', '1', '--out-dir', str(tmp_path)])
    [path] = tmp_path.glob('gta2cs_uda_warm_fdthings_rcs_croppl_a999_daformer_mitb5_s0__data__*.json')
    assert json.loads(path.read_text()) == report
    assert report['image_sizes'] == dict(gta=[316, 574], cityscapes=[307, 614]) and report['batch_size'] == 2
    for fmt in ('png', 'jpeg'):
        record = report['formats'][fmt]
        assert record['pairs_per_s_per_worker'] == pytest.approx(1000 / record['pair_cpu_ms']['mean'])
        assert record['pair_wall_ms']['mean'] > 0
        assert record['source_pipeline_runs_per_pair'] >= 1
        assert {'source LoadImageFromFile', 'source RandomCrop', 'target LoadImageFromFile',
                'target PackSegInputs'} <= set(record['step_cpu_ms_per_pair'])
        assert sum(record['step_wall_ms_per_pair'].values()) <= record['pair_wall_ms']['mean'] * 1.01
        assert record['workers_needed'] == {
            str(ms): benchmark_data.workers_needed(record['pair_cpu_ms']['mean'], 2, ms) for ms in (90.0, 45.0)}
        decoders = record['decoding'][f'cityscapes {fmt}']['decoders']
        assert decoders['opencv']['identical_to_pipeline'] and decoders['pillow']['ms'] > 0
        assert record['decoding']['gta label png']['decoders']['opencv']['identical_to_pipeline']
    assert report['formats']['png']['decoding']['gta png']['decoders']['pillow']['identical_to_pipeline']


def test_workers_needed_rounds_up():
    assert benchmark_data.workers_needed(100.0, 2, 90.0) == 3
    assert benchmark_data.workers_needed(45.0, 2, 90.0) == 1


def test_generated_scene_labels_match_the_image_regions():
    image, label = benchmark_data.scene(np.random.default_rng(0), (256, 512))
    assert image.shape == (256, 512, 3) and image.dtype == np.uint8 and label.shape == (256, 512)
    assert label.max() < benchmark_data.NUM_CLASSES and len(np.unique(label)) > 3
    ok, png = cv2.imencode('.png', image)
    assert ok and 0.1 < png.size / image.size < 0.9  # compressible, not flat


def test_a_non_uda_config_is_named(tmp_path):
    with pytest.raises(ValueError, match="benchmark_data reads a UDA config's 'UDADataset'"):
        benchmark_data.main(['configs/synth/synth_cs_oracle.py', '--scale', '0.1', '--images', '1', '--pairs', '1',
                             '--out-dir', str(tmp_path)])
