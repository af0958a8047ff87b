"""tools/analyze_results.py on hand-made run directories: discovery, result sources, grouping by seed, statistics,
mIoU16, the Markdown / CSV / PNG outputs and the errors."""
import csv
import json
import math
import os

import numpy as np
import pytest

from tools import analyze_results

CITYSCAPES = ['road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light', 'traffic sign', 'vegetation',
              'terrain', 'sky', 'person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle', 'bicycle']
NOT_IN_SYNTHIA = {'terrain', 'truck', 'train'}
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'


def make_run(parent, name, seed=None, dataset=None, dir_name=None):
    """A run directory with a dumped config ``<run dir name>.py`` (``dir_name`` defaults to ``name``)."""
    run_dir = parent / (dir_name or name)
    run_dir.mkdir(parents=True)
    lines = [f'name = {name!r}']
    if seed is not None:
        lines.append(f'randomness = dict(seed={seed})')
    if dataset is not None:
        lines.append(f'name_dataset = {dataset!r}')
    (run_dir / f'{run_dir.name}.py').write_text('\n'.join(lines) + '\n')
    return run_dir


def metrics(miou, iou):
    """test.sh / IoUMetric style metrics: ``iou`` maps class -> IoU (None or NaN for a class without pixels)."""
    return {'aAcc': 90.0, 'mIoU': miou, 'mAcc': 60.0, **{f'IoU.{c}': v for c, v in iou.items()},
            **{f'Acc.{c}': v for c, v in iou.items()}}


def write_test_results(run_dir, miou, iou, config=None):
    record = dict(config=str(config or run_dir / f'{run_dir.name}.py'), checkpoint=str(run_dir / 'iter_10.pth'),
                  metrics=metrics(miou, iou), classes=list(iou))
    (run_dir / 'test_results.json').write_text(json.dumps(record, indent=2))


def write_scalars(run_dir, timestamp, records):
    scalars = run_dir / timestamp / 'vis_data' / 'scalars.json'
    scalars.parent.mkdir(parents=True)
    scalars.write_text(''.join(json.dumps(r) + '\n' for r in records))


def train_record(step):
    return {'lr': 1e-4, 'decode.loss_seg': 0.5, 'time': 0.3, 'iter': step, 'step': step}


def validation_record(step, miou, iou):
    return {**metrics(miou, iou), 'data_time': 0.01, 'time': 0.02, 'step': step}


DACS_MIOU = [50.1, 52.3, 49.8]
DACS_CAR = [70.0, math.nan, 74.0]
SOURCE_ONLY_MIOU = [40.5, 38.25]


@pytest.fixture
def experiment(tmp_path):
    """gta2cs_dacs with seeds 0-2 (car NaN for seed 1, bus NaN always), gta2cs_source_only with seeds 0-1 (the
    second from the logs)."""
    folder = tmp_path / 'local-exp1'
    for seed, (miou, car) in enumerate(zip(DACS_MIOU, DACS_CAR)):
        run = make_run(folder, f'261121_131{seed}_gta2cs_dacs_mitb5_s{seed}_0a1b{seed}', seed, 'gta2cityscapes')
        write_test_results(run, miou, {'road': 90.0 + seed, 'car': None if math.isnan(car) else car, 'bus': None})
    first = make_run(folder, '261120_0900_gta2cs_source_only_mitb5_s0_ffff0', 0, 'gta2cityscapes')
    write_test_results(first, SOURCE_ONLY_MIOU[0], {'road': 80.0, 'car': 60.0, 'bus': 10.0})
    second = make_run(folder, '261120_0901_gta2cs_source_only_mitb5_s1_ffff1', 1, 'gta2cityscapes')
    write_scalars(second, '20261120_090100', [train_record(10), validation_record(10, SOURCE_ONLY_MIOU[1],
                                                                                    {'road': 82.0, 'car': 58.0,
                                                                                     'bus': math.nan})])
    return folder


def test_seeds_of_a_configuration_form_one_row_with_numpy_statistics(experiment, tmp_path):
    summaries = analyze_results.main([str(experiment), '--out', str(tmp_path / 'out')])
    assert [s.key for s in summaries] == ['gta2cs_dacs_mitb5', 'gta2cs_source_only_mitb5']
    dacs, source_only = summaries
    assert len(dacs.runs) == 3 and dacs.seeds == [0, 1, 2] and source_only.seeds == [0, 1]
    assert dacs.miou_mean == pytest.approx(np.mean(DACS_MIOU)) and dacs.miou_std == pytest.approx(np.std(DACS_MIOU))
    assert source_only.miou_std == pytest.approx(np.std(SOURCE_ONLY_MIOU))
    assert dacs.class_iou['car'] == pytest.approx(np.nanmean(DACS_CAR)) and dacs.class_iou['road'] == pytest.approx(91)
    assert math.isnan(dacs.class_iou['bus']) and source_only.class_iou['bus'] == pytest.approx(10.0)
    assert [r.source for r in source_only.runs] == ['test', 'val@10']
    assert dacs.miou16_mean is None and source_only.miou16_mean is None


def test_markdown_and_csv_hold_the_rows(experiment, tmp_path, capsys):
    out = tmp_path / 'out'
    analyze_results.main([str(experiment), '--out', str(out)])
    markdown = (out / 'analysis.md').read_text()
    assert markdown.strip() in capsys.readouterr().out
    assert markdown.splitlines()[0] == ('| config | n | seeds | mIoU | mIoU per seed | source | road | car | bus |')
    assert (f'| gta2cs_dacs_mitb5 | 3 | 0, 1, 2 | {np.mean(DACS_MIOU):.2f} ± {np.std(DACS_MIOU):.2f} '
            f'| 50.10, 52.30, 49.80 | test, test, test | 91.0 | {np.nanmean(DACS_CAR):.1f} | - |') in markdown
    assert '| gta2cs_source_only_mitb5 | 2 | 0, 1 |' in markdown and 'test, val@10' in markdown
    with open(out / 'analysis.csv', newline='') as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == ['config', 'n', 'seeds', 'mIoU_mean', 'mIoU_std', 'mIoU_per_seed', 'source', 'IoU.road',
                             'IoU.car', 'IoU.bus']
    dacs = rows[0]
    assert (dacs['config'], dacs['n'], dacs['seeds'], dacs['source']) == ('gta2cs_dacs_mitb5', '3', '0;1;2',
                                                                          'test;test;test')
    assert float(dacs['mIoU_mean']) == pytest.approx(np.mean(DACS_MIOU), abs=1e-4)
    assert float(dacs['mIoU_std']) == pytest.approx(np.std(DACS_MIOU), abs=1e-4)
    assert [float(v) for v in dacs['mIoU_per_seed'].split(';')] == DACS_MIOU
    assert float(dacs['IoU.car']) == pytest.approx(np.nanmean(DACS_CAR)) and dacs['IoU.bus'] == ''
    assert float(rows[1]['IoU.bus']) == pytest.approx(10.0)


def test_logs_give_the_last_validation_of_the_newest_folder_with_one(tmp_path):
    run = make_run(tmp_path, '261121_1200_gta2cs_dacs_s0_abcde', 0)
    write_scalars(run, '20261120_080000', [validation_record(500, 70.0, {'road': 1.0})])
    write_scalars(run, '20261121_120000', [train_record(1000), validation_record(1000, 40.0, {'road': 2.0}),
                                           train_record(1500), validation_record(2000, 45.0, {'road': 3.0}),
                                           train_record(2100)])
    write_scalars(run, '20261121_130000', [train_record(2200)])  # resumed, no validation yet
    (result,) = analyze_results.collect_runs([run])
    assert result.source == 'val@2000' and result.metrics['mIoU'] == 45.0 and result.metrics['IoU.road'] == 3.0
    assert result.classes == ['road'] and 'step' not in result.metrics and 'time' not in result.metrics


def test_test_results_win_over_logs(tmp_path):
    run = make_run(tmp_path, '261121_1200_gta2cs_dacs_s0_abcde', 0)
    write_scalars(run, '20261121_120000', [validation_record(2000, 45.0, {'road': 3.0})])
    write_test_results(run, 47.5, {'road': 4.0})
    (result,) = analyze_results.collect_runs([tmp_path])
    assert result.source == 'test' and result.metrics['mIoU'] == 47.5 and result.seed == 0


def test_synthia_rows_get_the_16_class_miou_and_other_rows_do_not(tmp_path, capsys):
    rng = np.random.default_rng(0)
    synthia_iou = []
    for seed in (0, 1):
        iou = dict(zip(CITYSCAPES, rng.uniform(0, 100, len(CITYSCAPES)).round(2).tolist()))
        iou.update(train=math.nan, truck=0.0, motorcycle=math.nan if seed else 12.5)
        synthia_iou.append(iou)
        run = make_run(tmp_path, f'261121_120{seed}_syn2cs_dacs_s{seed}_abcd{seed}', seed, 'synthia2cityscapes')
        write_test_results(run, 42.0 + seed, iou)
    gta = make_run(tmp_path, '261121_1200_gta2cs_dacs_s0_abcdf', 0, 'gta2cityscapes')
    write_test_results(gta, 50.0, dict.fromkeys(CITYSCAPES, 50.0))
    gta_row, synthia_row = analyze_results.main([str(tmp_path), '--out', str(tmp_path / 'out')])
    per_seed = [np.nanmean([v for c, v in iou.items() if c not in NOT_IN_SYNTHIA]) for iou in synthia_iou]
    assert synthia_row.key == 'syn2cs_dacs'
    assert synthia_row.miou16_mean == pytest.approx(np.mean(per_seed))
    assert synthia_row.miou16_std == pytest.approx(np.std(per_seed))
    assert gta_row.miou16_mean is None and gta_row.miou16_std is None
    # the reference's number: the 19-class mIoU (42, 43) times 19/16
    assert synthia_row.miou19_scaled_mean == pytest.approx(42.5 * 19 / 16)
    assert synthia_row.miou19_scaled_std == pytest.approx(0.5 * 19 / 16)
    markdown = capsys.readouterr().out
    assert '| source | mIoU16 | mIoU19x19/16 | road |' in markdown
    scaled = f'{42.5 * 19 / 16:.2f} ± {0.5 * 19 / 16:.2f}'
    assert f'| test, test | {np.mean(per_seed):.2f} ± {np.std(per_seed):.2f} | {scaled} | ' in markdown
    assert '| 50.00 | test | - | - | 50.0 |' in markdown


def test_a_reported_miou16_is_taken_as_is(tmp_path):
    run = make_run(tmp_path, 'synthia_run', 3)
    write_test_results(run, 40.0, dict.fromkeys(CITYSCAPES, 40.0))
    record = json.loads((run / 'test_results.json').read_text())
    record['metrics']['mIoU16'] = 44.4
    record['metrics']['mIoU19x19/16'] = 47.5
    (run / 'test_results.json').write_text(json.dumps(record))
    (summary,) = analyze_results.group_runs(analyze_results.collect_runs([run]))
    assert summary.key == 'synthia_run' and summary.seeds == [3] and summary.miou16_mean == 44.4
    assert summary.miou19_scaled_mean == 47.5


def test_synth_benchmark_runs_group_by_config_name_and_seed(tmp_path):
    """Run directories named ``<method>_s<seed>`` whose config is ``<date>_<name>_<uuid>.py``, seed from randomness."""
    for seed in (0, 1):
        name = f'261121_131{seed}_synth_gta2cs_dacs_rcs_008e{seed}'
        run = make_run(tmp_path / 'runs', name, seed, dir_name=f'dacs_s{seed}')
        config = run / f'{name}.py'
        (run / f'{run.name}.py').rename(config)
        write_test_results(run, 55.0 + seed, {'road': 90.0}, config=config)
    (summary,) = analyze_results.group_runs(analyze_results.collect_runs([tmp_path]))
    assert summary.key == 'synth_gta2cs_dacs_rcs' and summary.seeds == [0, 1] and summary.miou_mean == 55.5


def test_plot_writes_a_png_into_the_single_folder_given(experiment):
    analyze_results.main([str(experiment), '--plot'])
    png = (experiment / 'analysis.png').read_bytes()
    assert png.startswith(PNG_MAGIC) and len(png) > 1000
    assert (experiment / 'analysis.md').is_file() and (experiment / 'analysis.csv').is_file()


def test_sort_by_miou_puts_the_best_configuration_first(experiment, tmp_path):
    write_test_results(make_run(experiment, '261121_1500_gta2cs_adv_s0_55555', 0), 10.0, {'road': 20.0})
    out = str(tmp_path / 'out')
    by_name = analyze_results.main([str(experiment), '--out', out])
    by_miou = analyze_results.main([str(experiment), '--sort', 'miou', '--out', out])
    assert [s.key for s in by_name] == ['gta2cs_adv', 'gta2cs_dacs_mitb5', 'gta2cs_source_only_mitb5']
    assert [s.key for s in by_miou] == ['gta2cs_dacs_mitb5', 'gta2cs_source_only_mitb5', 'gta2cs_adv']


def test_sort_by_names_follows_the_names_file_and_puts_the_others_after(experiment, tmp_path, capsys):
    write_test_results(make_run(experiment, '261121_1500_gta2cs_adv_s0_55555', 0), 10.0, {'road': 20.0})
    names = tmp_path / 'names.json'
    names.write_text(json.dumps({'gta2cs_source_only_mitb5': 'source-only', 'adv': 'AdvSeg'}))  # key, short label
    out = str(tmp_path / 'out')
    rows = analyze_results.main([str(experiment), '--sort', 'names', '--names', str(names), '--out', out])
    assert [s.key for s in rows] == ['gta2cs_source_only_mitb5', 'gta2cs_adv', 'gta2cs_dacs_mitb5']
    with pytest.raises(SystemExit):
        analyze_results.main([str(experiment), '--sort', 'names', '--out', out])
    assert '--sort names needs --names JSON' in capsys.readouterr().err


def test_runs_with_the_same_seed_are_kept_with_a_warning(tmp_path, capsys):
    for uuid in ('aaaaa', 'bbbbb'):
        write_test_results(make_run(tmp_path, f'261121_1200_gta2cs_dacs_s0_{uuid}', 0), 50.0, {'road': 90.0})
    (summary,) = analyze_results.group_runs(analyze_results.collect_runs([tmp_path]))
    assert summary.seeds == [0, 0]
    assert 'gta2cs_dacs: 2 runs with seed 0' in capsys.readouterr().err


def test_a_missing_path_is_named(tmp_path):
    missing = tmp_path / 'no_such_run'
    with pytest.raises(SystemExit, match=f'Not a directory: {missing}'):
        analyze_results.main([str(missing)])


def test_a_folder_without_runs_is_named(tmp_path):
    (tmp_path / 'empty' / 'nested').mkdir(parents=True)
    with pytest.raises(SystemExit, match=f'No run with results found in {tmp_path / "empty"}'):
        analyze_results.main([str(tmp_path / 'empty')])


def test_a_run_without_results_is_skipped_with_a_warning(experiment, tmp_path, capsys):
    unfinished = make_run(experiment, '261121_1400_gta2cs_unfinished_s0_12345', 0)
    write_scalars(unfinished, '20261121_140000', [train_record(10), train_record(20)])
    bare = make_run(tmp_path, '261121_1400_gta2cs_bare_s0_12345', 0)
    summaries = analyze_results.main([str(experiment), str(bare), '--out', str(tmp_path / 'out')])
    assert [s.key for s in summaries] == ['gta2cs_dacs_mitb5', 'gta2cs_source_only_mitb5']
    err = capsys.readouterr().err
    assert f'Warning: {unfinished}: no results' in err and f'Warning: {bare}: no results' in err


def test_plot_labels_keep_what_tells_the_configurations_apart():
    keys = ['synthetic_gta2cs_dacs_rcs001_daformer_conv1_mit_tiny_s', 'synthetic_gta2cs_dacs_daformer_conv1_mit_tiny_s',
            'synthetic_gta2cs_dacs_rcs001_hrda1-64-01_daformer_conv1_sl_mit_tiny_s']
    assert analyze_results.short_labels(keys) == ['rcs001_daformer_conv1', 'daformer_conv1',
                                                  'rcs001_hrda1-64-01_daformer_conv1_sl']
    assert analyze_results.short_labels(['a_b', 'a_b_c']) == ['a_b', 'c']  # nothing left: the whole name
    assert analyze_results.short_labels(['only_one']) == ['only_one']


def test_runs_of_one_name_with_different_configs_are_separate_rows_named_by_the_difference(tmp_path, capsys):
    for seed, alpha in ((0, 0.99), (1, 0.99), (2, 0.999)):
        run = make_run(tmp_path, f'261121_131{seed}_gta2cs_dacs_s{seed}_0a1b{seed}', seed)
        with open(run / f'{run.name}.py', 'a') as config:
            config.write(f"uda = dict(alpha={alpha}, work_dir='{run}')\ngit_rev = 'rev{seed}'\n")
        write_test_results(run, 50.0 + seed, {'road': 90.0})
    summaries = analyze_results.main([str(tmp_path), '--out', str(tmp_path / 'out')])
    assert [(s.key, s.seeds) for s in summaries] == [('gta2cs_dacs [uda.alpha=0.99]', [0, 1]),
                                                     ('gta2cs_dacs [uda.alpha=0.999]', [2])]
    assert 'runs with different configs are not seeds of one configuration' in capsys.readouterr().err


def test_the_stages_of_ddb_pipelines_of_different_seeds_are_seeds_of_one_row(tmp_path):
    # Each seed's pipeline hands its own checkpoints and prototypes to its CKD stage (tools/ddb_pipeline.py).
    for seed in range(3):
        pipeline = tmp_path / f'synth_gta2cs_ddb_s{seed}'
        run = make_run(pipeline, 'r1_ckd', seed)
        with open(run / 'r1_ckd.py', 'a') as config:
            handover = {f'{path}_{kind}': str(pipeline / f'{path}_{kind}.pth')
                        for path in ('cu', 'ca') for kind in ('model_load_from', 'proto_path')}
            config.write(f"uda = dict(temp=1.0, {', '.join(f'{k}={v!r}' for k, v in handover.items())})\n")
        write_test_results(run, 46.0 + seed, {'road': 90.0})
    summaries = analyze_results.main([str(tmp_path), '--out', str(tmp_path / 'out')])
    assert [(s.key, s.seeds) for s in summaries] == [('r1_ckd', [0, 1, 2])]


def test_test_results_older_than_the_newest_checkpoint_are_ignored_with_a_warning(tmp_path, capsys):
    run = make_run(tmp_path, '261121_1310_gta2cs_dacs_s0_0a1b0', 0)
    write_test_results(run, 61.0, {'road': 90.0})
    write_scalars(run, '20261121_131000', [validation_record(20, 55.0, {'road': 80.0})])
    (run / 'iter_20.pth').write_bytes(b'x')
    old = (run / 'iter_20.pth').stat().st_mtime - 60
    os.utime(run / 'test_results.json', (old, old))
    summary, = analyze_results.main([str(run), '--out', str(tmp_path / 'out')])
    assert (summary.mious, summary.runs[0].source) == ([55.0], 'val@20')
    assert 'test_results.json is older than iter_20.pth, ignored' in capsys.readouterr().err
    write_test_results(run, 61.0, {'road': 90.0})  # test.sh again: current
    summary, = analyze_results.main([str(run), '--out', str(tmp_path / 'out')])
    assert (summary.mious, summary.runs[0].source) == ([61.0], 'test')


def test_figures_redraw_from_the_csv_with_display_names(experiment, tmp_path):
    analyze_results.main([str(experiment), '--out', str(tmp_path / 'first')])
    names = tmp_path / 'names.json'
    names.write_text(json.dumps({'gta2cs_dacs_mitb5': 'DACS', 'source_only': 'source-only'}))
    summaries = analyze_results.main(['--from-csv', str(tmp_path / 'first' / 'analysis.csv'), '--names', str(names),
                                      '--plot', '--sort', 'miou', '--out', str(tmp_path / 'again')])
    assert [s.key for s in summaries] == ['gta2cs_dacs_mitb5', 'gta2cs_source_only_mitb5']
    assert summaries[0].miou_mean == pytest.approx(np.mean(DACS_MIOU), abs=1e-4) and summaries[0].seeds == [0, 1, 2]
    table = (tmp_path / 'again' / 'analysis.md').read_text()
    assert table.startswith('| variant | config |') and '| DACS | gta2cs_dacs_mitb5 |' in table
    assert '| source-only | gta2cs_source_only_mitb5 |' in table  # named by the short label
    for name in ('analysis.png', 'analysis_per_class.png'):
        assert (tmp_path / 'again' / name).read_bytes().startswith(PNG_MAGIC)
    with pytest.raises(SystemExit):
        analyze_results.main(['--from-csv', str(tmp_path / 'first' / 'analysis.csv'), str(experiment)])


def write_multi_target_results(run_dir, per_target):
    """test.sh's record of a MultiTargetIoUMetric evaluation: ``per_target`` maps target -> (mIoU, class IoU)."""
    flat = {'mIoU': float(np.mean([miou for miou, _ in per_target.values()]))}
    for target, (miou, iou) in per_target.items():
        flat.update({f'{target}/{key}': value for key, value in metrics(miou, iou).items()})
    record = dict(config=str(run_dir / f'{run_dir.name}.py'), checkpoint=str(run_dir / 'iter_10.pth'), metrics=flat,
                  classes=list(next(iter(per_target.values()))[1]),
                  targets={t: dict(metrics=metrics(miou, iou)) for t, (miou, iou) in per_target.items()})
    (run_dir / 'test_results.json').write_text(json.dumps(record, indent=2))


def test_multi_target_runs_get_an_miou_per_target_and_the_class_iou_of_the_targets(tmp_path, capsys):
    """Foggy + Rain results: a foggy/mIoU and a rain/mIoU column (mean ± std over seeds) in Markdown, CSV and the
    CSV redraw, the per-class IoU averaged over the targets, and the same from the validation logs."""
    foggy, rain = [40.0, 44.0], [42.0, 48.0]
    for seed in (0, 1):
        run = make_run(tmp_path, 'fograin', seed=seed, dir_name=f'fograin_s{seed}')
        write_multi_target_results(run, {'foggy': (foggy[seed], {'road': 80.0, 'sky': 10.0 * seed}),
                                         'rain': (rain[seed], {'road': 90.0, 'sky': math.nan})})
    run = make_run(tmp_path, 'fograin', seed=2, dir_name='fograin_s2')
    write_scalars(run, '20260101_000000', [validation_record(2000, 99.0, {})
                                           | {'foggy/mIoU': 50.0, 'rain/mIoU': 52.0, 'foggy/IoU.road': 70.0,
                                              'rain/IoU.road': 74.0}])
    (summary,) = analyze_results.main([str(tmp_path)])
    assert summary.target_miou['foggy'] == pytest.approx((np.mean([40, 44, 50]), np.std([40, 44, 50])))
    assert summary.target_miou['rain'] == pytest.approx((np.mean([42, 48, 52]), np.std([42, 48, 52])))
    assert summary.class_iou['road'] == pytest.approx(np.mean([85.0, 85.0, 72.0]))
    assert summary.class_iou['sky'] == pytest.approx(np.mean([0.0, 10.0]))  # the rain NaN and the log's absence
    header = capsys.readouterr().out.splitlines()[0]
    assert '| foggy/mIoU | rain/mIoU |' in header
    with open(tmp_path / 'analysis.csv', newline='') as file:
        (row,) = list(csv.DictReader(file))
    assert float(row['foggy/mIoU_mean']) == pytest.approx(np.mean([40, 44, 50]), abs=1e-4)
    (redrawn,) = analyze_results.main(['--from-csv', str(tmp_path / 'analysis.csv'), '--out', str(tmp_path / 'r')])
    for target in ('foggy', 'rain'):
        assert redrawn.target_miou[target] == pytest.approx(summary.target_miou[target], abs=1e-4)
    assert analyze_results.class_names({'foggy/IoU.road': 1.0, 'rain/IoU.road': 2.0, 'rain/IoU.sky': 3.0,
                                        'foggy/mIoU': 1.5}) == ['road', 'sky']
