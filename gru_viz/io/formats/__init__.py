"""One module per weights file format, each reading bytes into named NumPy arrays (and writing them back)
without running code; the caps and checks every format shares live in :mod:`.checks`."""
