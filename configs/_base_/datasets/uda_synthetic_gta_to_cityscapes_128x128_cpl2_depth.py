# uda_synthetic_gta_to_cityscapes_128x128_cpl2.py with the depth maps of CDDA (spec ebda-cdda-ddb §2.2):
# data/synthetic/gta/depth_any/<image name>.png and
# data/synthetic/cityscapes/depth_any/train/<city>/<stem>_depth.png (tools/make_synthetic_data.py).
# The data sets load each map after its image and carry it through the resize (bilinear), crop and flip.
_base_ = ['uda_synthetic_gta_to_cityscapes_128x128_cpl2.py']
source_dataset = dict(data_prefix=dict(depth_path='depth_any'))
target_dataset = dict(data_prefix=dict(depth_path='depth_any/train'))
