"""The torch / mmengine fixes of mmseg.engine.compat."""
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

REPO_ROOT = Path(__file__).resolve().parents[1]

WRITE_AND_LOAD = '''
import sys, numpy as np, torch
from mmengine.logging import MessageHub
from mmengine.runner.checkpoint import save_checkpoint, _load_checkpoint
if sys.argv[2] == 'with-compat':
    import mmseg.engine
hub = MessageHub.get_instance('compat-test')
hub.update_scalar('train/loss', 1.5)
hub.update_info('iter', 7)
save_checkpoint(dict(meta=dict(iter=7, seed=np.int64(3)), message_hub=hub.state_dict(),
                     state_dict=dict(w=torch.ones(2))), sys.argv[1])
ckpt = _load_checkpoint(sys.argv[1], map_location='cpu')
assert ckpt['message_hub']['log_scalars']['train/loss'].current() == 1.5
print('loaded')
'''


def _run(tmp_path, mode):
    return subprocess.run([sys.executable, '-c', WRITE_AND_LOAD, str(tmp_path / 'ckpt.pth'), mode],
                          capture_output=True, text=True, cwd=REPO_ROOT)


def test_mmengine_checkpoints_load_with_weights_only(tmp_path):
    without = _run(tmp_path, 'without-compat')
    assert without.returncode != 0 and 'weights_only' in without.stderr, 'the torch/mmengine breakage is gone?'
    with_compat = _run(tmp_path, 'with-compat')
    assert with_compat.returncode == 0, with_compat.stderr
    assert 'loaded' in with_compat.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _ddp_worker(rank: int, world_size: int, port: int, results):
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size), MASTER_ADDR='127.0.0.1',
                      MASTER_PORT=str(port))
    from mmengine.registry import MODEL_WRAPPERS
    from mmengine.model import BaseModel

    from mmseg.engine import ddp_wrapper_cfg, init_distributed

    class Linear(BaseModel):

        def __init__(self):
            super().__init__()
            self.fc = torch.nn.Linear(2, 1, bias=False)
            torch.nn.init.ones_(self.fc.weight)

        def forward(self, inputs, data_samples=None, mode='loss'):
            return dict(loss=self.fc(inputs).sum())

    init_distributed()
    model = MODEL_WRAPPERS.build(ddp_wrapper_cfg(), default_args=dict(module=Linear()))
    inputs = torch.full((1, 2), float(rank + 1))  # rank 0 sees 1, rank 1 sees 2
    model(inputs)['loss'].backward()
    results[rank] = model.module.fc.weight.grad.clone()
    torch.distributed.destroy_process_group()


def test_two_process_ddp_on_cpu_averages_gradients():
    manager = mp.Manager()
    results = manager.dict()
    mp.spawn(_ddp_worker, args=(2, _free_port(), results), nprocs=2, join=True)
    expected = torch.full((1, 2), 1.5)  # mean of the per-rank gradients 1 and 2
    torch.testing.assert_close(results[0], expected)
    torch.testing.assert_close(results[1], expected)


def test_runner_checkpoints_are_written_atomically(tmp_path, monkeypatch):
    import mmengine.runner.runner as mmengine_runner

    import mmseg.engine  # noqa: F401  (applies the fixes)
    from mmseg.engine.checkpoint_io import save_checkpoint_atomically
    assert mmengine_runner.save_checkpoint is save_checkpoint_atomically
    target = tmp_path / 'iter_2.pth'
    save_checkpoint_atomically(dict(state_dict=dict(w=torch.ones(2))), str(target))
    assert torch.equal(torch.load(target, weights_only=True)['state_dict']['w'], torch.ones(2))
    umask = os.umask(0o022)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # the mode of a plain open(), not mkstemp's 0600

    def interrupted_save(obj, f, *args, **kwargs):
        f.write(b'partial')
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, 'save', interrupted_save)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint_atomically(dict(state_dict=dict(w=torch.zeros(2))), str(target))
    assert sorted(p.name for p in tmp_path.iterdir()) == ['iter_2.pth']  # no partial or temporary file
    monkeypatch.undo()
    assert torch.equal(torch.load(target, weights_only=True)['state_dict']['w'], torch.ones(2))
