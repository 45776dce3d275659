import { readdirSync, readFileSync, existsSync } from "fs";
import * as path from "path";
import { Arg, DockerfileParser, Env, From, PropertyInstruction } from "dockerfile-ast";
import { validate, ValidationSeverity, ValidatorSettings } from "dockerfile-utils";
import { imageMessage } from "../components/environment/image";

/**
 * `npm run lint:dockerfiles`: lints every `images/<name>/Dockerfile`, in `npm test` and in the
 * images workflow. Two layers:
 *
 * - dockerfile-utils (the linter of the Dockerfile language server, from the npm registry; hadolint
 *   is not installable here) with every optional rule raised to an error: syntax, flags, ports,
 *   casing, multiple CMD/ENTRYPOINT, relative WORKDIR, deprecated MAINTAINER, ...;
 * - the project's rules for its images: multi-stage, every base image pinned (a tag other than
 *   `latest`, or a digest), the final stage running as a non-root numeric uid, and no ARG or ENV
 *   whose name says it holds a secret (such values would be baked into a layer).
 *
 * Prints one line per problem (`file:line: message`) and exits 1 when there is any.
 */

/** Every optional check of dockerfile-utils, as an error. */
const STRICT: ValidatorSettings = {
    deprecatedMaintainer: ValidationSeverity.ERROR,
    directiveCasing: ValidationSeverity.ERROR,
    emptyContinuationLine: ValidationSeverity.ERROR,
    instructionCasing: ValidationSeverity.ERROR,
    instructionCmdMultiple: ValidationSeverity.ERROR,
    instructionEntrypointMultiple: ValidationSeverity.ERROR,
    instructionHealthcheckMultiple: ValidationSeverity.ERROR,
    instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
    instructionWorkdirRelative: ValidationSeverity.ERROR,
};

/** Names of build arguments and variables that would put a secret into an image layer. */
const SECRET_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|PRIVATE_KEY|CREDENTIAL)/i;

/** One problem: the line (1-based) and what is wrong. */
export interface LintProblem {
    line: number;
    message: string;
}

/** The problems of one Dockerfile's text (empty when it passes). */
export function lintDockerfile(text: string): LintProblem[] {
    const problems: LintProblem[] = validate(text, STRICT).map((d) => ({
        line: d.range.start.line + 1,
        message: typeof d.message === "string" ? d.message : d.message.value,
    }));
    const dockerfile = DockerfileParser.parse(text);
    const froms: From[] = dockerfile.getFROMs();
    const lineOf = (instruction: { getRange(): { start: { line: number } } }) => instruction.getRange().start.line + 1;
    if (froms.length < 2) {
        problems.push({ line: 1, message: "must be a multi-stage build (a build stage and a runtime stage)" });
    }
    const stages = new Set<string>();
    for (const from of froms) {
        const image = from.getImage() ?? "";
        if (!stages.has(image)) {
            const message = imageMessage(image);
            if (message !== undefined) {
                problems.push({ line: lineOf(from), message: `base image ${message}` });
            }
        }
        const stage = from.getBuildStage();
        if (stage !== null) {
            stages.add(stage);
        }
    }
    for (const instruction of dockerfile.getInstructions()) {
        if (instruction instanceof Arg || instruction instanceof Env) {
            for (const property of (instruction as PropertyInstruction).getProperties()) {
                if (SECRET_NAME.test(property.getName())) {
                    problems.push({ line: lineOf(instruction), message: `${instruction.getKeyword()} ${property.getName()}: a secret must not be baked into a layer; pass it at run time` });
                }
            }
        }
    }
    const last = froms[froms.length - 1];
    const lastUser = dockerfile.getInstructions()
        .filter((i) => i.getKeyword() === "USER" && (last === undefined || lineOf(i) > lineOf(last)))
        .pop();
    const user = lastUser?.getArgumentsContent()?.split(":")[0];
    if (user === undefined || !/^[0-9]+$/.test(user) || user === "0") {
        problems.push({ line: lastUser ? lineOf(lastUser) : 1, message: "the final stage must set USER to a non-root numeric uid (like 1000:1000)" });
    }
    return problems;
}

/** The Dockerfiles of the images this repository builds: `images/<name>/Dockerfile`. */
export function imageDockerfiles(root: string): string[] {
    const images = path.join(root, "images");
    return readdirSync(images, { withFileTypes: true })
        .filter((entry) => entry.isDirectory() && existsSync(path.join(images, entry.name, "Dockerfile")))
        .map((entry) => path.join(images, entry.name, "Dockerfile"))
        .sort();
}

if (require.main === module) {
    const root = path.resolve(__dirname, "..");
    const files = process.argv.length > 2 ? process.argv.slice(2) : imageDockerfiles(root);
    let failed = 0;
    for (const file of files) {
        const problems = lintDockerfile(readFileSync(file, "utf8"));
        for (const problem of problems) {
            process.stderr.write(`${path.relative(process.cwd(), file)}:${problem.line}: ${problem.message}\n`);
        }
        failed += problems.length > 0 ? 1 : 0;
    }
    process.stdout.write(`dockerfile lint: ${files.length - failed} of ${files.length} Dockerfiles pass\n`);
    process.exitCode = failed > 0 ? 1 : 0;
}
