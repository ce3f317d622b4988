"""bpy adapters: the motion rig built from native sequencer strips, colour checks, batch renders.

These modules import bpy; nothing under ``core`` imports them. The UI calls into them.
"""
