package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

func init() {
	register(&command{
		name:    "version",
		summary: "print keyroll's version, VCS revision and Go version",
		usage: `Usage: keyroll version [--json]

Prints the module version and the VCS revision keyroll was built from (with
"+dirty" when the working tree had changes), as the Go build info records
them, and the Go version.

Examples:
  keyroll version
  keyroll version --json | jq -r .revision
`,
		run: runVersion,
	})
}

// versionInfo is what keyroll version prints.
type versionInfo struct {
	Version  string `json:"version"`
	Revision string `json:"revision,omitempty"`
	Time     string `json:"time,omitempty"`
	Go       string `json:"go"`
}

func buildVersion() versionInfo {
	v := versionInfo{Version: "(unknown)", Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Version = bi.Main.Version
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && v.Revision != "" {
		v.Revision += "+dirty"
	}
	return v
}

func runVersion(_ context.Context, e *env, args []string) int {
	c := commands["version"]
	fs := newFlags(c)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, code := parseFlags(fs, c, e, args)
	if code >= 0 {
		return code
	}
	if len(pos) > 0 {
		return usageErr(e, c, "takes no arguments")
	}
	v := buildVersion()
	if *asJSON {
		writeJSONOut(e.stdout, v)
		return exitOK
	}
	fmt.Fprintf(e.stdout, "keyroll %s", v.Version)
	if v.Revision != "" {
		fmt.Fprintf(e.stdout, " (%s", v.Revision)
		if v.Time != "" {
			fmt.Fprintf(e.stdout, ", %s", v.Time)
		}
		fmt.Fprint(e.stdout, ")")
	}
	fmt.Fprintf(e.stdout, " %s\n", v.Go)
	return exitOK
}
