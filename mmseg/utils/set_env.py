"""Registering every mmseg component, as mmengine expects of a registry scope."""
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import the modules that register components; optionally make ``mmseg`` the default scope."""
    import mmseg.datasets  # noqa: F401
    import mmseg.engine  # noqa: F401
    import mmseg.evaluation  # noqa: F401
    import mmseg.models  # noqa: F401
    import mmseg.structures  # noqa: F401
    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or current.scope_name != 'mmseg':
        if current is not None:
            warnings.warn(f'The current default scope "{current.scope_name}" is not "mmseg"; a new default scope '
                          '"mmseg" is created for the following registry lookups.')
        DefaultScope.get_instance(f'mmseg-{datetime.datetime.now()}', scope_name='mmseg')
