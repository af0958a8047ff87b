# Embedded synthetic benchmark: MIC on the tiny DAFormer (MIC(DAFormer), as configs/mic/
# gta2cs_mic_daformer.py): synth_gta2cs_dacs_rcs.py plus masked image consistency (spec §6): colour-
# augmented target images masked in 16x16 blocks (ratio 0.7, an 8x8 grid on the 128x128 crops), trained
# on the DACS teacher's pseudo-labels of the clean target images, equal loss weight.
_base_ = ['synth_gta2cs_dacs_rcs.py']
uda = dict(
    mask_mode='separatetrgaug',
    mask_alpha='same',  # the DACS teacher
    mask_pseudo_threshold='same',
    mask_lambda=1,
    mask_generator=dict(_delete_=True, type='block', mask_ratio=0.7, mask_block_size=16))
name = 'synth_gta2cs_mic'
