"""TensorBoard backend that groups the tags: ``train/<loss, lr, time, ...>`` and ``val/<mIoU, IoU.road, ...>``
(mmengine's logger hook passes training and validation records without a mode prefix; the JSON scalars keep
the reference's names)."""
import re
from typing import Optional

from mmengine.visualization import TensorboardVisBackend
from mmengine.visualization.vis_backend import force_init_env

from mmseg.registry import VISBACKENDS

# keys of a validation record (IoUMetric and its summaries); a record with one of them is a validation record
VALIDATION_KEY = re.compile(r'aAcc|mIoU|mAcc|mIoU16|mDice|mFscore|mPrecision|mRecall|(IoU|Acc|Dice|Fscore)\..+|.+/mIoU')


@VISBACKENDS.register_module()
class GroupedTensorboardVisBackend(TensorboardVisBackend):
    """:class:`mmengine.visualization.TensorboardVisBackend` with ``train/`` and ``val/`` tag groups (keys that
    already hold a '/' keep it)."""

    @staticmethod
    def group(scalar_dict: dict) -> str:
        """'val' for a record with a validation metric, else 'train'."""
        return 'val' if any(VALIDATION_KEY.fullmatch(key) for key in scalar_dict) else 'train'

    @force_init_env
    def add_scalars(self, scalar_dict: dict, step: int = 0, file_path: Optional[str] = None, **kwargs) -> None:
        prefix = self.group(scalar_dict)
        for key, value in scalar_dict.items():
            self.add_scalar(key if '/' in key else f'{prefix}/{key}', value, step)
