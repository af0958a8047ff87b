from .config_keys import check_config_keys
from .set_env import register_all_modules

__all__ = ['check_config_keys', 'register_all_modules']
