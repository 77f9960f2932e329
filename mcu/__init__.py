"""The composition root: the `mcu` command and the one-process wiring."""
