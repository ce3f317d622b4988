// A stand-in for what Flamenco Manager gives a job compiler script, enough to compile a job under node:
// author.Task / author.Command, task.addCommand / addDependency, job.addTask, frameChunker (with
// Flamenco's output: "0-9", a lone "10", two frames as "10,11"), path.join / dirname / basename / stem,
// print. Usage: node flamenco_standin.js SCRIPT.js SETTINGS_JSON; prints the job type and the tasks as JSON.
"use strict";
const fs = require("fs");
const vm = require("vm");
const posix = require("path").posix;

function explode(range) {
    const frames = new Set();
    for (const part of range.split(",")) {
        const bounds = part.trim().split(/-|\.\./).map((text) => parseInt(text, 10));
        for (let frame = bounds[0]; frame <= bounds[bounds.length - 1]; frame++) frames.add(frame);
    }
    return [...frames].sort((a, b) => a - b);
}

function merge(frames) {
    const ranges = [];
    let start = frames[0];
    const close = (from, to) => {
        if (from == to) ranges.push(`${from}`);
        else if (from + 1 == to) ranges.push(`${from}`, `${to}`);
        else ranges.push(`${from}-${to}`);
    };
    for (let i = 1; i <= frames.length; i++) {
        if (i == frames.length || frames[i] > frames[i - 1] + 1) {
            close(start, frames[i - 1]);
            start = frames[i];
        }
    }
    return ranges.join(",");
}

function frameChunker(range, size) {
    const frames = explode(`${range}`);
    const chunks = [];
    for (let i = 0; i < frames.length; i += size) chunks.push(merge(frames.slice(i, i + size)));
    return chunks;
}

class Task {
    constructor(name, type) {
        this.name = name;
        this.type = type;
        this.commands = [];
        this.dependencies = [];
    }
    addCommand(command) { this.commands.push(command); }
    addDependency(task) { this.dependencies.push(task.name); }
}

const [scriptPath, settingsJson] = process.argv.slice(2);
const tasks = [];
const context = vm.createContext({
    author: { Task: (name, type) => new Task(name, type), Command: (name, parameters) => ({ name, parameters }) },
    frameChunker,
    path: { join: posix.join, dirname: posix.dirname, basename: posix.basename, stem: (p) => posix.parse(p).name },
    print: (...args) => console.error(...args),
});
vm.runInContext(fs.readFileSync(scriptPath, "utf8"), context, { filename: scriptPath });
const jobType = vm.runInContext("JOB_TYPE", context);
const settings = {};
for (const setting of jobType.settings) if ("default" in setting) settings[setting.key] = setting.default;
Object.assign(settings, JSON.parse(settingsJson));
const job = { name: "test", settings, addTask: (task) => tasks.push(task) };
try {
    vm.runInContext("compileJob", context)(job);
} catch (error) {
    console.log(JSON.stringify({ error: `${error}` }));
    process.exit(0);
}
console.log(JSON.stringify({ jobType, tasks }));
