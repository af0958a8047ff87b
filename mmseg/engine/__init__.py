"""Engine pieces around mmengine: compatibility fixes, checkpoints, run lock, optimiser constructor, lr schedule."""
from .adversarial_optim_wrapper_constructor import AdversarialOptimWrapperConstructor
from .checkpoint_hook import CheckpointHook, find_resumable_checkpoint
from .compat import apply_compat, ddp_wrapper_cfg, init_distributed
from .deferred_runtime_info_hook import DeferredRuntimeInfoHook
from .grouped_tensorboard_backend import GroupedTensorboardVisBackend
from .invalid_loss_hook import InvalidLossHook
from .mixed_precision_optim_wrapper import MixedPrecisionOptimWrapper
from .optimizers import ReferenceOptimWrapperConstructor
from .schedule_length_hook import ScheduleLengthHook
from .schedulers import PolyLRWithWarmup
from .training_state_hook import TrainingStateHook
from .uda_distributed_data_parallel import UDADistributedDataParallel

apply_compat()

__all__ = ['AdversarialOptimWrapperConstructor',
           'apply_compat', 'CheckpointHook', 'ddp_wrapper_cfg', 'DeferredRuntimeInfoHook', 'find_resumable_checkpoint',
           'GroupedTensorboardVisBackend',
           'init_distributed', 'InvalidLossHook', 'MixedPrecisionOptimWrapper', 'PolyLRWithWarmup',
           'ReferenceOptimWrapperConstructor', 'ScheduleLengthHook', 'TrainingStateHook', 'UDADistributedDataParallel']
