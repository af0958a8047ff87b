"""Start-up checks of a training config: mistakes fail before anything is built or written, naming the key.

- top-level keys: the Runner's, the toolbox's, the variables the shipped ``configs/_base_`` files and the
  config's own ``_base_`` files define, and private helpers (``_name``); anything else is refused with the
  nearest known key suggested;
- options of the hooks (``default_hooks``, ``custom_hooks``), the loops, the log processor and the runtime
  dicts (``env_cfg``, ``randomness``, ``auto_scale_lr``) against what their classes accept;
- numbers: every option of a component (a dict with ``type``: model, UDA wrapper, optimiser, scheduler,
  loop, hook, data set, transform) whose class declares it as a number (an ``int`` / ``float``
  annotation) must hold a number (an integer where the annotation says ``int``); one without annotation
  but with a numeric default must not hold text.
"""
import ast
import functools
import inspect
import numbers
import typing
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, Optional, Tuple

from mmengine.config import Config
from mmengine.registry import DefaultScope, Registry
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from mmseg import registry
from mmseg.utils.key_suggestion import unknown_keys_message

REPO_CONFIGS = Path(__file__).resolve().parents[2] / 'configs' / '_base_'
RUNNER_KEYS = (frozenset(inspect.signature(Runner.__init__).parameters) - {'self', 'cfg'}
               | {'model_wrapper_cfg', 'compile'})
# Keys of the toolbox: the UDA wrapper, DDP options, the metadata of the reference configs, the revision
# run_experiments.py records, and the stages of a DDB pipeline config (tools/ddb_pipeline.py).
TOOLBOX_KEYS = frozenset({'uda', 'use_ddp_wrapper', 'find_unused_parameters', 'name', 'exp', 'name_architecture',
                          'name_dataset', 'name_decoder', 'name_encoder', 'name_opt', 'name_uda', 'gpu_model',
                          'n_gpus', 'seed', 'git_rev', 'ddb_pipeline'})
RUNTIME_OPTIONS = {
    'env_cfg': frozenset({'cudnn_benchmark', 'mp_cfg', 'dist_cfg', 'resource_limit'}),
    'env_cfg.mp_cfg': frozenset({'mp_start_method', 'opencv_num_threads'}),
    'randomness': frozenset(inspect.signature(Runner.set_randomness).parameters) - {'self'},
    'auto_scale_lr': frozenset({'enable', 'base_batch_size'}),
}
# Options a component dict may carry besides its class's arguments: the class, and the hook priority.
BUILD_KEYS = frozenset({'type', 'priority'})
# Which registry the components below a key come from (the top-level loop keys only at the top).
KEY_REGISTRIES = {'model': 'MODELS', 'uda': 'MODELS', 'optim_wrapper': 'OPTIM_WRAPPERS', 'optimizer': 'OPTIMIZERS',
                  'param_scheduler': 'PARAM_SCHEDULERS', 'default_hooks': 'HOOKS', 'custom_hooks': 'HOOKS',
                  'dataset': 'DATASETS', 'source': 'DATASETS', 'target': 'DATASETS', 'pipeline': 'TRANSFORMS',
                  'sampler': 'DATA_SAMPLERS', 'val_evaluator': 'METRICS', 'test_evaluator': 'METRICS',
                  'log_processor': 'LOG_PROCESSORS'}
TOP_LEVEL_REGISTRIES = {'train_cfg': 'LOOPS', 'val_cfg': 'LOOPS', 'test_cfg': 'LOOPS'}
DATALOADER_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


class ConfigError(ValueError):
    """A training config that cannot work, found before the run starts."""


def _assigned_names(path: Path) -> Tuple[FrozenSet[str], List[Path]]:
    """Top-level names a Python config assigns, and the files its ``_base_`` names."""
    names, bases = set(), []
    for node in ast.parse(path.read_text()).body:
        if not isinstance(node, ast.Assign):
            continue
        targets = {target.id for target in node.targets if isinstance(target, ast.Name)}
        names.update(targets)
        if '_base_' in targets:
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                continue
            bases += [path.parent / base for base in ([value] if isinstance(value, str) else value)]
    return frozenset(names), bases


@functools.lru_cache(maxsize=1)
def shipped_base_variables() -> FrozenSet[str]:
    """Top-level names assigned in ``configs/_base_/**/*.py`` (helpers like ``crop_size``, ``norm_cfg``)."""
    paths = REPO_CONFIGS.rglob('*.py') if REPO_CONFIGS.is_dir() else ()
    return frozenset(name for path in paths for name in _assigned_names(path)[0])


def base_chain_variables(config_file: Optional[str]) -> FrozenSet[str]:
    """Top-level names assigned in the ``_base_`` files of ``config_file`` (recursively), not in the file itself."""
    names: set = set()
    if not config_file or not str(config_file).endswith('.py') or not Path(config_file).is_file():
        return frozenset()
    pending = list(_assigned_names(Path(config_file))[1])
    seen = set()
    while pending:
        path = pending.pop()
        if path.suffix != '.py' or not path.is_file() or path.resolve() in seen:
            continue
        seen.add(path.resolve())
        assigned, bases = _assigned_names(path)
        names |= assigned
        pending += bases
    return frozenset(names)


def check_top_level_keys(cfg: Mapping, source: str) -> None:
    """Refuse top-level keys that nothing reads (typos of a known key, most likely)."""
    known = RUNNER_KEYS | TOOLBOX_KEYS | shipped_base_variables() | base_chain_variables(source)
    unknown = [key for key in cfg if key not in known and not key.startswith('_')]
    if unknown:
        raise ConfigError(unknown_keys_message(f'{source}: top-level config', unknown, known, list_known=False) +
                          ' (helper variables of a config may start with "_")')


def _registry(name: str) -> Registry:
    return getattr(registry, name)


def _component_class(cfg: Mapping, registry_name: Optional[str]) -> Optional[type]:
    component = cfg.get('type')
    if isinstance(component, type):
        return component
    if registry_name is None or not isinstance(component, str):
        return None
    with DefaultScope.overwrite_default_scope('mmseg'):
        return _registry(registry_name).get(component)


def _init_parameters(cls: type) -> Tuple[Dict[str, inspect.Parameter], bool]:
    """The named parameters of ``cls.__init__`` (the first ``__init__`` of the MRO that names any) and whether
    it takes ``**kwargs`` (``OPTIONS`` on the class overrides: exactly those, no ``**kwargs``)."""
    options = getattr(cls, 'OPTIONS', None)
    for klass in cls.__mro__:
        if '__init__' not in vars(klass):
            continue
        try:
            parameters = inspect.signature(klass.__init__).parameters
        except (TypeError, ValueError):
            return {}, True
        named = {n: p for n, p in parameters.items() if n != 'self' and
                 p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)}
        if named or klass is object:
            if options is not None:
                return {n: p for n, p in named.items() if n in options}, False
            return named, any(p.kind == inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    return {}, True


def check_options(cfg: Mapping, cls: type, where: str, ignore: Iterable[str] = ()) -> None:
    """Refuse keys of ``cfg`` that ``cls`` does not take (where its ``__init__`` lists them all)."""
    parameters, open_ended = _init_parameters(cls)
    if open_ended:
        return
    known = set(parameters) - set(ignore)
    unknown = set(cfg) - known - BUILD_KEYS
    if unknown:
        raise ConfigError(unknown_keys_message(f'{where} ({cls.__name__})', unknown, known))


def _annotation_kind(annotation: Any) -> Optional[str]:
    """'int' / 'float' for a numeric annotation (also inside Optional / Union with Tensor), else None."""
    if annotation is int:
        return 'int'
    if annotation is float:
        return 'float'
    args = typing.get_args(annotation)
    if args and (type(None) in args or any(getattr(a, '__name__', '') == 'Tensor' for a in args)):
        kinds = {_annotation_kind(a) for a in args if a is not type(None) and getattr(a, '__name__', '') != 'Tensor'}
        if len(kinds) == 1:
            return kinds.pop()
    return None


def _numeric_kind(parameter: inspect.Parameter, hints: Mapping[str, Any]) -> Optional[str]:
    if parameter.name in hints:
        return _annotation_kind(hints[parameter.name])
    default = parameter.default
    if isinstance(default, numbers.Real) and not isinstance(default, bool):
        return 'unannotated'  # a numeric default: some also take sequences, so only text is refused
    return None


def _type_hints(cls: type) -> Mapping[str, Any]:
    try:
        return typing.get_type_hints(cls.__init__)
    except Exception:  # unresolvable forward references: fall back to the defaults
        return {}


def _check_numbers(cfg: Mapping, cls: type, where: str) -> None:
    parameters, _ = _init_parameters(cls)
    hints = _type_hints(cls)
    for key, value in cfg.items():
        parameter = parameters.get(key)
        kind = _numeric_kind(parameter, hints) if parameter is not None else None
        if kind is None or value is None:
            continue
        is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if kind == 'unannotated' and not isinstance(value, str):
            continue
        if not is_number or (kind == 'int' and not isinstance(value, numbers.Integral)):
            expected = 'an integer' if kind == 'int' else 'a number'
            raise ConfigError(f'{where}.{key} = {value!r} ({type(value).__name__}): expected {expected} '
                              f'({cls.__name__} argument {key})')


def check_components(value: Any, where: str, registry_name: Optional[str]) -> None:
    """Check the option names of hooks / loops / log processor and the numbers of every component below."""
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            check_components(item, f'{where}[{index}]', registry_name)
        return
    if not isinstance(value, Mapping):
        return
    cls = _component_class(value, registry_name)
    if cls is not None:
        if registry_name in ('HOOKS', 'LOOPS', 'LOG_PROCESSORS'):
            check_options(value, cls, where, ignore=('runner', 'dataloader', 'evaluator') if registry_name == 'LOOPS'
                          else ())
        _check_numbers(value, cls, where)
    for key, item in value.items():
        if key != 'type':
            check_components(item, f'{where}.{key}', KEY_REGISTRIES.get(key, registry_name))


def check_runtime_options(cfg: Mapping) -> None:
    """``env_cfg``, ``env_cfg.mp_cfg``, ``randomness`` and ``auto_scale_lr`` hold only known keys."""
    for where, known in RUNTIME_OPTIONS.items():
        value: Any = cfg
        for part in where.split('.'):
            value = value.get(part) if hasattr(value, 'get') else None
        if isinstance(value, Mapping) and set(value) - known:
            raise ConfigError(unknown_keys_message(where, set(value) - known, known))


def check_train_config(cfg: Config) -> None:
    """All start-up checks of a training config (see the module docstring); raises :class:`ConfigError`."""
    source = cfg.filename or 'config'
    check_top_level_keys(cfg, source)
    check_runtime_options(cfg)
    for key, value in cfg.items():
        if key in DATALOADER_KEYS and isinstance(value, Mapping):
            _check_numbers(value, DataLoader, key)
            check_components(value, key, None)
        elif key in TOP_LEVEL_REGISTRIES and isinstance(value, Mapping) and 'type' in value:
            check_components(value, key, TOP_LEVEL_REGISTRIES[key])
        elif key == 'log_processor' and isinstance(value, Mapping):
            check_components(dict(value, type=value.get('type', 'LogProcessor')), key, 'LOG_PROCESSORS')
        elif key in KEY_REGISTRIES:
            check_components(value, key, KEY_REGISTRIES[key])
