# Source-only training through the DACS wrapper (no teacher, no mixing). Reference: dacs_srconly.py.
_base_ = ['dacs.py']
uda = dict(source_only=True)
