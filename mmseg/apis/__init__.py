"""High-level entry points: building trained models, inference, checkpoint and run-directory loading."""
from .checkpoint import REFERENCE_REVISE_KEYS, load_checkpoint, revise_keys
from .inference import build_test_pipeline, dataset_meta, inference_model, init_model, load_test_config
from .legacy_config import load_legacy_config, update_legacy_model
from .run_dir import find_run_files
from .visualization import show_result_pyplot

__all__ = [
    'REFERENCE_REVISE_KEYS', 'build_test_pipeline', 'dataset_meta', 'find_run_files', 'inference_model',
    'init_model', 'load_checkpoint', 'load_legacy_config', 'load_test_config', 'revise_keys',
    'show_result_pyplot', 'update_legacy_model'
]
