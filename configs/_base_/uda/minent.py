# MinEnt (after ADVENT): minimisation of the entropy of the target predictions (reference: MIC
# configs/_base_/uda/minent.py; spec §7). `model` and `max_iters` are filled in from the experiment config.
# The reference trains it with SGD (lr 0.0025, no head multiplier, _base_/schedules/sgd.py) on
# colour-augmented source data (the gtaCAug data sets).
uda = dict(
    type='MinEnt',
    # loss = lambda * -sum(p * log2(p + 1e-30)) / (N * H * W * log2 C) of the target softmax, per output
    lambda_ent=dict(main=0.001, aux=0.0002),
    debug_img_interval=1000,  # class_mix_debug/<iter>_<j>_s.png: images, predictions, target entropy
    # MIC masked image consistency (off; spec §6) with its own EMA teacher; the reference's inactive defaults
    alpha=0.999,
    pseudo_threshold=0.968,
    pseudo_weight_ignore_top=0,
    pseudo_weight_ignore_bottom=0,
    blur=True,  # unused: MIC's colour augmentation blurs regardless, as the reference
    color_jitter_strength=0.2,
    color_jitter_probability=0.2,
    mask_mode=None,  # e.g. 'separatetrgaug'
    mask_alpha='same',
    mask_pseudo_threshold='same',
    mask_lambda=0,
    mask_generator=None,  # e.g. dict(type='block', mask_ratio=0.7, mask_block_size=32)
)
use_ddp_wrapper = True
