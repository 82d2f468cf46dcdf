package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"
)

// exitError carries a command's exit code through cobra.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// groupSummaries describe the command groups, which list their subcommands.
var groupSummaries = map[string]string{
	"keys":   "the issuer's signing keys: list, rotate, revoke, timeline",
	"apps":   "applications: create, list, show, delete, override, restore-default",
	"users":  "test users of the sign-in page",
	"admins": "administrators of the web console",
	"trust":  "what a relying party trusts, against what is published",
}

// newRoot builds the command tree from the registered commands. Each
// command keeps its own flag parsing (with -h, examples and exit codes);
// cobra gives the tree: subcommand listings, suggestions for mistyped
// commands, shell completion and man pages.
func newRoot(ctx context.Context, e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "keyroll",
		Short: "token-signing key rollover, end to end",
		Long: `keyroll: token-signing key rollover, end to end.

An issuer that rolls its signing keys (OIDC, SAML 2.0, WS-Federation), a
relying-party verifier and guard proxy, and tools for operators of any
identity provider. Run "keyroll COMMAND -h" for a command's flags and examples.`,
		SilenceErrors:              true,
		SilenceUsage:               true,
		SuggestionsMinimumDistance: 2,
	}
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetIn(e.stdin)
	root.CompletionOptions.HiddenDefaultCmd = false
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names) // parents ("drill") before their children ("drill history")
	byPath := map[string]*cobra.Command{}
	for _, n := range names {
		c := commands[n]
		words := strings.Fields(n)
		parent := root
		for i := 1; i < len(words); i++ {
			p := strings.Join(words[:i], " ")
			if byPath[p] == nil {
				g := &cobra.Command{Use: words[i-1], Short: groupSummaries[p], Args: cobra.NoArgs,
					RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() }}
				parent.AddCommand(g)
				byPath[p] = g
			}
			parent = byPath[p]
		}
		byPath[n] = leaf(ctx, e, c, words[len(words)-1])
		if existing := findChild(parent, words[len(words)-1]); existing != nil {
			// A group made before its runnable parent: keep its children.
			for _, ch := range existing.Commands() {
				existing.RemoveCommand(ch)
				byPath[n].AddCommand(ch)
			}
			parent.RemoveCommand(existing)
		}
		parent.AddCommand(byPath[n])
	}
	root.AddCommand(manCommand(root))
	return root
}

func findChild(parent *cobra.Command, name string) *cobra.Command {
	for _, c := range parent.Commands() {
		if c.Name() == name {
			return c
		}
	}
	return nil
}

// leaf wraps a registered command: keyroll parses its flags, so -h prints
// its own usage with examples.
func leaf(ctx context.Context, e *env, c *command, word string) *cobra.Command {
	return &cobra.Command{
		Use:                word,
		Short:              c.summary,
		Long:               c.usage,
		DisableFlagParsing: true,
		ValidArgsFunction:  completeArgs(ctx, e, c),
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := c.run(ctx, e, args); code != exitOK {
				return exitError{code}
			}
			return nil
		},
	}
}

// execute runs args through the tree and returns the exit code.
func execute(ctx context.Context, e *env, args []string) int {
	root := newRoot(ctx, e)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var ee exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	}
	fmt.Fprintf(e.stderr, "keyroll: %v\n", err)
	if strings.Contains(err.Error(), "unknown command") {
		fmt.Fprintln(e.stderr, `Run "keyroll --help" for the list of commands.`)
	}
	return exitUsage
}

// printHelp writes the root help, as "keyroll --help" does.
func printHelp(w io.Writer) {
	root := newRoot(context.Background(), &env{stdout: w, stderr: w, getenv: func(string) string { return "" }})
	root.SetOut(w)
	root.Help()
}
