# UPerNet with 256 channels on MiT-B5, DAFormer's decoder study (Table 7, 'upernet_ch256'). Reference:
# configs/_base_/models/upernet_ch256_mit.py (= upernet_mit.py with channels 256).
_base_ = ['upernet_mit.py']
model = dict(decode_head=dict(channels=256))
