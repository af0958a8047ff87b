"""Engine pieces around mmengine: compatibility fixes, optimiser constructor, lr schedule."""
from .compat import apply_compat, ddp_wrapper_cfg, init_distributed
from .invalid_loss_hook import InvalidLossHook
from .optimizers import ReferenceOptimWrapperConstructor
from .schedulers import PolyLRWithWarmup
from .training_state_hook import TrainingStateHook

apply_compat()

__all__ = ['apply_compat', 'ddp_wrapper_cfg', 'init_distributed', 'InvalidLossHook', 'PolyLRWithWarmup',
           'ReferenceOptimWrapperConstructor', 'TrainingStateHook']
