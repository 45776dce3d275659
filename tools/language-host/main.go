// Command pulumi-language-nodejs is Catalyst's own Node.js language host for the Pulumi engine.
//
// The upstream host lives in a Go module that the module proxy reachable from this project's
// machines does not serve (see tools/README.md), so the bootstrap builds this one instead. It
// implements the part of the LanguageRuntime protocol that `pulumi preview/up/destroy/refresh`
// and the Automation API use: it starts `@pulumi/pulumi/cmd/run` for the program, hands it the
// stack's configuration, and lets the SDK talk straight to the engine's resource monitor. It
// also starts Node.js policy packs (`--policy-pack DIR`) through RunPlugin.
// Code generation, `pulumi install` and the deprecated synchronous invokes are not provided.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// version is stamped at build time; it names the CLI release this host is built against.
var version = "dev"

// exitAfterUserActionableMessage is the exit code @pulumi/pulumi's run script uses when it has
// already printed a message for the user; the engine then stops without adding its own.
const exitAfterUserActionableMessage = 32

const runScript = "@pulumi/pulumi/cmd/run/index.js"

// policyPackScript serves a policy pack; it is what the retired `pulumi-analyzer-policy` shim ran.
const policyPackScript = "@pulumi/pulumi/cmd/run-policy-pack/index.js"

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	programs      map[*exec.Cmd]struct{}
}

func main() {
	showVersion := flag.Bool("version", false, "print the plugin version and exit")
	flag.String("tracing", "", "accepted for compatibility; tracing is not emitted")
	runtimeName := flag.String("runtime", "nodejs", "the JavaScript runtime; only nodejs is supported")
	flag.Parse()

	if *showVersion {
		fmt.Println(version)
		return
	}
	if *runtimeName != "nodejs" {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: unsupported runtime %q (only nodejs)\n", *runtimeName)
		os.Exit(1)
	}

	host := &languageHost{programs: map[*exec.Cmd]struct{}{}}
	if flag.NArg() > 0 {
		host.engineAddress = flag.Arg(0)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cancel := make(chan bool)
	go func() {
		<-ctx.Done()
		host.interruptPrograms()
		close(cancel)
	}()

	// The engine may die without telling us; the health check ends this process with it so that
	// no language host outlives its `pulumi` parent.
	if host.engineAddress != "" {
		if err := rpcutil.Healthcheck(ctx, host.engineAddress, 5*time.Minute, stop); err != nil {
			fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: health check: %v\n", err)
			os.Exit(1)
		}
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not serve: %v\n", err)
		os.Exit(1)
	}
	// The engine reads the port from our first line of output.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: stopped serving: %v\n", err)
		os.Exit(1)
	}
}

func (h *languageHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.engineAddress = req.GetEngineAddress()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *languageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: strings.TrimPrefix(version, "v")}, nil
}

// GetRequiredPlugins and GetRequiredPackages answer "none": plugins are installed ahead of time
// by the bootstrap, and the engine loads each provider at the version the SDK registers with.
func (h *languageHost) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *languageHost) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *languageHost) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("node is not on PATH: %w", err)
	}
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("node --version: %w", err)
	}
	return &pulumirpc.AboutResponse{Executable: node, Version: strings.TrimSpace(string(out))}, nil
}

// GetProgramDependencies reports the program's direct npm dependencies at their installed versions.
func (h *languageHost) GetProgramDependencies(
	_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := req.GetInfo().GetProgramDirectory()
	var manifest struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := readJSON(filepath.Join(dir, "package.json"), &manifest); err != nil {
		return nil, err
	}
	deps := make([]*pulumirpc.DependencyInfo, 0, len(manifest.Dependencies))
	for name, wanted := range manifest.Dependencies {
		var installed struct {
			Version string `json:"version"`
		}
		resolved := wanted
		if pkg, err := findUp(dir, filepath.Join("node_modules", name, "package.json")); err == nil &&
			readJSON(pkg, &installed) == nil {
			resolved = installed.Version
		}
		deps = append(deps, &pulumirpc.DependencyInfo{Name: name, Version: resolved})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

func (h *languageHost) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.interruptPrograms()
	return &emptypb.Empty{}, nil
}

func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	programDir := info.GetProgramDirectory()
	node, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: "could not find node on the PATH: " + err.Error()}, nil
	}
	run, err := findUp(programDir, filepath.Join("node_modules", runScript))
	if err != nil {
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("could not find %s from %s: run `npm install` first", runScript, programDir),
		}, nil
	}
	env, err := programEnvironment(req)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	h.mu.Lock()
	engine := h.engineAddress
	h.mu.Unlock()

	args := nodeArguments(info.GetOptions().AsMap())
	args = append(args, run)
	for _, flagValue := range [][2]string{
		{"monitor", req.GetMonitorAddress()},
		{"engine", engine},
		{"organization", req.GetOrganization()},
		{"project", req.GetProject()},
		{"root-directory", info.GetRootDirectory()},
		{"stack", req.GetStack()},
		{"pwd", programDir},
		{"parallel", strconv.Itoa(int(req.GetParallel()))},
	} {
		if flagValue[1] != "" {
			args = append(args, "--"+flagValue[0], flagValue[1])
		}
	}
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	entry := info.GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	args = append(args, entry)
	args = append(args, req.GetArgs()...)

	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = programDir
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second

	if err := cmd.Start(); err != nil {
		return &pulumirpc.RunResponse{Error: "could not start node: " + err.Error()}, nil
	}
	h.track(cmd, true)
	err = cmd.Wait()
	h.track(cmd, false)

	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() == exitAfterUserActionableMessage:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exitErr):
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
		}, nil
	default:
		return &pulumirpc.RunResponse{Error: "Problem executing program: " + err.Error()}, nil
	}
}

// RunPlugin starts a plugin written for Node.js. The CLI calls it for a local policy pack (a
// directory with a PulumiPolicy.yaml whose runtime is nodejs) once it has found this language
// host: kind "analyzer", the engine address in Args, the pack's directory as the program. The
// pack's first line of output is the port of its Analyzer server, which the engine reads from
// the stdout stream. Other plugin kinds (PulumiPlugin.yaml providers) are not supported.
func (h *languageHost) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	if req.GetKind() != "analyzer" {
		return status.Errorf(codes.Unimplemented, "this language host runs only policy packs, not %q plugins", req.GetKind())
	}
	dir := req.GetInfo().GetProgramDirectory()
	node, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("could not find node on the PATH: %w", err)
	}
	script, err := findUp(dir, filepath.Join("node_modules", policyPackScript))
	if err != nil {
		return fmt.Errorf("could not find %s from the policy pack %s: run `npm install`", policyPackScript, dir)
	}

	args := nodeArguments(req.GetInfo().GetOptions().AsMap())
	args = append(args, script)
	// run-policy-pack takes the engine address first and the pack's directory last.
	args = append(args, req.GetArgs()...)
	args = append(args, dir)

	out := &streamWriter{server: server}
	cmd := exec.CommandContext(server.Context(), node, args...)
	// Policy packs have always run in their own directory, so their relative paths resolve there.
	cmd.Dir = dir
	cmd.Env = append(req.GetEnv(), "PULUMI_NODEJS_TYPESCRIPT=true")
	// run-policy-pack always registers ts-node with type checking. A pack whose runtime options
	// say `typescript: false` brings its own loader in `nodeargs`; ts-node then ignores every
	// file, so that it neither type-checks the pack at each start nor compiles the loader's output
	// a second time (ts-node wraps the loader it finds registered for .ts).
	if typescript, ok := req.GetInfo().GetOptions().AsMap()["typescript"].(bool); ok && !typescript {
		cmd.Env = append(cmd.Env, "TS_NODE_IGNORE=.")
	}
	cmd.Stdout = out.stream(false)
	cmd.Stderr = out.stream(true)
	err = cmd.Run()

	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return out.exit(0)
	case server.Context().Err() != nil:
		// The engine closed the pack (the operation ended): not a failure of the pack.
		return server.Context().Err()
	case errors.As(err, &exitErr):
		return out.exit(int32(exitErr.ExitCode()))
	default:
		return fmt.Errorf("could not run the policy pack in %s: %w", dir, err)
	}
}

// streamWriter forwards a plugin's stdout and stderr to the RunPlugin stream. A gRPC stream
// must not be written from two goroutines at once, and exec copies each pipe in its own.
type streamWriter struct {
	mu     sync.Mutex
	server pulumirpc.LanguageRuntime_RunPluginServer
}

type streamFunc func([]byte) (int, error)

func (f streamFunc) Write(p []byte) (int, error) { return f(p) }

func (w *streamWriter) stream(stderr bool) streamFunc {
	return func(p []byte) (int, error) {
		// The message may outlive this call, so it gets its own copy of the bytes.
		data := append([]byte(nil), p...)
		response := &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: data}}
		if stderr {
			response = &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: data}}
		}
		w.mu.Lock()
		defer w.mu.Unlock()
		if err := w.server.Send(response); err != nil {
			return 0, err
		}
		return len(p), nil
	}
}

func (w *streamWriter) exit(code int32) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
}

// programEnvironment passes configuration the way @pulumi/pulumi reads it: a JSON object keyed
// `<namespace>:config:<name>` and a JSON list of the keys that are secrets.
func programEnvironment(req *pulumirpc.RunRequest) ([]string, error) {
	configuration := map[string]string{}
	for key, value := range req.GetConfig() {
		parsed, err := config.ParseKey(key)
		if err != nil {
			return nil, fmt.Errorf("configuration key %q: %w", key, err)
		}
		configuration[parsed.Namespace()+":config:"+parsed.Name()] = value
	}
	configJSON, err := json.Marshal(configuration)
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretsJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(),
		"PULUMI_CONFIG="+string(configJSON),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretsJSON),
	)
	options := req.GetInfo().GetOptions().AsMap()
	if typescript, ok := options["typescript"].(bool); !ok || typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if tsconfig, ok := options["tsconfig"].(string); ok && tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+tsconfig)
	}
	return env, nil
}

// nodeArguments returns the `nodeargs` runtime option split on white space.
func nodeArguments(options map[string]any) []string {
	if nodeargs, ok := options["nodeargs"].(string); ok {
		return strings.Fields(nodeargs)
	}
	return nil
}

func (h *languageHost) track(cmd *exec.Cmd, running bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if running {
		h.programs[cmd] = struct{}{}
	} else {
		delete(h.programs, cmd)
	}
}

func (h *languageHost) interruptPrograms() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for cmd := range h.programs {
		_ = cmd.Process.Signal(os.Interrupt)
	}
}

// findUp looks for relative in dir and each of its parents, as Node's module resolution does.
func findUp(dir, relative string) (string, error) {
	for current := dir; ; current = filepath.Dir(current) {
		candidate := filepath.Join(current, relative)
		if _, err := os.Stat(candidate); err == nil {
			return candidate, nil
		}
		if parent := filepath.Dir(current); parent == current {
			return "", fmt.Errorf("%s not found from %s", relative, dir)
		}
	}
}

func readJSON(path string, into any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
