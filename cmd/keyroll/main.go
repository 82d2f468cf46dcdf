// Command keyroll runs and operates a token-signing key rollover system:
// an issuer that rolls its keys, a relying-party verifier and guard proxy,
// and tools for operators of any identity provider.
//
// Run "keyroll --help" for the list of commands.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// command is one keyroll subcommand. Each lives in its own file and registers
// itself with register from an init function.
type command struct {
	name    string // "serve", "keys rotate", ...
	summary string // one line for "keyroll help"
	usage   string // full help with examples, printed by -h
	run     func(ctx context.Context, env *env, args []string) int
}

// env is what a command may touch: its streams and the process environment.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// after waits for the drill's refresh wait; nil: time.After (tests
	// pass a timer that fires at once).
	after func(time.Duration) <-chan time.Time
}

// Exit codes shared by commands.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("keyroll: command registered twice: " + c.name)
	}
	commands[c.name] = c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:]))
}

// run runs the command args names and returns its exit code.
func run(ctx context.Context, e *env, args []string) int { return execute(ctx, e, args) }
