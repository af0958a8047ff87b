"""Checkpoints: no code runs from a crafted file, a kill at any moment leaves a complete checkpoint and an exact
resume, no non-finite tensor is saved, older checkpoints still load."""
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional, Tuple

import numpy as np
import pytest
import torch
import torch._dynamo  # noqa: F401  (imported once in the fork server: the optimisers would import it per run)
from mmengine.config import Config
from mmengine.logging import HistoryBuffer, MessageHub, MMLogger
from torch._tensor import _rebuild_from_type_v2

import mmseg.engine  # noqa: F401  (the fixes)
from mmseg.engine.checkpoint_hook import find_resumable_checkpoint
from mmseg.utils.safe_checkpoint_load import UnsafeCheckpointError, load_checkpoint_file
from tests.test_train_runner import experiment_config

REPO_ROOT = Path(__file__).resolve().parents[1]
GOLDEN_CHECKPOINT = Path(os.environ.get('UDA_GOLDEN_DIR', REPO_ROOT.parent / 'shared' / 'golden')) / \
    'dacs_checkpoint_mitb0.pt'


class Call:
    """Pickles as ``fn(*args)``: one REDUCE of the unpickler."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def _attr(obj, name):
    return Call(getattr, obj, name)


def write_getattr_chain_checkpoint(path: Path, marker: Path) -> None:
    """A checkpoint whose ``meta`` is ``os.mkdir(marker)``, reached from ``builtins.getattr`` and torch's
    allow-listed ``_rebuild_from_type_v2`` (which calls any function it is given)."""
    builtins_module = _attr(getattr, '__self__')
    module_type = _attr(builtins_module, '__class__')
    os_module = Call(_rebuild_from_type_v2, _attr(builtins_module, '__import__'), module_type, ('os', ), {})
    payload = Call(_rebuild_from_type_v2, _attr(os_module, 'mkdir'), _attr(None, '__class__'), (str(marker), ), {})
    torch.save(dict(state_dict=dict(w=torch.ones(1)), meta=payload), path)


def tiny_run_config(root: Path, max_iters: int, interval: int, max_keep: int = 1) -> Path:
    """The tiny DACS run of test_train_runner with exact resume (TrainingStateHook, a loader worker), dumped."""
    cfg = experiment_config(root / 'data', max_iters=max_iters)
    cfg.train_dataloader.num_workers = 1
    cfg.train_cfg.val_interval = 1000
    cfg.uda.debug_img_interval = 0
    cfg.default_hooks.checkpoint.update(interval=interval, max_keep_ckpts=max_keep)
    cfg.custom_hooks = [dict(type='TrainingStateHook'), dict(type='InvalidLossHook', interval=50)]
    path = root / 'tiny.py'
    cfg.dump(str(path))
    return path


@pytest.fixture
def evil_checkpoint(tmp_path):
    marker = tmp_path / 'PAYLOAD_RAN'
    path = tmp_path / 'evil.pth'
    write_getattr_chain_checkpoint(path, marker)
    return path, marker


def test_the_getattr_chain_payload_is_live_without_weights_only(evil_checkpoint):
    path, marker = evil_checkpoint
    torch.load(path, weights_only=False)  # the control: an unsafe load runs it
    assert marker.is_dir()


def test_importing_the_package_does_not_widen_torchs_allow_list(evil_checkpoint):
    path, marker = evil_checkpoint
    assert getattr not in torch.serialization.get_safe_globals()
    assert HistoryBuffer not in torch.serialization.get_safe_globals()
    with pytest.raises(Exception, match='getattr'):
        torch.load(path, weights_only=True)
    with pytest.raises(UnsafeCheckpointError, match=f'{path}: refused to load'):
        load_checkpoint_file(path)  # the scoped allow-list's getattr hands out HistoryBuffer statistics only
    assert not marker.exists()


def test_getattr_chain_checkpoint_is_refused_by_test_sh_demo_resume_and_check_pretrained(tmp_path, evil_checkpoint,
                                                                                          capsys):
    path, marker = evil_checkpoint
    config = tiny_run_config(tmp_path, max_iters=2, interval=2)
    run_dir = tmp_path / 'evil_run'
    run_dir.mkdir()
    run_cfg = Config.fromfile(str(config))
    run_cfg.merge_from_dict(dict(test_dataloader=run_cfg.val_dataloader, test_evaluator=run_cfg.val_evaluator))
    run_cfg.dump(str(run_dir / 'evil_run.py'))
    (run_dir / 'iter_2.pth').write_bytes(path.read_bytes())
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1')
    result = subprocess.run(['sh', str(REPO_ROOT / 'test.sh'), str(run_dir)], capture_output=True, text=True,
                            env=env, cwd=REPO_ROOT)
    assert result.returncode != 0 and f'{run_dir / "iter_2.pth"}: refused to load' in result.stderr, result.stderr
    assert not marker.exists()

    from mmseg.apis import init_model  # what demo/image_demo.py loads the model with
    with pytest.raises(UnsafeCheckpointError, match='refused to load'):
        init_model(str(config), str(path))
    assert not marker.exists()

    from tools import train
    with pytest.raises(UnsafeCheckpointError, match=f'{path}: refused to load'):
        train.main([str(config), '--resume', str(path), '--work-dir', str(tmp_path / 'resumed')])
    assert not marker.exists()

    from tools import check_pretrained
    assert check_pretrained.main([str(path)]) == 1
    assert f'[FAIL] {path}: refused to load' in capsys.readouterr().out
    assert not marker.exists()


def _older_run_checkpoint(path: Path) -> None:
    """A checkpoint as our runs wrote them before: the message hub pickled with its HistoryBuffers (which refer to
    their statistics methods through ``getattr``), numpy RNG state and seed."""
    hub = MessageHub.get_instance('older-run')
    for value in (1.5, 2.5):
        hub.update_scalar('train/loss', value)
    hub.update_info('iter', 2)
    torch.save(dict(meta=dict(iter=2, epoch=0, seed=np.int64(0)), message_hub=hub.state_dict(),
                    training_state=dict(rng=dict(numpy=np.random.get_state())),
                    state_dict={'model.w': torch.ones(2), 'ema_model.w': torch.zeros(2)}), path)


def test_checkpoints_of_the_original_code_and_of_our_runs_still_load(tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint

    older = tmp_path / 'older.pth'
    _older_run_checkpoint(older)
    loaded = _load_checkpoint(str(older), map_location='cpu')  # what --resume calls
    assert loaded['message_hub']['log_scalars']['train/loss'].mean() == 2.0
    assert loaded['meta']['seed'] == 0 and torch.equal(loaded['state_dict']['model.w'], torch.ones(2))

    golden = load_checkpoint_file(GOLDEN_CHECKPOINT)  # the original DAFormer code's training checkpoint
    prefixes = {key.split('.')[0] for key in golden['state_dict']}
    assert {'model', 'ema_model', 'imnet_model'} <= prefixes


def _tensors(checkpoint: dict) -> dict:
    """Every tensor of the weights (student, teacher, ImageNet model) and the optimiser state, by name."""
    tensors = {f'state_dict.{k}': v for k, v in checkpoint['state_dict'].items()}
    for index, state in checkpoint['optimizer']['state'].items():
        tensors.update({f'optimizer.{index}.{k}': v for k, v in state.items() if torch.is_tensor(v)})
    return tensors


def _install_kill(phase: str, step: int) -> None:
    """Make this process SIGKILL itself at ``phase`` of the save of iteration ``step``."""
    import mmengine.fileio.backends.local_backend as local_backend

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    real_save, real_replace, real_remove = torch.save, os.replace, local_backend.LocalBackend.remove
    pointer_written = []

    def save(obj, f, *args, **kwargs):
        if phase == 'checkpoint_write' and f'.iter_{step}.pth.' in getattr(f, 'name', ''):
            real_save(obj, f, *args, **kwargs)
            f.truncate(f.tell() // 2)  # half of the file is on disk
            f.flush()
            die()
        real_save(obj, f, *args, **kwargs)

    def replace(src, dst):
        if phase == 'checkpoint_rename' and str(dst).endswith(f'iter_{step}.pth'):
            die()
        if str(dst).endswith('last_checkpoint') and Path(src).read_text().endswith(f'iter_{step}.pth'):
            if phase == 'pointer_rename':
                die()
            pointer_written.append(step)
        real_replace(src, dst)

    def remove(self, filepath):
        if phase == 'old_checkpoint_removal' and pointer_written:
            die()
        real_remove(self, filepath)

    torch.save, os.replace, local_backend.LocalBackend.remove = save, replace, remove


def _train(argv, kill_at: Optional[Tuple[str, int]], log: Path) -> None:
    with open(log, 'ab') as output:  # the child's output, for the failure message
        os.dup2(output.fileno(), 1)
        os.dup2(output.fileno(), 2)
    torch.set_num_threads(1)
    if kill_at is not None:
        _install_kill(*kill_at)
    from tools import train
    train.main(argv)


def _run(config: Path, work_dir: Path, kill_at: Optional[Tuple[str, int]] = None,
         kill_after_s: Optional[float] = None) -> int:
    """Train (resuming when the work dir has a checkpoint) in a child process; its exit code (-9: killed).
    An exit code other than the one the kill or a clean end gives fails with the child's output.

    The children fork from a fork server that has imported this module, not from the test process: what
    earlier tests leave there (loggers writing to closed capture streams, objects whose finalisers run in the
    child) made a child fail at random in its first ``ast.parse`` (CPython 3.11's "AST constructor recursion
    depth mismatch")."""
    argv = [str(config), '--work-dir', str(work_dir), '--resume']
    log = work_dir.parent / f'{work_dir.name}.{time.monotonic_ns()}.log'
    context = multiprocessing.get_context('forkserver')
    context.set_forkserver_preload([__name__])
    process = context.Process(target=_train, args=(argv, kill_at, log))
    process.start()
    process.join(kill_after_s)
    if process.is_alive():
        os.kill(process.pid, signal.SIGKILL)
        process.join()
    if process.exitcode not in (0, -signal.SIGKILL):
        pytest.fail(f'training in {work_dir} (kill at {kill_at}) exited with {process.exitcode}:\n'
                    f'{log.read_text(errors="replace")[-6000:]}')
    return process.exitcode


def _complete_checkpoint(work_dir: Path) -> dict:
    path = find_resumable_checkpoint(str(work_dir))
    assert path is not None, f'no checkpoint in {sorted(p.name for p in work_dir.iterdir())}'
    return torch.load(path, map_location='cpu', weights_only=True)  # plain data: torch's own allow-list


def _partial_files(work_dir: Path) -> list:
    return sorted(p.name for p in work_dir.iterdir() if p.name.endswith('.partial'))


def test_sigkill_at_any_moment_leaves_a_complete_checkpoint_and_the_resumed_run_ends_bit_exact(tmp_path):
    """A checkpoint after every iteration, one kept: kills inside each phase of a save (file half written, file
    written but not renamed, renamed but ``last_checkpoint`` not, before the older file is removed), and at a
    random moment; each time a complete checkpoint remains, and the run resumed to the end equals one that never
    stopped."""
    config = tiny_run_config(tmp_path, max_iters=4, interval=1, max_keep=1)
    assert _run(config, tmp_path / 'straight') == 0
    run = tmp_path / 'killed'

    assert _run(config, run, kill_at=('checkpoint_write', 2)) == -signal.SIGKILL
    assert _complete_checkpoint(run)['meta']['iter'] == 1
    stale = _partial_files(run)
    assert len(stale) == 1 and stale[0].startswith('.iter_2.pth.')

    assert _run(config, run, kill_at=('checkpoint_rename', 2)) == -signal.SIGKILL
    assert _complete_checkpoint(run)['meta']['iter'] == 1
    left = _partial_files(run)
    assert len(left) == 1 and left[0].startswith('.iter_2.pth.') and left != stale  # the stale one was removed

    assert _run(config, run, kill_at=('pointer_rename', 2)) == -signal.SIGKILL
    assert _complete_checkpoint(run)['meta']['iter'] == 1  # last_checkpoint still names iter_1
    assert (run / 'iter_2.pth').is_file() and _partial_files(run)[0].startswith('.last_checkpoint.')

    assert _run(config, run, kill_at=('old_checkpoint_removal', 3)) == -signal.SIGKILL
    assert _complete_checkpoint(run)['meta']['iter'] == 3
    assert {p.name for p in run.glob('iter_*.pth')} == {'iter_2.pth', 'iter_3.pth'} and not _partial_files(run)

    _run(config, run, kill_after_s=float(np.random.default_rng().uniform(1.0, 4.0)))  # wherever it lands
    assert _complete_checkpoint(run)['meta']['iter'] in (3, 4)

    assert _run(config, run) == 0
    assert {p.name for p in run.glob('iter_*.pth')} == {'iter_4.pth'} and not _partial_files(run)
    straight = _tensors(torch.load(tmp_path / 'straight' / 'iter_4.pth', weights_only=True))
    resumed = _tensors(torch.load(run / 'iter_4.pth', weights_only=True))
    assert straight.keys() == resumed.keys()
    assert any(k.startswith('state_dict.ema_model.') for k in straight) and any('exp_avg' in k for k in straight)
    differing = [k for k in straight if not torch.equal(straight[k], resumed[k])]
    assert not differing, f'{len(differing)} tensors differ after the kills, e.g. {differing[:3]}'


def test_resume_falls_back_to_the_newest_readable_checkpoint(tmp_path, capsys):
    MMLogger.get_instance(f'fallback-{tmp_path.name}')  # the current logger, writing to the captured stdout
    run = tmp_path / 'run'
    run.mkdir()
    for step in (2, 4):
        torch.save(dict(meta=dict(iter=step)), run / f'iter_{step}.pth')
    (run / 'iter_6.pth').write_bytes((run / 'iter_4.pth').read_bytes()[:100])  # truncated
    (run / 'last_checkpoint').write_text(str(run / 'iter_6.pth'))
    assert find_resumable_checkpoint(str(run)) == str(run / 'iter_4.pth')
    assert f'Cannot resume from {run / "iter_6.pth"}: truncated or corrupt checkpoint' in capsys.readouterr().out

    (run / 'last_checkpoint').write_text('')
    assert find_resumable_checkpoint(str(run)) == str(run / 'iter_4.pth')
    assert f'{run / "last_checkpoint"} is empty' in capsys.readouterr().out

    (run / 'iter_6.pth').unlink()
    (run / 'last_checkpoint').write_text(str(tmp_path / 'moved' / 'iter_8.pth'))
    assert find_resumable_checkpoint(str(run)) == str(run / 'iter_4.pth')
    assert 'iter_8.pth, which does not exist' in capsys.readouterr().out

    for step in (2, 4):
        (run / f'iter_{step}.pth').write_bytes(b'')
    with pytest.raises(RuntimeError, match='no readable checkpoint to resume from'):
        find_resumable_checkpoint(str(run))


def test_a_diverging_learning_rate_stops_the_run_and_no_checkpoint_holds_a_non_finite_tensor(tmp_path):
    """The guard reads the flags every 50 iterations and on every saving iteration: a checkpoint interval of 1
    (which 50 does not divide) still gets no checkpoint after the non-finite loss."""
    from mmengine.runner import Runner

    from mmseg.apis.train_config import runner_config
    cfg = experiment_config(tmp_path, max_iters=12)
    cfg.optim_wrapper.optimizer.lr = 1e30
    cfg.default_hooks.checkpoint.update(interval=1, max_keep_ckpts=-1)
    cfg.custom_hooks = [dict(type='InvalidLossHook', interval=50)]
    runner = Runner.from_cfg(runner_config(cfg))
    with pytest.raises(RuntimeError, match=r'Non-finite loss in iteration (\d+): [\w.]+loss[\w.]*=(nan|inf)') as error:
        runner.train()
    failed = int(error.value.args[0].split('iteration ')[1].split(':')[0])
    written = sorted(int(p.stem.split('_')[1]) for p in (tmp_path / 'run').glob('iter_*.pth'))
    assert written == list(range(1, failed))
    assert f'The last checkpoint written is {tmp_path / "run" / f"iter_{failed - 1}.pth"}' in str(error.value)
    for step in written:
        checkpoint = torch.load(tmp_path / 'run' / f'iter_{step}.pth', weights_only=True)
        bad = [k for k, v in _tensors(checkpoint).items() if v.is_floating_point() and not torch.isfinite(v).all()]
        assert not bad, f'iter_{step}.pth holds non-finite tensors {bad[:3]}'


def test_the_guard_refuses_to_save_non_finite_weights_even_after_a_finite_loss(tmp_path):
    from mmengine.runner import Runner

    from mmseg.apis.train_config import runner_config
    cfg = experiment_config(tmp_path, max_iters=3)
    cfg.default_hooks.checkpoint.update(interval=1)
    cfg.custom_hooks = [dict(type='InvalidLossHook', interval=50)]
    runner = Runner.from_cfg(runner_config(cfg))
    original = runner.model.train_step

    def step_then_poison(*args, **kwargs):
        logs = original(*args, **kwargs)
        if runner.model.local_iter == 2:
            with torch.no_grad():
                runner.model.get_ema_model().decode_head.conv_seg.weight[0, 0] = float('inf')
        return logs

    runner.model.train_step = step_then_poison
    with pytest.raises(RuntimeError, match=r'Non-finite values in 1 tensor\(s\) of the checkpoint of iteration 2 '
                                           r'\(e\.g\. state_dict\.ema_model\.decode_head\.conv_seg\.weight\)'):
        runner.train()
    assert (tmp_path / 'run' / 'iter_1.pth').is_file() and not (tmp_path / 'run' / 'iter_2.pth').exists()


def test_urls_are_downloaded_then_read_with_weights_only(tmp_path, monkeypatch, evil_checkpoint):
    import functools
    import http.server
    import threading

    from mmengine.runner.checkpoint import _load_checkpoint
    path, marker = evil_checkpoint
    torch.save(dict(state_dict=dict(w=torch.ones(3))), tmp_path / 'good.pth')
    monkeypatch.setattr(torch.hub, '_hub_dir', str(tmp_path / 'hub'))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f'http://127.0.0.1:{server.server_address[1]}'
    try:
        assert torch.equal(_load_checkpoint(f'{url}/good.pth')['state_dict']['w'], torch.ones(3))
        assert (tmp_path / 'hub' / 'checkpoints' / 'good.pth').is_file()
        with pytest.raises(UnsafeCheckpointError, match=rf'{url}/evil.pth .*: refused to load'):
            _load_checkpoint(f'{url}/evil.pth')
    finally:
        server.shutdown()
    assert not marker.exists()
