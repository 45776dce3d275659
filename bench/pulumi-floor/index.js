// The objects of one preview (bench/floor.ts's stackObjects, written to a file by
// bench/pulumi-floor.ts) as one ConfigGroup: the provider creates each with its own type and
// await, Namespaces first, as the preview's own program does.
const fs = require("fs");
const k8s = require("@pulumi/kubernetes");

const file = process.env.BENCH_FLOOR_OBJECTS;
if (file === undefined) throw new Error("BENCH_FLOOR_OBJECTS must name the objects' JSON file");
new k8s.yaml.v2.ConfigGroup("preview", { objs: JSON.parse(fs.readFileSync(file, "utf8")) });
