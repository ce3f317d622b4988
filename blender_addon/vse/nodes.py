"""Compositor node groups for the rig's COMPOSITOR modifiers: the engine's formulas (``core.effect``,
``core.colour``) in float on sRGB-encoded values, rounding to whole levels where the engine does,
so an artist can open and edit them in the node editor.

The compositor works in scene-linear float, and the conversion there and back costs at most one
level; the blurs are Blender's Gaussian (sigma = size / 3), where the engine's are 8-bit ones
(``core.blur``): they differ in rounding and near the frame borders.
"""

from __future__ import annotations

import bpy

from ..core.colour import LUMA_WEIGHTS
from ..core.rig_plan import ROUNDING_LIFT
from ..core.settings import Settings, colour_levels


class NodeBuilder:
    """Builds a compositor node group for the COMPOSITOR strip modifier, one node per call.

    Sockets are passed around as ``bpy.types.NodeSocket`` or plain numbers (constants); vectors
    carry the three colour channels. Nodes are laid out left to right in creation order, so the
    group stays readable when an artist opens it.
    """

    def __init__(self, name: str, inputs: tuple[str, ...] = ("Image", "Mask")) -> None:
        self.tree = bpy.data.node_groups.new(name, "CompositorNodeTree")
        for socket in inputs:
            self.tree.interface.new_socket(socket, in_out="INPUT", socket_type="NodeSocketColor")
        self.tree.interface.new_socket("Image", in_out="OUTPUT", socket_type="NodeSocketColor")
        self._input = self._node("NodeGroupInput")
        self._column = 0

    def _node(self, kind: str, label: str = "") -> bpy.types.Node:
        node = self.tree.nodes.new(kind)
        node.label = label
        node.location = (200.0 * len(self.tree.nodes), 0.0)
        return node

    def _feed(self, socket: bpy.types.NodeSocket, value: object) -> None:
        if isinstance(value, bpy.types.NodeSocket):
            self.tree.links.new(value, socket)
        elif isinstance(value, (int, float)) and socket.type == "VECTOR":
            socket.default_value = (value,) * 3
        else:
            socket.default_value = value

    def input(self, name: str) -> bpy.types.NodeSocket:
        return self._input.outputs[name]

    def convert(self, image: bpy.types.NodeSocket, source: str, target: str) -> bpy.types.NodeSocket:
        node = self._node("CompositorNodeConvertColorSpace")
        node.from_color_space, node.to_color_space = source, target
        self._feed(node.inputs[0], image)
        return node.outputs[0]

    def vector(self, operation: str, *values: object, label: str = "") -> bpy.types.NodeSocket:
        """A Vector Math node; ``SCALE`` takes the scale as its second value; ``DOT_PRODUCT`` gives a value."""
        node = self._node("ShaderNodeVectorMath", label)
        node.operation = operation
        if operation == "SCALE":
            self._feed(node.inputs[0], values[0])
            self._feed(node.inputs["Scale"], values[1])
        else:
            for socket, value in zip(node.inputs, values, strict=False):
                self._feed(socket, value)
        return node.outputs["Value" if operation == "DOT_PRODUCT" else "Vector"]

    def math(self, operation: str, *values: object, label: str = "") -> bpy.types.NodeSocket:
        """A Math node on single values."""
        node = self._node("ShaderNodeMath", label)
        node.operation = operation
        for socket, value in zip(node.inputs, values, strict=False):
            self._feed(socket, value)
        return node.outputs["Value"]

    def channels(self, image: bpy.types.NodeSocket) -> tuple[bpy.types.NodeSocket, ...]:
        """The red, green and blue of an image, as single values."""
        node = self._node("CompositorNodeSeparateColor")
        self._feed(node.inputs[0], image)
        return node.outputs["Red"], node.outputs["Green"], node.outputs["Blue"]

    def alpha(self, image: bpy.types.NodeSocket) -> bpy.types.NodeSocket:
        node = self._node("CompositorNodeSeparateColor")
        self._feed(node.inputs[0], image)
        return node.outputs["Alpha"]

    def blur(self, image: bpy.types.NodeSocket, size: float, label: str = "") -> bpy.types.NodeSocket:
        """A Gaussian Blur node of ``size`` pixels (Blender's Gaussian has sigma = size / 3)."""
        node = self._node("CompositorNodeBlur", label)
        self._feed(node.inputs["Image"], image)
        node.inputs["Size"].default_value = (size, size)
        return node.outputs[0]

    def output(self, image: bpy.types.NodeSocket) -> bpy.types.NodeGroup:
        node = self._node("NodeGroupOutput")
        self._feed(node.inputs[0], image)
        return self.tree


def glow_group(settings: Settings, name: str) -> bpy.types.NodeGroup:
    """``w = v + glow * blur(max(|v - P| - threshold, 0))`` on sRGB-encoded values (``core.effect`` stage 3).

    The blur only takes in the frame's own pixels (its alpha): the canvas around the frame, as in
    the side-by-side layout, is transparent black, which would otherwise glow as strong motion.
    Dividing by the blurred alpha renormalizes the kernel near the frame's edges.
    """
    nodes = NodeBuilder(name, inputs=("Image",))
    image = nodes.input("Image")
    level = nodes.convert(image, "scene_linear", "sRGB")
    deviation = nodes.vector("ABSOLUTE", nodes.vector("SUBTRACT", level, settings.still_level / 255.0))
    excess = nodes.vector(
        "MAXIMUM", nodes.vector("SUBTRACT", deviation, settings.glow_threshold / 255.0, label="Threshold"), 0.0
    )
    size = 3.0 * settings.glow_radius
    inside = nodes.alpha(image)
    halo = nodes.vector(
        "DIVIDE",
        nodes.blur(nodes.vector("SCALE", excess, inside), size, label="Radius"),
        nodes.blur(inside, size, label="Radius (frame)"),
    )
    glowing = nodes.vector("MULTIPLY_ADD", halo, settings.glow, level, label="Strength")
    return nodes.output(nodes.convert(_clamped(nodes, glowing), "sRGB", "scene_linear"))


def motion_group(settings: Settings, name: str) -> bpy.types.NodeGroup:
    """Stages 0 and 1 of ``core.effect`` (pre-blur, then the look before amplify) on sRGB-encoded values,
    from the partner (Image) and the current frame (Mask): for the looks no blend can do."""
    nodes = NodeBuilder(name)
    partner_input, current_input = nodes.input("Image"), nodes.input("Mask")
    current = nodes.convert(current_input, "scene_linear", "sRGB")
    partner = nodes.convert(partner_input, "scene_linear", "sRGB")
    a, b = current, partner
    if settings.pre_blur > 0:
        a = _whole_levels(nodes, _blurred(nodes, current, current_input, settings.pre_blur, "Pre-blur (current)"))
        b = _whole_levels(nodes, _blurred(nodes, partner, partner_input, settings.pre_blur, "Pre-blur (partner)"))
    change = nodes.vector("SUBTRACT", a, b)
    if settings.look == "gray":  # A (1 - mix) + (1 - B) mix
        inverted = nodes.vector("SCALE", nodes.vector("SUBTRACT", 1.0, b), settings.mix)
        motion = nodes.vector("MULTIPLY_ADD", a, 1.0 - settings.mix, inverted, label="Mix")
    elif settings.look == "difference":
        motion = nodes.vector("ABSOLUTE", change)
    elif settings.look == "subtract":
        motion = nodes.vector("MAXIMUM", change, 0.0)
    else:  # matte: the strongest channel's change, opened from threshold over softness, revealing A unblurred
        red, green, blue = nodes.channels(nodes.vector("ABSOLUTE", change))
        strength = nodes.math("MAXIMUM", nodes.math("MAXIMUM", red, green), blue)
        softness = float(settings.matte_softness)
        opening = nodes.math(
            "MULTIPLY_ADD", strength, 255.0 / softness, -settings.matte_threshold / softness, label="Threshold"
        )
        matte = nodes.math("MINIMUM", nodes.math("MAXIMUM", opening, 0.0), 1.0)
        motion = nodes.vector("MULTIPLY", current, _whole_levels(nodes, matte), label="Matte")
    return nodes.output(nodes.convert(_clamped(nodes, motion), "sRGB", "scene_linear"))


def colour_group(settings: Settings, name: str) -> bpy.types.NodeGroup:
    """Stage 4 of ``core.effect`` (``core.colour``): the tint, then the saturation, on sRGB-encoded values."""
    nodes = NodeBuilder(name, inputs=("Image",))
    colour = nodes.convert(nodes.input("Image"), "scene_linear", "sRGB")
    weights = tuple(weight / 256 for weight in LUMA_WEIGHTS)
    if settings.tint:
        pivot = settings.still_level / 255.0
        luma = _whole_levels(nodes, nodes.vector("DOT_PRODUCT", colour, weights, label="Luma"))
        strength = nodes.math(
            "MINIMUM", nodes.math("DIVIDE", nodes.math("ABSOLUTE", nodes.math("SUBTRACT", luma, pivot)), 1.0 - pivot),
            1.0,
        )
        target = tuple(level / 255.0 - pivot for level in colour_levels(settings.tint_colour))
        colour = _whole_levels(nodes, nodes.vector("MULTIPLY_ADD", strength, target, pivot, label="Tint"))
    if settings.saturation != 1.0:
        luma = _whole_levels(nodes, nodes.vector("DOT_PRODUCT", colour, weights, label="Luma"))
        spread = nodes.vector("SUBTRACT", colour, luma)
        colour = nodes.vector("MULTIPLY_ADD", spread, settings.saturation, luma, label="Saturation")
    return nodes.output(nodes.convert(_clamped(nodes, colour), "sRGB", "scene_linear"))


def _blurred(nodes: NodeBuilder, image: bpy.types.NodeSocket, raw: bpy.types.NodeSocket, sigma: float,
             label: str) -> bpy.types.NodeSocket:
    """Blender's Gaussian of ``sigma`` over the frame's own pixels (the alpha of ``raw``), renormalised at its edges."""
    inside = nodes.alpha(raw)
    size = 3.0 * sigma
    return nodes.vector(
        "DIVIDE", nodes.blur(nodes.vector("SCALE", image, inside), size, label=label),
        nodes.blur(inside, size, label=label + " (frame)"),
    )


def _whole_levels(nodes: NodeBuilder, values: bpy.types.NodeSocket) -> bpy.types.NodeSocket:
    """Values from 0 to 1 rounded to whole 8-bit levels, where the engine holds them as bytes: halves up,
    and a thousandth of a level more, so that the colour round trip's float error does not turn them down."""
    half = 0.5 + ROUNDING_LIFT / 2
    if values.type == "VALUE":
        return nodes.math("DIVIDE", nodes.math("FLOOR", nodes.math("MULTIPLY_ADD", values, 255.0, half)), 255.0)
    return nodes.vector("SCALE", nodes.vector("FLOOR", nodes.vector("MULTIPLY_ADD", values, 255.0, half)), 1.0 / 255.0)


def overlay_group(settings: Settings, name: str) -> bpy.types.NodeGroup:
    """The motion (Image) over the untouched source (Mask) by ``core.effect`` stage 4, on sRGB-encoded values."""
    nodes = NodeBuilder(name)
    motion = nodes.convert(nodes.input("Image"), "scene_linear", "sRGB")
    original = nodes.convert(nodes.input("Mask"), "scene_linear", "sRGB")
    pivot = settings.still_level
    if settings.overlay == "multiply":  # S * (128 + w - P) / 128
        factor = nodes.vector("MULTIPLY_ADD", motion, 255.0 / 128.0, (128.0 - pivot) / 128.0)
        blended = nodes.vector("MULTIPLY", original, factor, label="Multiply")
    else:  # 255 - (255 - S) * (255 - L), L = min(255, k * |w - P|)
        gain = 2.0 if settings.look == "gray" else 1.0
        deviation = nodes.vector("ABSOLUTE", nodes.vector("SUBTRACT", motion, pivot / 255.0))
        light = nodes.vector("MINIMUM", nodes.vector("SCALE", deviation, gain), 1.0)
        dark = nodes.vector(
            "MULTIPLY", nodes.vector("SUBTRACT", 1.0, original), nodes.vector("SUBTRACT", 1.0, light)
        )
        blended = nodes.vector("SUBTRACT", 1.0, dark, label="Screen")
    change = nodes.vector("SUBTRACT", blended, original)
    result = nodes.vector("MULTIPLY_ADD", change, settings.overlay_strength, original, label="Strength")
    return nodes.output(nodes.convert(_clamped(nodes, result), "sRGB", "scene_linear"))


def _clamped(nodes: NodeBuilder, values: bpy.types.NodeSocket) -> bpy.types.NodeSocket:
    return nodes.vector("MINIMUM", nodes.vector("MAXIMUM", values, 0.0), 1.0)
