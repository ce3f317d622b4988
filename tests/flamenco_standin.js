// A stand-in for Flamenco Manager's job compiler, as strict as the real one (its Go source, 3.x), to compile
// a job under node: the script runs in strict mode in a context holding only Flamenco's globals (print, alert,
// frameChunker, frameCount, formatTimestampLocal, shellSplit, author, path, process) and the job's fields
// (jobID, workerTagUUID, name, jobType, priority, status, created, settings, metadata, storage, tasks,
// addTask); settings are only those given (no defaults filled in); path functions turn backslashes into
// slashes; author.Task, frameChunker, frameCount and shellSplit throw where Flamenco's do; JOB_TYPE is checked
// against the fields Flamenco's API knows.
//
// Usage: node flamenco_standin.js SCRIPT.js SETTINGS_JSON
// Prints {jobType, jobTypeName, settings, tasks} as JSON, or {error} when compiling throws.
"use strict";
const fs = require("fs");
const vm = require("vm");

// --- frame ranges, as Flamenco's js_globals.go -------------------------------------------------------------

function invalidRange(range, message) {
    return new Error(`invalid range "${range}": ${message}`);
}

// strconv.ParseInt(strings.TrimSpace(s), 10, 64)
function parseInteger(text, range, part) {
    const trimmed = text.trim();
    if (!/^[+-]?[0-9]+$/.test(trimmed)) throw invalidRange(range, part);
    return parseInt(trimmed, 10);
}

function explode(range) {
    range = range.split("..").join("-");
    const frames = new Set();
    for (const part of range.split(",")) {
        const bounds = part.split("-");
        if (bounds.length == 1) {
            frames.add(parseInteger(bounds[0], range, part));
        } else if (bounds.length == 2) {
            const first = parseInteger(bounds[0], range, part);
            const last = parseInteger(bounds[1], range, part);
            for (let frame = first; frame <= last; frame++) frames.add(frame);
        } else {
            throw invalidRange(range, part);
        }
    }
    return [...frames].sort((a, b) => a - b);
}

function merge(frames) {
    const ranges = [];
    const close = (from, to) => {
        if (from == to) ranges.push(`${from}`);
        else if (from + 1 == to) ranges.push(`${from}`, `${to}`);
        else ranges.push(`${from}-${to}`);
    };
    let start = frames[0];
    for (let i = 1; i <= frames.length; i++) {
        if (i == frames.length || frames[i] > frames[i - 1] + 1) {
            close(start, frames[i - 1]);
            start = frames[i];
        }
    }
    return ranges.join(",");
}

// A Go int parameter: goja turns what JavaScript passes into an integer (undefined and NaN are 0).
function goInt(value) {
    const number = Number(value);
    return Number.isFinite(number) ? Math.trunc(number) : 0;
}

function frameChunker(range, size) {
    range = `${range}`.trim();
    size = goInt(size);
    if (range.length == 0) throw invalidRange(range, "empty range");
    if (size < 1) throw new Error(`invalid chunk size, must be positive number: ${size}`);
    const frames = explode(range);
    if (frames.length == 0) throw invalidRange(range, "empty range");
    const chunks = [];
    for (let i = 0; i < frames.length; i += size) chunks.push(merge(frames.slice(i, i + size)));
    return chunks;
}

function frameCount(range) {
    return explode(`${range}`).length;
}

// --- shellSplit: github.com/google/shlex's Split ------------------------------------------------------------

function shellSplit(text) {
    text = `${text}`;
    const words = [];
    let i = 0;
    const space = (c) => c == " " || c == "\t" || c == "\r" || c == "\n";
    while (i < text.length) {
        const c = text[i];
        if (space(c)) { i++; continue; }
        if (c == "#") {  // a comment, to the end of the line
            while (i < text.length && text[i] != "\n") i++;
            continue;
        }
        let word = "";
        while (i < text.length && !space(text[i])) {
            const d = text[i++];
            if (d == "\\") {
                if (i >= text.length) throw new Error("EOF found after escape character");
                word += text[i++];
            } else if (d == "'") {
                const end = text.indexOf("'", i);
                if (end < 0) throw new Error("EOF found when expecting closing quote");
                word += text.slice(i, end);
                i = end + 1;
            } else if (d == '"') {
                for (;;) {
                    if (i >= text.length) throw new Error("EOF found when expecting closing quote");
                    const e = text[i++];
                    if (e == '"') break;
                    if (e == "\\") {
                        if (i >= text.length) throw new Error("EOF found when expecting closing quote");
                        word += text[i++];
                    } else {
                        word += e;
                    }
                }
            } else {
                word += d;
            }
        }
        words.push(word);
    }
    return words;
}

// --- path: Flamenco's crosspath (Go's "path" after turning every backslash into a slash) --------------------

const toSlash = (p) => `${p}`.split("\\").join("/");

// Go's path.Clean.
function clean(p) {
    if (p == "") return ".";
    const rooted = p.startsWith("/");
    const out = [];
    for (const part of p.split("/")) {
        if (part == "" || part == ".") continue;
        if (part == "..") {
            if (out.length && out[out.length - 1] != "..") out.pop();
            else if (!rooted) out.push("..");
        } else {
            out.push(part);
        }
    }
    const joined = out.join("/");
    return rooted ? `/${joined}` : joined || ".";
}

function basename(p) {
    p = toSlash(p);
    if (p == "") return ".";
    p = p.replace(/\/+$/, "");
    if (p == "") return "/";
    return p.slice(p.lastIndexOf("/") + 1);
}

function dirname(p) {
    if (p === "") return ".";
    p = toSlash(p);
    const dir = p.slice(0, p.lastIndexOf("/") + 1);
    if (dir == "") return ".";
    return dir.length > 1 ? dir.slice(0, -1) : dir;
}

function join(...parts) {
    const given = parts.map((part) => `${part}`).filter((part) => part != "");
    return given.length ? toSlash(clean(given.join("/"))) : "";
}

function stem(p) {
    const base = basename(p);
    const dot = base.lastIndexOf(".");
    return dot < 0 ? base : base.slice(0, dot);
}

// --- author: tasks and commands, as author.go ---------------------------------------------------------------

let taskCount = 0;

class Task {
    constructor(name, type) {
        this.uUID = `00000000-0000-4000-8000-${String(++taskCount).padStart(12, "0")}`;
        this.name = name;
        this.type = type;
        this.priority = 50;
        this.commands = [];
        this.dependencies = [];
    }
    addCommand(command) { this.commands.push(command); }
    addDependency(task) { this.dependencies.push(task); }
}

const author = {
    Task(name, type) {
        name = `${name === undefined ? "" : name}`.trim();
        type = `${type === undefined ? "" : type}`.trim();
        if (name == "") throw new Error("author.Task(name, type): name is required");
        if (type == "") throw new Error("author.Task(name, type): type is required");
        return new Task(name, type);
    },
    Command(name, parameters, totalStepCount) {
        return { name: `${name}`, parameters, totalStepCount: goInt(totalStepCount) };
    },
};

// --- JOB_TYPE, as the API's AvailableJobType ---------------------------------------------------------------

const SETTING_FIELDS = new Set(["key", "type", "subtype", "choices", "propargs", "description", "label", "default",
    "eval", "evalInfo", "visible", "required", "editable"]);
const TYPES = { string: "string", int32: "number", float: "number", bool: "boolean" };
const SUBTYPES = new Set(["file_path", "dir_path", "file_name", "hashed_file_path"]);
const VISIBLE = new Set(["visible", "hidden", "submission", "web"]);

function checkJobType(jobType) {
    if (typeof jobType.label != "string" || !Array.isArray(jobType.settings)) {
        throw new Error("JOB_TYPE needs a label and a list of settings");
    }
    for (const setting of jobType.settings) {
        const where = `JOB_TYPE setting ${JSON.stringify(setting.key)}`;
        for (const field of Object.keys(setting)) {
            if (!SETTING_FIELDS.has(field)) throw new Error(`${where}: unknown field "${field}"`);
        }
        if (typeof setting.key != "string" || !(setting.type in TYPES)) throw new Error(`${where}: key and type`);
        if ("subtype" in setting && !SUBTYPES.has(setting.subtype)) throw new Error(`${where}: subtype`);
        if ("visible" in setting && !VISIBLE.has(setting.visible)) throw new Error(`${where}: visible`);
        if ("default" in setting && typeof setting.default != TYPES[setting.type]) throw new Error(`${where}: default`);
        if ("eval" in setting && typeof setting.eval != "string") throw new Error(`${where}: eval`);
        if ("evalInfo" in setting && Object.keys(setting.evalInfo).some((k) => k != "showLinkButton" && k != "description")) {
            throw new Error(`${where}: evalInfo`);
        }
    }
}

// --- compiling -------------------------------------------------------------------------------------------

const [scriptPath, settingsJson] = process.argv.slice(2);
const globals = {
    print: (...args) => console.error("print:", ...args),
    alert: (...args) => console.error("alert:", ...args),
    frameChunker,
    frameCount,
    formatTimestampLocal: (time) => {
        const pad = (n) => String(n).padStart(2, "0");
        return `${time.getFullYear()}-${pad(time.getMonth() + 1)}-${pad(time.getDate())}_` +
            `${pad(time.getHours())}${pad(time.getMinutes())}${pad(time.getSeconds())}`;
    },
    shellSplit,
    author,
    path: { basename, dirname, join, stem },
    process: { cwd: () => process.cwd(), platform: process.platform },
};
const context = vm.createContext(globals);
// What V8 has in every context but goja has not.
vm.runInContext("delete globalThis.console; delete globalThis.WebAssembly; delete globalThis.Intl;", context);
// Strict as goja.Compile(name, source, true); on the first line, so line numbers stay the file's.
new vm.Script(`"use strict"; ${fs.readFileSync(scriptPath, "utf8")}`, { filename: scriptPath }).runInContext(context);
const jobType = vm.runInContext("JOB_TYPE", context);
checkJobType(jobType);
const tasks = [];
const job = {
    jobID: "00000000-0000-4000-8000-000000000000",
    workerTagUUID: "",
    name: "test",
    jobType: scriptPath.replace(/^.*[\\/]/, "").replace(/\.js$/, "").split("_").join("-"),
    priority: 50,
    status: "under-construction",
    created: new Date(),
    settings: vm.runInContext(`JSON.parse(${JSON.stringify(settingsJson)})`, context),
    metadata: {},
    storage: { shamanCheckoutID: "" },
    tasks,
    addTask: (task) => { tasks.push(task); },
};
try {
    vm.runInContext("compileJob", context)(job);
} catch (error) {
    console.log(JSON.stringify({ error: `${error}` }));
    process.exit(0);
}
const plain = (task) => ({ ...task, dependencies: task.dependencies.map((dependency) => dependency.name) });
console.log(JSON.stringify({ jobType, jobTypeName: job.jobType, settings: job.settings, tasks: tasks.map(plain) }));
