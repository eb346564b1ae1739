// layercake-bkchecks runs BuildKit's own Dockerfile checks (the linter behind
// `docker build --check`) over Dockerfiles without a BuildKit daemon, so that
// bench/compare_hadolint.py can match layercake's findings against BuildKit's
// check by check on the corpus (docs/comparison.md, section (f)).
//
// This file is layercake's; it is not part of BuildKit. It imports BuildKit's
// frontend as a library and is built inside an exported BuildKit source tree
// (bench/buildkit_checks.sh overlays it there as cmd/layercake-bkchecks with
// `go build -overlay -mod=vendor`, leaving the tree untouched), so no BuildKit
// code lives in this repository.
//
//	layercake-bkchecks [-C dir] FILE...
//
// For each FILE (relative to -C, printed as given) it calls
// dockerfile2llb.DockerfileLint, the function BuildKit's Dockerfile frontend
// calls for `docker build --check`, with that command's defaults: no build
// arguments, no --target (every stage is checked), the build platform
// linux/amd64, the checks the file's `# check=` directive leaves on
// (experimental checks only when the directive enables them). It prints one
// JSON object per line:
//
//	{"file":"a/Dockerfile","check":"UndefinedVar","lines":[[3,3]],"message":"..."}
//	{"file":"b/Dockerfile","error":"dockerfile parse error ...","lines":[[1,1]]}
//
// "lines" are the 1-based start and end lines of each range BuildKit attaches.
// An "error" line is what `docker build --check` reports as the build error
// (the file does not parse or cannot be converted); the warnings found before
// it are printed too, as BuildKit prints them.
//
// What differs from `docker build --check`, because no daemon, registry or
// session is used:
//   - Base images are not pulled. Every image resolves to an empty
//     linux/amd64 image with one layer and no ENV, so InvalidBaseImagePlatform
//     never fires, and UndefinedVar reports variables that only the base
//     image's ENV would define (a real build knows them).
//   - There is no build context (BuildKit loads `.dockerignore` through a
//     session), so CopyIgnoredFile never fires.
//   - A `# syntax=` directive is not followed: the checks are those of the
//     frontend built into this binary (the BuildKit tree it is built in).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

var llbCaps = pb.Caps.CapSet(pb.Caps.All())

// linuxAMD64 is the build platform: `docker build --check` on an amd64 host.
var linuxAMD64 = ocispecs.Platform{OS: "linux", Architecture: "amd64"}

// offlineImages resolves every image reference to an empty image of the
// requested platform with one (unnamed) layer, without a registry.
type offlineImages struct{}

func (offlineImages) ResolveImageConfig(_ context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	platform := linuxAMD64
	if opt.Platform != nil {
		platform = *opt.Platform
	}
	config := map[string]any{
		"os":           platform.OS,
		"architecture": platform.Architecture,
		"variant":      platform.Variant,
		// One layer, so that BuildKit does not take the image for scratch.
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{digest.FromString(ref).String()}},
		"config": map[string]any{},
	}
	dt, err := json.Marshal(config)
	return ref, "", dt, err
}

type warningLine struct {
	File    string   `json:"file"`
	Check   string   `json:"check"`
	Lines   [][2]int `json:"lines"`
	Message string   `json:"message"`
}

type errorLine struct {
	File  string   `json:"file"`
	Error string   `json:"error"`
	Lines [][2]int `json:"lines"`
}

func lines(loc *pb.Location) [][2]int {
	out := [][2]int{}
	if loc == nil {
		return out
	}
	for _, r := range loc.Ranges {
		out = append(out, [2]int{int(r.GetStart().GetLine()), int(r.GetEnd().GetLine())})
	}
	return out
}

// lint prints the checks' findings for one file; a panic inside BuildKit is
// reported as that file's error rather than ending the run.
func lint(out *json.Encoder, dir, name string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = out.Encode(errorLine{File: name, Error: fmt.Sprintf("panic: %v", r), Lines: [][2]int{}})
		}
	}()
	dt, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	sourceMap := llb.NewSourceMap(nil, name, "Dockerfile", dt)
	// The results record the LLB definition of the Dockerfile's source;
	// without a build context there is none, and an empty one reads the same.
	sourceMap.Definition = &llb.Definition{}
	opt := dockerfile2llb.ConvertOpt{
		Config: dockerui.Config{
			BuildPlatforms: []ocispecs.Platform{platforms.Normalize(linuxAMD64)},
		},
		SourceMap:    sourceMap,
		MetaResolver: offlineImages{},
		// A daemon tells the frontend which LLB features it has; this
		// BuildKit's own list stands for a daemon of the same version.
		LLBCaps: &llbCaps,
	}
	results, err := dockerfile2llb.DockerfileLint(context.Background(), dt, opt)
	if err != nil {
		return out.Encode(errorLine{File: name, Error: err.Error(), Lines: [][2]int{}})
	}
	for _, w := range results.Warnings {
		if err := out.Encode(warningLine{File: name, Check: w.RuleName, Lines: lines(w.Location), Message: w.Detail}); err != nil {
			return err
		}
	}
	if results.Error != nil {
		return out.Encode(errorLine{File: name, Error: results.Error.Message, Lines: lines(&results.Error.Location)})
	}
	return nil
}

func main() {
	dir := flag.String("C", ".", "directory the FILE arguments are relative to")
	flag.Parse()
	out := json.NewEncoder(os.Stdout)
	out.SetEscapeHTML(false)
	for _, name := range flag.Args() {
		if err := lint(out, *dir, name); err != nil {
			fmt.Fprintf(os.Stderr, "layercake-bkchecks: %s: %v\n", name, err)
			os.Exit(1)
		}
	}
}
