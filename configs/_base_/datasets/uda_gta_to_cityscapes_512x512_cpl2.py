# GTA -> Cityscapes with 512x512 crops and pseudo-label crop v2 ("cpl2", spec §5.4): the DAFormer data
# (uda_gta_to_cityscapes_512x512.py) with the margin mask of the HRDA / MIC targets, for the DAFormer runs of
# the HRDA crop-size study (experiment 42), whose synchronised crops do not span the image height that the
# row cut of plcrop v1 assumes. The margins [top, bottom, left, right] = [30, 240, 30, 30] are in pixels of
# the full 2048x1024 image (the reference's valid_mask_size), made at loading, before the resize to 1024x512.
_base_ = ['uda_gta_to_cityscapes_512x512.py']
target_dataset = dict(crop_pseudo_margins=[30, 240, 30, 30])
