// Command keyroll runs and operates a token-signing key rollover system:
// an issuer that rolls its keys, a relying-party verifier and guard proxy,
// and tools for operators of any identity provider.
//
// Run "keyroll help" for the list of commands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
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

// run dispatches args to the longest matching command name ("keys rotate"
// before "keys").
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			if c := lookup(args[1:]); c != nil {
				fmt.Fprint(e.stdout, c.usage)
				return exitOK
			}
		}
		printHelp(e.stdout)
		return exitOK
	}
	for n := min(len(args), 3); n >= 1; n-- {
		if c, ok := commands[strings.Join(args[:n], " ")]; ok {
			return c.run(ctx, e, args[n:])
		}
	}
	fmt.Fprintf(e.stderr, "keyroll: unknown command %q; run \"keyroll help\" for the list\n", strings.Join(args[:min(len(args), 2)], " "))
	return exitUsage
}

func lookup(args []string) *command {
	for n := min(len(args), 3); n >= 1; n-- {
		if c, ok := commands[strings.Join(args[:n], " ")]; ok {
			return c
		}
	}
	return nil
}

func printHelp(w io.Writer) {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "keyroll: token-signing key rollover, end to end.\n\nUsage: keyroll COMMAND [flags]\n\nCommands:")
	for _, n := range names {
		fmt.Fprintf(w, "  %-22s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun \"keyroll help COMMAND\" or \"keyroll COMMAND -h\" for a command's flags and examples.")
}
