"""Engine pieces around mmengine: compatibility fixes, optimiser constructor, hooks."""
from .compat import apply_compat, ddp_wrapper_cfg, init_distributed

apply_compat()

__all__ = ['apply_compat', 'ddp_wrapper_cfg', 'init_distributed']
