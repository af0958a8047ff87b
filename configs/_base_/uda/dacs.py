# DACS self-training (DAFormer's UDA method), reference defaults of configs/_base_/uda/dacs.py.
# `model` and `max_iters` are filled in from the experiment config (cfg.model, train_cfg.max_iters).
uda = dict(
    type='DACS',
    source_only=False,
    alpha=0.99,  # EMA teacher momentum (alpha_t = min(1 - 1/(t+1), alpha))
    pseudo_threshold=0.968,  # confidence for the pseudo-label weight q (one scalar per batch)
    pseudo_weight_ignore_top=0,  # rows at the top/bottom of target crops given weight 0
    pseudo_weight_ignore_bottom=0,
    imnet_feature_dist_lambda=0,  # ImageNet feature distance off
    imnet_feature_dist_classes=None,
    imnet_feature_dist_scale_min_ratio=None,
    mix='class',  # ClassMix
    blur=True,  # strong augmentation of the mixed image: Gaussian blur (50 %) ...
    color_jitter_strength=0.2,  # ... and colour jitter (applied 80 % of the time, a reference quirk)
    color_jitter_probability=0.2,
    debug_img_interval=1000,
    print_grad_magnitude=False,
    # MIC masked image consistency (off; spec §6)
    mask_mode=None,  # e.g. 'separatetrgaug': colour-augment, then block-mask the target batch
    mask_alpha='same',  # 'same': MIC shares the DACS teacher, else its own EMA teacher with this alpha
    mask_pseudo_threshold='same',
    mask_lambda=0,  # weight of the masked fused loss
    mask_generator=None,  # e.g. dict(type='block', mask_ratio=0.7, mask_block_size=64)
)
use_ddp_wrapper = True
