"""The motion rig: native sequencer strips that render what the exact engine computes.

Its rooms: :mod:`.record` (what a rig is and what it stores on its strips), :mod:`.checks` (what
refuses a source, its media or an edit), :mod:`.build` (build, update, remove) and :mod:`.layers`
(the strips a build stacks inside the rig).

Extract Motion wraps the artist's strip (the *source*, a movie or image sequence) in a META
strip together with the helpers below, so the rig moves as one and stays editable by hand.
Channels inside the rig, bottom up (the later ones only when their option is on)::

    1       source                  the artist's strip, untouched
    2       partner                 a copy of the source (same media, settings and modifiers), or with
                                    time colour a META of one copy per channel lag ("Partner"); in
                                    freeze mode a copy holding media frame K over the whole strip ("Reference")
    3       COLOR      "Edge"       edges=gray: the flat still level where no partner exists
    4       ADJUSTMENT "Amplify"    CURVES modifier: the amplify line around the still level
    5...    trails                  "Trails Encode" (gray look), one META per trail frame, "Trails Decode"
    next    ADJUSTMENT "Glow"       COMPOSITOR modifier: threshold, Gaussian blur, add back
    next    ADJUSTMENT "Colour"     COMPOSITOR modifier: tint, then saturation
    next    ADJUSTMENT "Overlay"    COMPOSITOR modifier with the source as its mask: multiply or screen
    next    ADJUSTMENT "Layout"     side/stacked: moves the motion to the right (or lower) half ...
    next    copy       "Original"   ... and a copy of the source fills the other half

**Motion** (channels 1-4). The look is set on the partner strip (the copy or the Partner META):

- ``gray``: CURVES modifier inverting it, blend ALPHA_OVER at ``mix``;
- ``difference``: blend DIFFERENCE;
- ``subtract``: inverted as for gray, blend LINEAR_BURN (``A + (255 - B) - 255``, clipped).
  The SUBTRACT blend is not used: on byte images it computes ``A - (B * 255 >> 8)``, one level off.
- ``matte``, and any look with **pre-blur**: no blend can do them, so a COMPOSITOR modifier on the
  partner ("Motion", with the source as its mask) computes the look from both frames in float, and
  the partner covers the source (ALPHA_OVER at 1). Pre-blur there is Blender's Gaussian, not the
  engine's 8-bit one: the rig marks it approximate (``core.rig_plan.approximations``).

**Seconds.** Times given in seconds become frames with the source's own rate (a movie's, else the
scene's) by ``Settings.in_frames``, the rule every renderer uses; the rig records the settings as
given, so a rig in seconds keeps them in seconds.

With **time colour** the Partner META holds one copy per distinct channel lag; a CURVES modifier on
each keeps only the channels with that lag (the others go to 0) and they are combined with LIGHTEN
(the maximum: exact, where ADD on byte images loses a level at 255). The META is then inverted and
blended as a single partner, exactly as the engine assembles it.

**Trails** are unrolled (see ``core.rig_plan``): trail META k holds a complete copy of the motion
shifted k frames later, with a CURVES modifier mapping each level to its k-times decayed level,
blended LIGHTEN. For the gray look the levels around mid-gray are first re-coded so that
the code grows with the distance from mid-gray ("Trails Encode"; a bijection of the 256 levels)
and decoded after the maximum ("Trails Decode"). This equals the engine except where two opposite
deviations of exactly equal strength meet (the rig keeps the brighter, the engine the newer), and
when the trails last longer than ``core.rig_plan.MAX_TRAIL_COPIES`` frames, where the rig cuts them off.

**Glow**, **Colour** and **Overlay** are compositor node groups (:mod:`.nodes`) doing the engine's
formulas, so they are editable in the node editor.

Frames are counted in the source's *media*: shift mode shows media frame ``t - N`` as the partner
of media frame ``t`` (trimmed-away media still serves as a partner) and the reference frame K of
freeze mode is media frame K. On an untrimmed strip this is exactly the exact engine's clip.
Where the partner falls outside the media, the ``edges`` policy applies (see ``core.timing``).

The rig's META strip carries a record (an ID property) with the settings it was built with, the
range it was built to show and each helper's blend and modifiers as built. Helpers are tagged with
their role, so the rig can be rebuilt in place (:func:`.build.update_rig`) and removed (:func:`.build.remove_rig`)
even after hand edits.

**In the edit.** The rig takes the source's place: its channel, range, blend and opacity (with
their keys), and the effect strips that took the source as an input (transitions, blurs) take the
rig. The partners copy the source's keys at their lag (freeze mode's reference takes the values at
its frame), so they show its picture as animated.
Update keeps the range and channel the artist gave the rig (the record tells a hand trim from the
build's) and the blends and modifiers set by hand on helpers rebuilt alike, and returns a line for
each it could not keep; Remove gives the source back as the rig shows it. What the rig cannot show
as the edit does (retiming; frames held past the media but under edges hold or freeze mode without
trails, where a held frame is paired as the frame it holds) is refused with the reason
(:func:`.checks.edit_problem`).
"""
