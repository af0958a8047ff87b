# Embedded synthetic benchmark: source-only with the photometric augmentation DACS gives its mixed
# images (colour jitter, blur; configs/_base_/uda/dacs_srconly_aug.py), so that the DACS gain is not
# mistaken for an augmentation gain.
_base_ = ['synth_gta2cs_dacs_rcs.py']
uda = dict(source_only=True, source_only_augment=True)
name = 'synth_gta2cs_source_only_aug'
