"""mmengine's Runner with a start-up log a user reads: versions, device, processes, seed and where the run
directory and its full config are, and the hooks in one line, instead of the environment dump, the whole config
and the hooks per stage (the environment goes to ``<log dir>/environment.txt``, the config as trained to
``<work_dir>/<config name>``)."""
import os.path as osp
import platform

import mmengine
import torch
from mmengine.runner import Runner
from mmengine.utils.dl_utils import collect_env

import mmseg


class SegRunner(Runner):
    """:class:`mmengine.runner.Runner` with the short start-up log described in the module docstring."""

    def _log_env(self, env_cfg: dict) -> None:
        env = collect_env()
        with open(osp.join(self.log_dir, 'environment.txt'), 'w') as file:
            file.write(''.join(f'{key}: {value}\n' for key, value in env.items()))
            file.write(''.join(f'{key}: {value}\n' for key, value in env_cfg.items()))
        if torch.cuda.is_available():
            device = f'cuda ({torch.cuda.get_device_name(0)})'
        else:
            device = 'cpu'
        config = osp.join(self.work_dir, osp.basename(self.cfg.filename) if self.cfg.filename else
                          f'{self.timestamp}.py')
        self.logger.info(
            f'uda-seg {mmseg.__version__}, PyTorch {torch.__version__}, mmengine {mmengine.__version__}, '
            f'Python {platform.python_version()}; device {device}, {self._world_size} process(es) (launcher '
            f'{self._launcher}), seed {self._seed}\n'
            f'run directory: {self.work_dir}\nconfig as trained: {config}\n'
            f'environment: {osp.join(self.log_dir, "environment.txt")}')

    def get_hooks_info(self) -> str:
        """The hooks in execution order with their priorities, on one line."""
        return ', '.join(f'{type(hook).__name__} ({hook.priority})' for hook in self.hooks)
