"""Data-parallel ST and CKD on CPU (gloo): two processes with half the batch each step with the gradients of one
process with the whole batch (the confident share q of ST and of CKD's use_pl_weight counted over both)."""
import copy
import os

import torch
import torch.multiprocessing as mp

import mmseg.engine  # noqa: F401  (registers the wrapper)
from tests.ddb_helpers import GN, bridging_batch, ckd_config, part, seed_all, tiny_model
from tests.test_compat import _free_port
from tests.test_ddp import RecordingOptimWrapper

STEPS = 2
# BatchNorm-free and without dropout: nothing but q couples the samples of a batch
MODEL = tiny_model(norm_cfg=GN, dropout_ratio=0.0)


def _train(rank: int, world_size: int, cfg: dict):
    """STEPS steps on this process's share of batches of 2: (gradients per step, parameters)."""
    from mmseg.registry import MODELS
    torch.set_num_threads(1)
    seed_all(rank)  # different initialisations: DDP broadcasts rank 0's
    model = MODELS.build(copy.deepcopy(cfg)).train()
    if world_size > 1:
        from mmseg.engine import ddp_wrapper_cfg
        from mmseg.registry import MODEL_WRAPPERS
        model = MODEL_WRAPPERS.build(ddp_wrapper_cfg(wrapper_type='UDADistributedDataParallel'),
                                     default_args=dict(module=model))
    module = model.module if world_size > 1 else model
    optim = RecordingOptimWrapper([p for p in module.parameters() if p.requires_grad])
    share = slice(rank, rank + 1) if world_size > 1 else slice(0, 2)
    for step in range(STEPS):
        model.train_step(part(bridging_batch(step), share), optim)
    return optim.recorded, {name: p.detach().clone() for name, p in module.named_parameters()}


def _worker(rank: int, world_size: int, port: int, cfgs: dict, results):
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(world_size), MASTER_ADDR='127.0.0.1',
                      MASTER_PORT=str(port))
    from mmseg.engine import init_distributed
    init_distributed()
    results[rank] = {name: _train(rank, world_size, cfg) for name, cfg in cfgs.items()}
    torch.distributed.destroy_process_group()


def test_two_processes_give_the_gradients_of_one_process_with_the_whole_batch(tmp_path):
    # thresholds near the median confidence of the untrained teachers: each image has its own share q
    cfgs = dict(ST=dict(type='ST', model=MODEL, max_iters=10, pseudo_threshold=0.054),
                CKD=ckd_config(tmp_path, MODEL, use_pl_weight=True, pseudo_threshold=0.006))
    results = mp.Manager().dict()
    mp.spawn(_worker, args=(2, _free_port(), cfgs, results), nprocs=2, join=True)
    for name, cfg in cfgs.items():
        single_grads, single_params = _train(0, 1, cfg)
        (grads0, params0), (grads1, params1) = results[0][name], results[1][name]
        assert len(grads0) == len(single_grads) == STEPS
        for step in range(STEPS):
            for g0, g1, g in zip(grads0[step], grads1[step], single_grads[step]):
                assert torch.equal(g0, g1), name
                torch.testing.assert_close(g0, g, rtol=1e-4, atol=1e-6, msg=name)
        assert params0.keys() == single_params.keys()
        for key in params0:  # students (and ST's teacher): the same on both ranks and as one process (up to
            # float rounding of near-zero gradients, which Adam's normalisation scales up to ~lr)
            assert torch.equal(params0[key], params1[key]), f'{name}: {key}'
            torch.testing.assert_close(params0[key], single_params[key], rtol=1e-4, atol=5e-5, msg=f'{name}: {key}')
