package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/keyroll/keyroll/adminapi"
)

// defaultServer is where client commands look for the issuer.
const defaultServer = "http://127.0.0.1:8080"

// clientFlags adds --server to fs; call client() after parsing.
type clientFlags struct{ server string }

func (cf *clientFlags) define(fs *flag.FlagSet, e *env) {
	def := e.getenv("KEYROLL_SERVER")
	if def == "" {
		def = defaultServer
	}
	fs.StringVar(&cf.server, "server", def, "issuer admin API base URL (or KEYROLL_SERVER); the token comes from KEYROLL_ADMIN_TOKEN")
}

func (cf *clientFlags) client(e *env) *adminapi.Client {
	return &adminapi.Client{BaseURL: cf.server, Token: e.getenv("KEYROLL_ADMIN_TOKEN")}
}

// clientCall is a parsed client command that takes only --server, --json
// and a fixed number of positional arguments.
type clientCall struct {
	client *adminapi.Client
	json   bool
	args   []string
}

// parseClientCall parses such a command. want is the number of positional
// arguments and what describes them for the error message ("" when want is
// 0). code is -1 when the command should go on.
func parseClientCall(c *command, e *env, args []string, want int, what string) (call clientCall, code int) {
	fs := newFlags(c)
	var cf clientFlags
	cf.define(fs, e)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, code := parseFlags(fs, c, e, args)
	if code >= 0 {
		return call, code
	}
	switch {
	case len(pos) == want:
	case want == 0:
		return call, usageErr(e, c, fmt.Sprintf("unexpected argument %q", pos[0]))
	default:
		return call, usageErr(e, c, "give exactly one "+what)
	}
	return clientCall{client: cf.client(e), json: *asJSON, args: pos}, -1
}

// deleted is what a delete command prints with --json.
type deleted struct {
	Deleted string `json:"deleted"`
	Kind    string `json:"kind"`
}

// runDelete is the shape of every delete command: one argument, a client
// call, "deleted KIND NAME" or, with --json, {"deleted": NAME, "kind": KIND}.
func runDelete(ctx context.Context, e *env, c *command, args []string, what, kind string, del func(context.Context, clientCall) error) int {
	call, code := parseClientCall(c, e, args, 1, what)
	if code >= 0 {
		return code
	}
	if err := del(ctx, call); err != nil {
		return failErr(e, c, err)
	}
	if call.json {
		writeJSONOut(e.stdout, deleted{Deleted: call.args[0], Kind: strings.Fields(kind)[len(strings.Fields(kind))-1]})
		return exitOK
	}
	fmt.Fprintf(e.stdout, "deleted %s %s\n", kind, call.args[0])
	return exitOK
}
