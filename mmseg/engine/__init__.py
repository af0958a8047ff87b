"""Engine pieces around mmengine: compatibility fixes, optimiser constructor, lr schedule."""
from .compat import apply_compat, ddp_wrapper_cfg, init_distributed
from .optimizers import ReferenceOptimWrapperConstructor
from .schedulers import PolyLRWithWarmup
from .training_state_hook import TrainingStateHook

apply_compat()

__all__ = ['apply_compat', 'ddp_wrapper_cfg', 'init_distributed', 'PolyLRWithWarmup',
           'ReferenceOptimWrapperConstructor', 'TrainingStateHook']
