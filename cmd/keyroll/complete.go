package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyroll/keyroll/adminapi"
)

// completeArgs completes a command's flags (from its own help) and, where
// cheap, its arguments from the server: application names for the apps
// and drill commands, thumbprints for keys revoke, user and administrator
// names for their delete commands.
func completeArgs(ctx context.Context, e *env, c *command) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if strings.HasPrefix(toComplete, "-") {
			return flagNames(ctx, c), cobra.ShellCompDirectiveNoFileComp
		}
		if len(args) > 0 && (args[len(args)-1] == "--app" || args[len(args)-1] == "--key") {
			if args[len(args)-1] == "--key" {
				return thumbprints(ctx, e), cobra.ShellCompDirectiveNoFileComp
			}
			return appNames(ctx, e), cobra.ShellCompDirectiveNoFileComp
		}
		positional := 0
		for _, a := range args {
			if !strings.HasPrefix(a, "-") {
				positional++
			}
		}
		if positional > 0 {
			return nil, cobra.ShellCompDirectiveDefault
		}
		switch c.name {
		case "apps show", "apps delete", "apps override", "apps restore-default", "drill history":
			return appNames(ctx, e), cobra.ShellCompDirectiveNoFileComp
		case "keys revoke":
			return thumbprints(ctx, e), cobra.ShellCompDirectiveNoFileComp
		case "users delete":
			return userNames(ctx, e), cobra.ShellCompDirectiveNoFileComp
		}
		return nil, cobra.ShellCompDirectiveDefault
	}
}

var flagRE = regexp.MustCompile(`(?m)^\s+(--[a-z0-9-]+)`)

// flagNames reads a command's flags from its -h output.
func flagNames(ctx context.Context, c *command) []cobra.Completion {
	var out bytes.Buffer
	c.run(ctx, &env{stdin: strings.NewReader(""), stdout: &out, stderr: &out, getenv: func(string) string { return "" }}, []string{"-h"})
	var names []cobra.Completion
	for _, m := range flagRE.FindAllStringSubmatch(out.String(), -1) {
		names = append(names, m[1])
	}
	return names
}

// completionClient talks to the server named by KEYROLL_SERVER, briefly.
func completionClient(ctx context.Context, e *env) (*adminapi.Client, context.Context, context.CancelFunc) {
	server := e.getenv("KEYROLL_SERVER")
	if server == "" {
		server = defaultServer
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	return &adminapi.Client{BaseURL: server, Token: e.getenv("KEYROLL_ADMIN_TOKEN")}, ctx, cancel
}

func appNames(ctx context.Context, e *env) []cobra.Completion {
	c, ctx, cancel := completionClient(ctx, e)
	defer cancel()
	apps, err := c.Apps(ctx)
	if err != nil {
		return nil
	}
	var out []cobra.Completion
	for _, a := range apps {
		out = append(out, cobra.CompletionWithDesc(a.Name, a.Protocol+" "+a.ClientID))
	}
	return out
}

func thumbprints(ctx context.Context, e *env) []cobra.Completion {
	c, ctx, cancel := completionClient(ctx, e)
	defer cancel()
	ks, err := c.Keys(ctx)
	if err != nil {
		return nil
	}
	var out []cobra.Completion
	for _, k := range ks {
		out = append(out, cobra.CompletionWithDesc(k.Thumbprint, k.State+" "+k.Alg))
	}
	return out
}

func userNames(ctx context.Context, e *env) []cobra.Completion {
	c, ctx, cancel := completionClient(ctx, e)
	defer cancel()
	us, err := c.Users(ctx)
	if err != nil {
		return nil
	}
	var out []cobra.Completion
	for _, u := range us {
		out = append(out, u.Username)
	}
	return out
}
