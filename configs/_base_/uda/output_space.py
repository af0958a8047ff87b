# What AdvSeg and MinEnt share (the output-space baselines of MIC's configs/_base_/uda/advseg.py and minent.py,
# spec §7): debug images and the reference's inactive MIC defaults (spec §6; with a mask_mode, MIC trains with an
# EMA teacher of its own). `model` and `max_iters` are filled in from the experiment config.
uda = dict(
    debug_img_interval=1000,  # class_mix_debug/<iter>_<j>_s.png: images, predictions and the method's maps
    alpha=0.999,  # MIC's teacher momentum
    pseudo_threshold=0.968,
    pseudo_weight_ignore_top=0,
    pseudo_weight_ignore_bottom=0,
    blur=True,  # unused: MIC's colour augmentation blurs regardless, as the reference
    color_jitter_strength=0.2,
    color_jitter_probability=0.2,
    mask_mode=None,  # MIC off; e.g. 'separatetrgaug'
    mask_alpha='same',
    mask_pseudo_threshold='same',
    mask_lambda=0,
    mask_generator=None,  # e.g. dict(type='block', mask_ratio=0.7, mask_block_size=32)
)
use_ddp_wrapper = True
