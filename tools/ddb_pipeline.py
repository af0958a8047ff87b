"""DDB in one command (spec ebda-cdda-ddb §3.1, §3.7): the rounds of Deliberated Domain Bridging, each stage an
ordinary run, and the hand-over between them written down instead of renamed by hand.

    python run_experiments.py --config configs/ddb/gta2cs_ddb.py [--work-dir DIR] [--iters N] [--rounds R]
                              [--gpus N] [--cfg-options k=v ...]
    python tools/ddb_pipeline.py configs/ddb/gta2cs_ddb.py [the same options]

A pipeline config names the stage configs of each round, paths relative to it::

    ddb_pipeline = dict(rounds=[dict(st_cu=..., st_ca=..., ckd=...), dict(st_cu=..., st_ca=..., ckd=...)],
                        prototype_epochs=4)

Per round R:

1. ``rR_st_cu`` and ``rR_st_ca``: the two ST runs (from Round 2 on, both start from the previous round's CKD
   student: ``uda.distilled_model_path``); one after the other, or both at once on disjoint GPUs when the machine
   has at least twice the GPUs one run uses (``--gpus``);
2. ``rR_proto_cu``, ``rR_proto_ca``: the class prototypes of each ST student (``tools/compute_prototypes.py``);
3. ``rR_ckd``: CKD with the two ST checkpoints as teachers (``uda.cu_model_load_from``, ``uda.ca_model_load_from``)
   and their prototypes (``uda.cu_proto_path``, ``uda.ca_proto_path``).

The pipeline folder (``--work-dir``, default ``work_dirs/ddb/<pipeline config name>``) holds each training stage's run
directory ``<stage>/`` (evaluate it with ``sh test.sh <folder>/<stage>``), its generated config
``configs/<stage>.py`` (the stage config, the hand-over keys and the command-line overrides: it alone reproduces the
stage, ``python tools/train.py <folder>/configs/<stage>.py``), the prototypes ``prototypes/<stage>.pth`` and
``manifest.json``: the options, and per stage its status, config, run directory, what it produced (checkpoint or
prototypes, with size and SHA-256) and what it consumed (which checkpoint and prototypes went into which key).
Rerunning the same command skips the finished stages and resumes an interrupted one from the latest checkpoint in its
run directory; the runs checkpoint their iteration counter, teacher and RNG states, so the result is the one of an
uninterrupted run. A folder started with other options (``--iters``, ``--cfg-options``, ``--gpus``, ``--amp``) is
refused; ``--rounds R`` stops after round R (a later command with more rounds continues).
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402

import run_experiments  # noqa: E402
from mmseg.engine.run_dir_lock import RunDirectoryBusyError, RunDirectoryLock  # noqa: E402
from tools import compute_prototypes, train  # noqa: E402

PIPELINE_KEY = 'ddb_pipeline'
PATHS = ('cu', 'ca')
ROUND_KEYS = ('st_cu', 'st_ca', 'ckd')
MANIFEST = 'manifest.json'
DONE, RUNNING = 'done', 'running'
DEFAULT_ROOT = Path('work_dirs') / 'ddb'


class PipelineError(RuntimeError):
    """A pipeline that cannot go on: a bad pipeline config, a folder of other options, a missing stage output."""


def is_pipeline_config(path: str) -> bool:
    """Whether ``path`` is a DDB pipeline config (it has ``ddb_pipeline``)."""
    return Config.fromfile(path).get(PIPELINE_KEY) is not None


def file_record(path: Path) -> dict:
    """Path, size and SHA-256 of a file a stage produced."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return dict(path=str(path), size=path.stat().st_size, sha256=digest.hexdigest())


def now() -> str:
    return time.strftime('%Y-%m-%dT%H:%M:%S')


class Manifest:
    """``manifest.json`` of a pipeline folder, written atomically after every change."""

    def __init__(self, folder: Path):
        self.path = folder / MANIFEST
        self.data = json.loads(self.path.read_text()) if self.path.is_file() else dict(stages={})

    def save(self) -> None:
        tmp = self.path.with_name(f'.{MANIFEST}.tmp')
        tmp.write_text(json.dumps(self.data, indent=2) + '\n')
        tmp.replace(self.path)

    def stage(self, name: str) -> dict:
        return self.data['stages'].get(name, {})

    def set_stage(self, name: str, **entry) -> None:
        self.data['stages'][name] = dict(self.stage(name), **entry)
        self.save()


def read_spec(config: str) -> dict:
    """The ``ddb_pipeline`` dict of a pipeline config, checked, with the stage config paths resolved."""
    cfg = Config.fromfile(config)
    spec = cfg.get(PIPELINE_KEY)
    if spec is None:
        raise PipelineError(f'{config}: no {PIPELINE_KEY} = dict(rounds=[...]) in this config; it is not a DDB '
                            'pipeline config')
    rounds = spec.get('rounds')
    if not rounds or not all(isinstance(r, dict) and set(r) == set(ROUND_KEYS) for r in rounds):
        raise PipelineError(f'{config}: {PIPELINE_KEY}.rounds must be a non-empty list of dict(st_cu=..., st_ca=..., '
                            f'ckd=...) (stage config paths relative to the pipeline config); got {rounds!r}')
    epochs = spec.get('prototype_epochs', compute_prototypes.DEFAULT_EPOCHS)
    if not isinstance(epochs, int) or epochs < 1:
        raise PipelineError(f'{config}: {PIPELINE_KEY}.prototype_epochs={epochs!r}; expected a positive integer')
    folder = Path(config).resolve().parent
    resolved = []
    for index, stages in enumerate(rounds, 1):
        paths = {key: (folder / value).resolve() for key, value in stages.items()}
        missing = [f'{key}={stages[key]!r}' for key, path in paths.items() if not path.is_file()]
        if missing:
            raise PipelineError(f'{config}: round {index}: no such stage config: {", ".join(missing)}')
        resolved.append(paths)
    return dict(rounds=resolved, prototype_epochs=epochs, name=cfg.get('name', Path(config).stem))


def parallel_st_runs(gpus: int, device_count: Optional[int] = None) -> bool:
    """Whether the two ST runs of a round can train at once: at least ``2 * gpus`` CUDA devices."""
    device_count = torch.cuda.device_count() if device_count is None else device_count
    return device_count >= 2 * gpus


def stop_loader_workers(runner) -> None:
    """Stop the data-loader worker processes of a finished in-process run now: left to the garbage collector, each
    persistent loader waits seconds for its workers."""
    loops = [getattr(runner, '_train_loop', None), getattr(runner, '_val_loop', None)]
    loaders = [getattr(loop, 'dataloader', None) for loop in loops if not isinstance(loop, (dict, type(None)))]
    iterators = [getattr(getattr(loops[0], 'dataloader_iterator', None), '_iterator', None)]
    iterators += [getattr(loader, '_iterator', None) for loader in loaders]
    for iterator in iterators:
        if hasattr(iterator, '_shutdown_workers'):
            iterator._shutdown_workers()


class Pipeline:
    """One pipeline folder: the stages of :func:`read_spec` with the command-line options."""

    def __init__(self, config: str, work_dir: Optional[str] = None, iters: Optional[int] = None,
                 cfg_options: Sequence[str] = (), gpus: int = 1, amp: Optional[str] = None,
                 rounds: Optional[int] = None):
        self.config = config
        self.spec = read_spec(config)
        self.folder = (Path(work_dir) if work_dir else DEFAULT_ROOT / Path(config).stem).resolve()
        self.options = dict(iters=iters, cfg_options=list(cfg_options), gpus=gpus, amp=amp)
        available = len(self.spec['rounds'])
        if rounds is not None and not 1 <= rounds <= available:
            raise PipelineError(f'--rounds {rounds}: {config} has {available} round(s)')
        self.rounds = rounds or available

    # ---- stages -------------------------------------------------------------------------------------------
    def run(self) -> dict:
        """Run (or skip, or resume) every stage of the first ``rounds`` rounds; returns the manifest."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with RunDirectoryLock(self.folder):
            self.manifest = Manifest(self.folder)
            self._check_options()
            distilled = None
            for index in range(1, self.rounds + 1):
                stages = self.spec['rounds'][index - 1]
                handover = {} if distilled is None else {'uda.distilled_model_path': distilled}
                st = self._train_stages({f'r{index}_st_{path}': (stages[f'st_{path}'], handover) for path in PATHS})
                prototypes = {path: self._prototype_stage(f'r{index}_proto_{path}', f'r{index}_st_{path}')
                              for path in PATHS}
                ckd_handover = {}
                for path in PATHS:
                    ckd_handover[f'uda.{path}_model_load_from'] = st[f'r{index}_st_{path}']
                    ckd_handover[f'uda.{path}_proto_path'] = prototypes[path]
                distilled = self._train_stages({f'r{index}_ckd': (stages['ckd'], ckd_handover)})[f'r{index}_ckd']
            self.manifest.data['final_checkpoint'] = distilled
            self.manifest.save()
        self._print_summary()
        return self.manifest.data

    def _check_options(self) -> None:
        recorded = self.manifest.data.get('options')
        if recorded is not None and recorded != self.options:
            raise PipelineError(f'{self.folder} was started with other options {recorded}; this command has '
                                f'{self.options}. Rerun with the same options, or use another --work-dir')
        self.manifest.data.update(pipeline_config=str(self.config), options=self.options,
                                  git_rev=run_experiments.git_revision())
        self.manifest.save()

    def _consumed(self, handover: Dict[str, str]) -> Dict[str, dict]:
        """The files a stage consumes: per config key the producer's record (path, size, SHA-256)."""
        return {key: self._record_of(path) for key, path in handover.items()}

    def _record_of(self, path: str) -> dict:
        for entry in self.manifest.data['stages'].values():
            if entry.get('output', {}).get('path') == path:
                return entry['output']
        raise PipelineError(f'{path} is not the output of a finished stage of {self.folder}')

    def _finished(self, name: str, consumed: Dict[str, dict]) -> bool:
        """Whether stage ``name`` finished with these inputs and its output is still there."""
        entry = self.manifest.stage(name)
        if entry.get('status') != DONE:
            return False
        if entry.get('consumed') != consumed:
            raise PipelineError(f'stage {name} of {self.folder} finished with other inputs ({entry.get("consumed")}) '
                                f'than an earlier stage now gives ({consumed}); an earlier stage was redone. Remove '
                                f'{self.folder / name} and its entry in {self.manifest.path}, or use another '
                                '--work-dir')
        output = Path(entry['output']['path'])
        if not output.is_file() or output.stat().st_size != entry['output']['size']:
            raise PipelineError(f'stage {name} is recorded as finished, but its output {output} is missing or changed; '
                                f'remove its entry in {self.manifest.path} to redo it')
        return True

    def _train_stages(self, stages: Dict[str, tuple]) -> Dict[str, str]:
        """Train (or skip, or resume) the stages ``name -> (stage config, hand-over keys)``, at once when
        :func:`parallel_st_runs` allows; returns each stage's final checkpoint."""
        pending = {}
        for name, (stage_config, handover) in stages.items():
            consumed = self._consumed(handover)
            if self._finished(name, consumed):
                print(f'[ddb] {name}: finished, skipped ({self.manifest.stage(name)["output"]["path"]})')
                continue
            config = self._stage_config(name, stage_config, handover)
            self.manifest.set_stage(name, kind='train', status=RUNNING, stage_config=str(stage_config),
                                    config=str(config), run_dir=str(self.folder / name), consumed=consumed,
                                    started=self.manifest.stage(name).get('started', now()))
            pending[name] = config
        if len(pending) > 1 and parallel_st_runs(self.options['gpus']):
            self._train_parallel(pending)
            for name, config in pending.items():
                self._finish_training(name, config)
        else:
            for name, config in pending.items():
                self._train(name, config)
                self._finish_training(name, config)
        return {name: self.manifest.stage(name)['output']['path'] for name in stages}

    def _finish_training(self, name: str, config: Path) -> None:
        """Record the final checkpoint of a trained stage."""
        checkpoint = self.folder / name / f'iter_{Config.fromfile(str(config)).train_cfg.max_iters}.pth'
        if not checkpoint.is_file():
            raise PipelineError(f'stage {name} ended without its final checkpoint {checkpoint}')
        self.manifest.set_stage(name, status=DONE, output=file_record(checkpoint), finished=now())

    def _stage_config(self, name: str, stage_config: Path, handover: Dict[str, str]) -> Path:
        """``configs/<name>.py`` of the folder: the stage config, the command-line overrides and the hand-over keys
        (written once; a resumed stage keeps it)."""
        out = self.folder / 'configs' / f'{name}.py'
        if out.is_file():
            return out
        cfg = Config.fromfile(str(stage_config))
        options = self.options
        try:
            entries = run_experiments.run_overrides(cfg, options['iters'], options['cfg_options'], options['amp'])
        except ValueError as error:
            raise PipelineError(f'{name}: {error}') from error
        uda = dict(entries.get('uda', {}))
        for key, path in handover.items():
            uda[key.split('.', 1)[1]] = path
        if uda:
            entries['uda'] = uda
        entries.update(name=name, work_dir=str(self.folder / name), git_rev=run_experiments.git_revision())
        header = f'# Stage {name} of the DDB pipeline {self.config}, options {json.dumps(options)}'
        base = os.path.relpath(stage_config, out.parent.resolve())
        run_experiments.write_config(out, header, [base], entries)
        return out

    def _train_arguments(self, name: str, config: Path) -> List[str]:
        """tools/train.py arguments of a stage: resume from its run directory's latest checkpoint if it has one."""
        run_dir = self.folder / name
        resume = run_dir.is_dir() and any(run_dir.glob('iter_*.pth'))
        print(f'[ddb] {name}: {"resuming" if resume else "training"} {config}')
        return ['--resume'] if resume else []

    def _train(self, name: str, config: Path) -> None:
        options = self._train_arguments(name, config) + (['--amp', self.options['amp']] if self.options['amp'] else [])
        if self.options['gpus'] == 1:
            stop_loader_workers(train.main([str(config)] + options))
        else:
            run_experiments.train_run(config, options, self.options['gpus'])

    def _train_parallel(self, pending: Dict[str, Path]) -> None:
        """The stages at once, each on its own ``gpus`` CUDA devices (``CUDA_VISIBLE_DEVICES``)."""
        gpus = self.options['gpus']
        processes = {}
        for slot, (name, config) in enumerate(pending.items()):
            options = self._train_arguments(name, config) + (['--amp', self.options['amp']] if self.options['amp']
                                                             else [])
            devices = ','.join(str(slot * gpus + i) for i in range(gpus))
            log = open(self.folder / f'{name}.log', 'a')
            print(f'[ddb] {name}: on CUDA devices {devices}, output in {log.name}')
            processes[name] = (subprocess.Popen(run_experiments.train_command(config, options, gpus), cwd=REPO_ROOT,
                                                env=dict(os.environ, CUDA_VISIBLE_DEVICES=devices), stdout=log,
                                                stderr=subprocess.STDOUT), log)
        failed = []
        for name, (process, log) in processes.items():
            if process.wait() != 0:
                failed.append(f'{name} (exit {process.returncode}, see {log.name})')
            log.close()
        if failed:
            raise PipelineError('stages failed: ' + ', '.join(failed))

    def _prototype_stage(self, name: str, st_stage: str) -> str:
        """The prototypes of an ST stage's student (or the recorded ones); returns their path."""
        st = self.manifest.stage(st_stage)
        consumed = self._consumed({'checkpoint': st['output']['path']})
        if self._finished(name, consumed):
            print(f'[ddb] {name}: finished, skipped ({self.manifest.stage(name)["output"]["path"]})')
            return self.manifest.stage(name)['output']['path']
        out = self.folder / 'prototypes' / f'{st_stage}.pth'
        self.manifest.set_stage(name, kind='prototypes', status=RUNNING, config=st['config'], consumed=consumed,
                                started=now())
        print(f'[ddb] {name}: prototypes of {st["output"]["path"]}')
        compute_prototypes.main([st['config'], st['output']['path'], '--out', str(out), '--epochs',
                                 str(self.spec['prototype_epochs'])])
        self.manifest.set_stage(name, status=DONE, output=file_record(out), finished=now())
        return str(out)

    def _print_summary(self) -> None:
        print(f'[ddb] pipeline {self.config} in {self.folder} (manifest {self.manifest.path}):')
        for name, entry in self.manifest.data['stages'].items():
            print(f'  {name:12s} {entry["status"]:8s} {entry.get("output", {}).get("path", "")}')
        last = [name for name, entry in self.manifest.data['stages'].items() if entry.get('kind') == 'train']
        print(f'[ddb] evaluate a stage with: sh test.sh {self.folder / last[-1]}')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='DDB pipeline config (configs/ddb/*_ddb.py)')
    parser.add_argument('--work-dir', help='pipeline folder (default: work_dirs/ddb/<config name>)')
    parser.add_argument('--iters', type=int, help='iterations of every training stage (the schedules follow)')
    parser.add_argument('--rounds', type=int, help='run the first R rounds only')
    parser.add_argument('--gpus', type=int, default=1, help='processes per training stage (torchrun when > 1)')
    parser.add_argument('--amp', nargs='?', const='auto', default=None, help='mixed-precision training')
    parser.add_argument('--cfg-options', nargs='+', default=[], help='overrides key=value of every training stage')
    args = parser.parse_args(argv)
    if args.iters is not None and args.iters < 1:
        parser.error(f'--iters {args.iters}: expected at least 1')
    if args.gpus < 1:
        parser.error(f'--gpus {args.gpus}: expected at least 1')
    return args


def run(config: str, work_dir: Optional[str] = None, iters: Optional[int] = None, cfg_options: Sequence[str] = (),
        gpus: int = 1, amp: Optional[str] = None, rounds: Optional[int] = None) -> dict:
    """Run the pipeline of ``config``; errors of the pipeline or a busy folder exit with their message."""
    try:
        return Pipeline(config, work_dir, iters, cfg_options, gpus, amp, rounds).run()
    except (PipelineError, RunDirectoryBusyError) as error:
        raise SystemExit(f'error: {error}') from error


def main(argv: Optional[List[str]] = None) -> dict:
    args = parse_args(argv)
    return run(args.config, args.work_dir, args.iters, args.cfg_options, args.gpus, args.amp, args.rounds)


if __name__ == '__main__':
    main()
