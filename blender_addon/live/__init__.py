"""The live viewer: a camera, file or stream in; original and motion side by side in a window, driven by keys.

It runs outside Blender (``scripts/live.py``), so the extension's zip leaves this folder out. Its rooms:
:mod:`.motion` renders frames pushed one at a time, :mod:`.capture` reads the source on a thread,
:mod:`.keys` turns key presses into settings, :mod:`.status` writes the overlay's status line,
:mod:`.pipeline` ties them together without a window, :mod:`.window` shows it and :mod:`.command`
is the command line.
"""
