// SPDX-License-Identifier: GPL-3.0-or-later
//
// Flamenco job type "motion-extraction" (Flamenco names a job type after its file): motion
// extraction of one movie, rendered in chunks by scripts/motion_extract.py on the workers and
// joined into the final movie by scripts/join_chunks.py. Every chunk equals the same frames of a
// whole render, so the joined movie decodes to the frames of a whole render.
//
// Install: copy this file into the "scripts" folder beside flamenco-manager, then "Refresh from
// Manager" in Blender's Flamenco panel; the workers need Blender, and this repository (with its
// .venv) on shared storage. See README.md, "Render farm: Flamenco".
//
// Flamenco compiles this file in strict mode and hands compileJob only the settings the submitter
// sent: the defaults below are filled in here.

// The strip the Flamenco panel works on: the sequencer's scene (Blender 5+) before the window's.
const STRIP = "(getattr(C, 'sequencer_scene', None) or C.scene).sequence_editor.active_strip";

const JOB_TYPE = {
    label: "Motion Extraction",
    description: "Motion extraction of a movie, rendered in chunks and joined into one movie with its sound",
    settings: [
        // What to render.
        { key: "input", type: "string", subtype: "file_path", required: true,
          eval: `str(abspath(bpy.path.abspath(${STRIP}.filepath, library=${STRIP}.id_data.library)))`,
          evalInfo: { showLinkButton: true, description: "The active strip's movie" },
          description: "The movie to extract motion from, as the workers see it (linked to the active strip: " +
                       "the copy Flamenco packs with the .blend)" },
        { key: "output", type: "string", subtype: "file_path", required: true,
          description: "The final movie (.mp4, .mov, .mkv, .webm), as the workers see it; its chunks go in a folder beside it" },
        // The movie's length: content_duration since Blender 5.1, frame_duration (deprecated there) before.
        { key: "frames", type: "string", required: true,
          eval: `(lambda s: f"0-{(s.content_duration if hasattr(s, 'content_duration') else s.frame_duration) - 1}")(${STRIP})`,
          evalInfo: { showLinkButton: true, description: "Every frame of the active strip's movie" },
          description: "Output frames, counted from 0, as one range such as '0-299' (--edges trim renders |offset| fewer frames)" },
        { key: "chunk_size", type: "int32", default: 250, propargs: { min: 1 }, visible: "submission",
          description: "Frames rendered by one task" },
        // How: motion_extract.py's own flags.
        { key: "effect_options", type: "string", default: "",
          description: "The effect's options as motion_extract.py takes them, such as '--preset glow --offset 2' (quoted as in a shell)" },
        { key: "output_options", type: "string", default: "",
          description: "The final movie's encoding: --codec, --crf, --encoder-preset as motion_extract.py takes them" },
        { key: "no_audio", type: "bool", default: false, description: "Leave the input's sound out" },
        // Where the tools are on the workers.
        { key: "scripts_dir", type: "string", subtype: "dir_path", required: true, visible: "submission",
          description: "The folder of motion_extract.py and join_chunks.py on the workers (this repository's scripts/)" },
        // Filled in at submission: the packed .blend (by the add-on), and the strip whose movie is packed with it
        // (empty when Input is not linked to the active strip).
        { key: "blendfile", type: "string", subtype: "file_path", visible: "web",
          description: "The .blend packed to shared storage at submission" },
        { key: "input_scene", type: "string", visible: "hidden",
          eval: `(getattr(C, 'sequencer_scene', None) or C.scene).name if settings.autoeval_input else ''`,
          description: "The scene of the strip whose movie is Input" },
        { key: "input_strip", type: "string", visible: "hidden",
          eval: `getattr(getattr((getattr(C, 'sequencer_scene', None) or C.scene).sequence_editor, 'active_strip', None), 'name', '') if settings.autoeval_input else ''`,
          description: "The strip whose movie is Input" },
    ]
};

function compileJob(job) {
    const settings = withDefaults(job.settings);
    const first = frameSpan(settings.frames, "frames")[0];
    if (first != 0) {
        throw `frames must start at 0 (got "${settings.frames}"): the join puts together the whole render`;
    }
    const chunkSize = Number(settings.chunk_size);
    if (!Number.isInteger(chunkSize) || chunkSize < 1) {
        throw `chunk_size must be a whole number of frames, 1 or more (got "${settings.chunk_size}")`;
    }
    const effect = options(settings.effect_options, "effect_options");
    const output = options(settings.output_options, "output_options");
    const chunkDir = path.join(path.dirname(settings.output), `${path.stem(settings.output)}-chunks`);
    const renderTasks = [];
    const chunkPaths = [];
    for (const chunk of frameChunker(settings.frames, chunkSize)) {
        const [start, stop] = frameSpan(chunk, "chunk");
        const chunkPath = path.join(chunkDir, `chunk-${start}-${stop - 1}.mkv`);
        const task = author.Task(`render-${start}-${stop - 1}`, "blender");
        task.addCommand(blenderPython(settings, "motion_extract.py", "--", [
            settings.input, "-o", chunkPath, "--frames", `${start}:${stop}`,
            "--no-audio", "--overwrite", "--farm-progress",
        ].concat(effect), stop - start));
        renderTasks.push(task);
        chunkPaths.push(chunkPath);
    }
    const join = author.Task("join", "blender");
    const sound = settings.no_audio ? [] : ["--audio-from", settings.input];
    join.addCommand(blenderPython(settings, "join_chunks.py", settings.no_audio ? null : "--audio-from",
        chunkPaths.concat(["-o", settings.output, "--overwrite", "--farm-progress"], sound, output),
        frameCount(settings.frames)));
    for (const task of renderTasks) {
        job.addTask(task);
        join.addDependency(task);
    }
    job.addTask(join);
}

// The settings with the defaults of those the submitter left out (written back, so the job shows them).
function withDefaults(settings) {
    for (const setting of JOB_TYPE.settings) {
        if (settings[setting.key] === undefined && setting.default !== undefined) {
            settings[setting.key] = setting.default;
        }
        if (setting.required && (settings[setting.key] === undefined || `${settings[setting.key]}`.trim() === "")) {
            throw `the setting "${setting.key}" is required`;
        }
    }
    return settings;
}

// Blender in the background running one of this repository's scripts (no shell); "steps" of its lines
// "Time: ..." (one per frame, --farm-progress) are the task's progress.
//
// A job submitted from Blender carries the packed .blend: Blender opens it, and the movie's path
// after `replace` ("--": the script's first argument) becomes the strip's movie as the packed .blend
// sees it, wherever the pack put it.
function blenderPython(settings, script, replace, args, steps) {
    const packed = Boolean(settings.blendfile && settings.input_scene && settings.input_strip);
    const find = packed && replace ? ["--python-expr", packedMovie(settings, replace)] : [];
    return author.Command("blender-render", {
        exe: "{blender}",
        exeArgs: "{blenderArgs}",
        argsBefore: ["-b", "--factory-startup"],
        blendfile: find.length ? settings.blendfile : "",
        args: ["--python-exit-code", "1"].concat(find, [
            "--python", path.join(settings.scripts_dir, script), "--"], args),
    }, steps);
}

// Python (one line) that puts the packed movie's path after `flag` in Blender's command line (a strip of a linked
// scene reads its movie from beside its library's .blend).
function packedMovie(settings, flag) {
    const strip = `bpy.data.scenes[${JSON.stringify(settings.input_scene)}].sequence_editor` +
        `.strips_all[${JSON.stringify(settings.input_strip)}]`;
    return `import bpy, sys; a = sys.argv; a[a.index(${JSON.stringify(flag)}) + 1] = ` +
        `bpy.path.abspath(${strip}.filepath, library=${strip}.id_data.library)`;
}

// [first, stop) of a frame range in Flamenco's notation ("47", "10-19", "10..19", "10,11"); one unbroken range only.
function frameSpan(range, what) {
    let merged;
    try {
        merged = frameChunker(`${range}`, Math.max(frameCount(`${range}`), 1))[0];
    } catch (error) {
        throw `${what} "${range}" is not a frame range such as 0-299`;
    }
    const parts = merged.split(",").map((part) => part.split("-").map(Number));
    for (let i = 1; i < parts.length; i++) {
        const previous = parts[i - 1][parts[i - 1].length - 1];
        if (parts[i][0] != previous + 1) {
            throw `${what} "${range}" has a gap after frame ${previous}: give one unbroken range such as 0-299`;
        }
    }
    const last = parts[parts.length - 1];
    return [parts[0][0], last[last.length - 1] + 1];
}

// Command-line words of a setting, split as a shell would ("--tint 'light blue'").
function options(text, key) {
    try {
        return Array.from(shellSplit(`${text}`) || []);
    } catch (error) {
        throw `${key} cannot be split into words (${error}): ${text}`;
    }
}
