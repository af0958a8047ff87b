"""One process of a torchrun training in tests/test_ddp.py: tools/train.py, then this rank's final weights.

    torchrun --nproc_per_node N tests/ddp_train_worker.py OUT_DIR tools/train.py-arguments...

writes ``OUT_DIR/rank<r>.pth`` with the UDA wrapper's parameters (student, teacher) after training.
"""
import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import torch  # noqa: E402

from tools import train  # noqa: E402


def main() -> None:
    out_dir = Path(sys.argv[1])
    runner = train.main(sys.argv[2:])
    model = runner.model.module if hasattr(runner.model, 'module') else runner.model
    out_dir.mkdir(parents=True, exist_ok=True)
    params = {name: p.detach().clone() for name, p in model.named_parameters()}
    torch.save(params, out_dir / f'rank{os.environ["RANK"]}.pth')


if __name__ == '__main__':
    main()
