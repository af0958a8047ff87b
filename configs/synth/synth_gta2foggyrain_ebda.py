# The fog + rain variant of the embedded synthetic benchmark: EBDA, i.e. synth_gta2foggyrain_dacs_rcs.py plus
# entropy balancing with the reference settings (0.1 * mean((H - 0.4)^2) of a second stochastic student forward of
# the mixed image; the FD and the 0.999 momentum of the EBDA base do not apply to the tiny model trained from
# scratch, as in ID 200's dacs_eb member). ID 201.
_base_ = ['./synth_gta2foggyrain_dacs_rcs.py']
uda = dict(entropy_balance=dict(target=0.4, weight=0.1, second_forward=True))
name = 'synth_gta2foggyrain_ebda'
