# Source-only training with the photometric augmentation DACS gives its mixed images (colour jitter and
# Gaussian blur, same parameters): the baseline that separates the gain of self-training from the gain
# of augmentation.
_base_ = ['dacs_srconly.py']
uda = dict(source_only_augment=True)
