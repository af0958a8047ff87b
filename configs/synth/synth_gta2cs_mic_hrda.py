# Embedded synthetic benchmark: MIC(HRDA) on the synthetic GTA -> Cityscapes pair: synth_gta2cs_hrda.py
# plus masked image consistency as configs/mic/gtaHR2csHR_mic_hrda.py (spec §6.2): colour-augmented
# target images masked in blocks (ratio 0.7), trained on the DACS teacher's pseudo-labels of the clean
# target images, equal loss weight. Blocks of 16x16 pixels (an 8x8 grid on the 128x128 crops; the
# reference's 64 on 1024x1024 crops would be a single block here).
_base_ = ['synth_gta2cs_hrda.py']
uda = dict(
    mask_mode='separatetrgaug',
    mask_alpha='same',  # the DACS teacher
    mask_pseudo_threshold='same',
    mask_lambda=1,
    mask_generator=dict(_delete_=True, type='block', mask_ratio=0.7, mask_block_size=16))
name = 'synth_gta2cs_mic_hrda'
