# Embedded synthetic benchmark: source-only baseline (configs/_base_/uda/dacs_srconly.py). The same
# model, schedule, batch and source sampling (rare class sampling) as synth_gta2cs_dacs_rcs.py; the
# target images are loaded by the pairing data set but not used.
_base_ = ['synth_gta2cs_dacs_rcs.py']
uda = dict(source_only=True)
name = 'synth_gta2cs_source_only'
