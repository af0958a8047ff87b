# The embedded synthetic pair with pseudo-label crop v2 ("cpl2", spec §5.4), for HRDA / MIC runs on it
# (`run_experiments.py --exp ID --data synth`): the margins [30, 240, 30, 30] of the 1024-pixel-high
# Cityscapes images scaled to the 128-pixel-high synthetic ones (x 1/8): [top, bottom, left, right] =
# [4, 30, 4, 4], the rows that plcrop v1 cuts at this size.
_base_ = ['uda_synthetic_gta_to_cityscapes_128x128.py']
target_dataset = dict(crop_pseudo_margins=[4, 30, 4, 4])
