// SPDX-License-Identifier: GPL-3.0-or-later
//
// Flamenco job type "motion-extraction" (Flamenco names a job type after its file): motion
// extraction of one movie, rendered in chunks by scripts/motion_extract.py on the workers and
// joined into the final movie by scripts/join_chunks.py. Every chunk equals the same frames of a
// whole render, so the joined movie decodes to the frames of a whole render.
//
// Install: copy this file into the "scripts" folder beside flamenco-manager and restart the
// Manager; the workers need Blender, and this repository (with its .venv) on shared storage.
// See README.md, "Render farm (Flamenco)".

const JOB_TYPE = {
    label: "Motion Extraction",
    description: "Motion extraction of a movie, rendered in chunks and joined into one movie with its sound",
    settings: [
        // What to render.
        { key: "input", type: "string", subtype: "file_path", required: true,
          eval: "abspath(C.scene.sequence_editor.active_strip.filepath)",
          evalInfo: { showLinkButton: true, description: "The active strip's movie" },
          description: "The movie to extract motion from, as the workers see it" },
        { key: "output", type: "string", subtype: "file_path", required: true,
          description: "The final movie (.mp4, .mov, .mkv, .webm), as the workers see it; its chunks go in a folder beside it" },
        { key: "frames", type: "string", required: true,
          eval: "f'0-{C.scene.sequence_editor.active_strip.frame_duration - 1}'",
          evalInfo: { showLinkButton: true, description: "Every frame of the active strip's movie" },
          description: "Output frames, counted from 0, as one range such as '0-299' (--edges trim renders |offset| fewer frames)" },
        { key: "chunk_size", type: "int32", default: 250, propargs: { min: 1 }, visible: "submission",
          description: "Frames rendered by one task" },
        // How: motion_extract.py's own flags.
        { key: "effect_options", type: "string", default: "",
          description: "The effect's options as motion_extract.py takes them, such as '--preset glow --offset 2'" },
        { key: "output_options", type: "string", default: "",
          description: "The final movie's encoding: --codec, --crf, --encoder-preset as motion_extract.py takes them" },
        { key: "no_audio", type: "bool", default: false, description: "Leave the input's sound out" },
        // Where the tools are on the workers.
        { key: "scripts_dir", type: "string", subtype: "dir_path", required: true, visible: "submission",
          description: "The folder of motion_extract.py and join_chunks.py on the workers (this repository's scripts/)" },
        { key: "blender", type: "string", default: "{blender}", visible: "submission",
          description: "The worker's command for Blender ({blender} is Flamenco's variable for it)" },
    ]
};

function compileJob(job) {
    const settings = job.settings;
    const first = frameSpan(settings.frames, "frames")[0];
    if (first != 0) {
        throw `frames must start at 0 (got "${settings.frames}"): the join puts together the whole render`;
    }
    const chunkDir = path.join(path.dirname(settings.output), `${path.stem(settings.output)}-chunks`);
    const effect = words(settings.effect_options);
    const renderTasks = [];
    const chunkPaths = [];
    for (const chunk of frameChunker(settings.frames, settings.chunk_size)) {
        const [start, stop] = frameSpan(chunk, "chunk");
        const chunkPath = path.join(chunkDir, `chunk-${start}-${stop - 1}.mkv`);
        const task = author.Task(`render-${start}-${stop - 1}`, "blender");
        task.addCommand(blenderPython(settings, "motion_extract.py", [
            settings.input, "-o", chunkPath, "--frames", `${start}:${stop}`,
            "--no-audio", "--overwrite", "--progress",
        ].concat(effect)));
        renderTasks.push(task);
        chunkPaths.push(chunkPath);
    }
    const join = author.Task("join", "blender");
    const sound = settings.no_audio ? [] : ["--audio-from", settings.input];
    join.addCommand(blenderPython(settings, "join_chunks.py", chunkPaths.concat(
        ["-o", settings.output, "--overwrite", "--progress"], sound, words(settings.output_options))));
    for (const task of renderTasks) {
        job.addTask(task);
        join.addDependency(task);
    }
    job.addTask(join);
}

// Blender in the background running one of this repository's scripts with its arguments (no shell).
function blenderPython(settings, script, args) {
    return author.Command("exec", {
        exe: settings.blender,
        args: ["-b", "--factory-startup", "--python-exit-code", "1",
               "--python", path.join(settings.scripts_dir, script), "--"].concat(args),
    });
}

// [first, stop) of a frame range in Flamenco's notation ("47", "10-19", "10,11"); one unbroken range only.
function frameSpan(range, what) {
    const frames = [];
    for (const part of `${range}`.split(",")) {
        const bounds = part.trim().split("-").map((text) => parseInt(text.trim(), 10));
        if (bounds.length > 2 || bounds.some(isNaN)) {
            throw `${what} "${range}" is not a frame range such as 0-299`;
        }
        for (let frame = bounds[0]; frame <= bounds[bounds.length - 1]; frame++) {
            frames.push(frame);
        }
    }
    frames.sort((a, b) => a - b);
    for (let i = 1; i < frames.length; i++) {
        if (frames[i] != frames[i - 1] + 1) {
            throw `${what} "${range}" has a gap after frame ${frames[i - 1]}: give one unbroken range such as 0-299`;
        }
    }
    if (frames.length == 0) {
        throw `${what} "${range}" holds no frames`;
    }
    return [frames[0], frames[frames.length - 1] + 1];
}

// Command-line words of a setting ("--preset glow --offset 2"); the options have no spaces in them.
function words(text) {
    return `${text || ""}`.trim().split(/\s+/).filter((word) => word.length > 0);
}
