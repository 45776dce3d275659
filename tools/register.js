// A `require` hook for the project's TypeScript with a persistent transpile cache:
//   node --require ./tools/register.js <file.ts>
// Each .ts file is transpiled once (TypeScript's transpileModule with tsconfig.json's options,
// what ts-node's transpile-only mode does) into .catalyst/ts-cache/, and every later process
// reuses that JavaScript without loading the TypeScript compiler at all. Every stack operation
// starts two fresh Node processes (the automation worker and the Pulumi program), and loading
// ts-node plus the compiler and transpiling ~40 files cost both of them 0.2-0.5 s (see
// docs/performance.md). The cache is keyed by the source's content, the compiler options and
// the compiler's version, so an edit is never served stale; types are checked by `tsc` in
// `npm test`, as before.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const Module = require("module");
const path = require("path");

const root = path.resolve(__dirname, "..");
const cacheDir = process.env.CATALYST_TS_CACHE_DIR || path.join(root, ".catalyst", "ts-cache");
const tsconfig = path.join(root, "tsconfig.json");

function read(file) {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return "";
  }
}

// What else decides the output: the compiler options and the compiler's version.
const salt = crypto.createHash("sha256")
  .update(read(tsconfig))
  .update(read(require.resolve("typescript/package.json", { paths: [root] })))
  .digest("hex");

let transpile;
function transpiler() {
  if (transpile === undefined) {
    const ts = require(require.resolve("typescript", { paths: [root] }));
    const parsed = ts.getParsedCommandLineOfConfigFile(tsconfig, {}, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(`${tsconfig}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
      },
    });
    // Inline source maps, so that stack traces point at the TypeScript lines; without outDir and
    // rootDir, whose relative paths would make the maps point beside the sources.
    const options = { ...parsed.options, sourceMap: false, inlineSourceMap: true, inlineSources: true, declaration: false, noEmit: false };
    delete options.outDir;
    delete options.rootDir;
    transpile = (source, fileName) => ts.transpileModule(source, { compilerOptions: options, fileName, reportDiagnostics: false }).outputText;
  }
  return transpile;
}

/** The JavaScript of `fileName`: from the cache when its first line names this source's hash. */
function compiled(source, fileName) {
  const hash = crypto.createHash("sha256").update(salt).update("\0").update(source).digest("hex");
  const stamp = `//# catalyst-ts-cache ${hash}\n`;
  const cached = path.join(cacheDir, `${crypto.createHash("sha256").update(fileName).digest("hex").slice(0, 32)}.js`);
  const text = read(cached);
  if (text.startsWith(stamp)) {
    return text.slice(stamp.length);
  }
  const js = transpiler()(source, fileName);
  // Written whole and renamed, so that concurrent processes never read half a file.
  fs.mkdirSync(cacheDir, { recursive: true });
  const temporary = `${cached}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, stamp + js);
  fs.renameSync(temporary, cached);
  return js;
}

const fallback = Module._extensions[".ts"];
Module._extensions[".ts"] = function loadTypeScript(module, fileName) {
  // Like ts-node: packages under node_modules are never transpiled by this hook.
  if (fileName.split(path.sep).includes("node_modules") && fallback) {
    return fallback(module, fileName);
  }
  module._compile(compiled(fs.readFileSync(fileName, "utf8"), fileName), fileName);
};
process.setSourceMapsEnabled(true);

// Only the SDK modules a program uses: @pulumi/pulumi's runtime requires npm's @npmcli/arborist
// (with pacote, sigstore and the rest, about 300 modules) as it starts, for `computeCodePaths`
// alone, which packages a function's node_modules for cloud function resources; no program of
// this project calls it. codePaths.js gets a stand-in that loads the real module on first use
// (its one use is `new arborist.Arborist(...)`), so it still works if a program ever needs it.
const load = Module._load;
const codePaths = path.join("@pulumi", "pulumi", "runtime", "closure", "codePaths.js");
Module._load = function loadLazily(request, parent, isMain) {
  if (request === "@npmcli/arborist" && parent && typeof parent.filename === "string" && parent.filename.endsWith(codePaths)) {
    return {
      __esModule: true,
      get Arborist() {
        return load.call(Module, request, parent, isMain).Arborist;
      },
    };
  }
  return load.apply(this, arguments);
};

// Node's own compile cache (Node >= 22.1): V8's compiled code of every module, the SDK's and the
// transpiled TypeScript alike, kept on disk and reused by the next process, which then skips
// parsing and compiling it. The variable is exported so that every Node process started below
// this one inherits it: the automation worker, and through `pulumi` the program, the policy
// pack and the dynamic provider (which do not load this hook). Node checks each entry against
// the source's hash, so an edited file is compiled anew.
if (typeof Module.enableCompileCache === "function") {
  process.env.NODE_COMPILE_CACHE ??= path.join(root, ".catalyst", "node-compile-cache");
  Module.enableCompileCache(process.env.NODE_COMPILE_CACHE);
}
