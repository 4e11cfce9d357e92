"""The model registry: every reward model a training run saved, under its version number.
Training registers them in the transaction that completes its run; scoring runs (and judges)
use them as members. A sink below both, so neither imports the other."""
