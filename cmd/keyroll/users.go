package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/keyroll/keyroll/adminapi"
)

func init() {
	register(&command{
		name:    "users create",
		summary: "make a test user for interactive sign-in",
		usage: `Usage: keyroll users create NAME [--password-stdin] [--server URL] [--json]

Makes a test user who can sign in on the issuer's sign-in page (for
keyroll drill --web, or by hand in a fresh browser session). Without
--password-stdin the issuer generates a password and it is printed this once;
with it, the first line of standard input is the password (8 to 1024 bytes).
The issuer keeps only an argon2id hash.

Examples:
  keyroll users create alice
  printf '%s\n' "$ALICE_PASSWORD" | keyroll users create alice --password-stdin
`,
		run: runUsersCreate,
	})
	register(&command{
		name:    "users list",
		summary: "list the test users",
		usage: `Usage: keyroll users list [--server URL] [--json]

Lists the test users and when they were made. Passwords are never shown.

Examples:
  keyroll users list
`,
		run: runUsersList,
	})
	register(&command{
		name:    "users delete",
		summary: "remove a test user",
		usage: `Usage: keyroll users delete NAME [--server URL]

Removes a test user and any authorization code issued to them that has not
been redeemed yet.

Examples:
  keyroll users delete alice
`,
		run: runUsersDelete,
	})
}

func runUsersCreate(ctx context.Context, e *env, args []string) int {
	return runCreateWithPassword(ctx, e, commands["users create"], args, "user NAME", "test user",
		func(ctx context.Context, c *adminapi.Client, name, password string) (string, string, any, error) {
			out, err := c.CreateUser(ctx, name, password)
			if err != nil {
				return "", "", nil, err
			}
			return out.User.Username, out.Password, out, nil
		})
}

// runCreateWithPassword is users create and admins create: one NAME, the
// password from the first line of stdin with --password-stdin or generated
// by the issuer (shown once), a line for people or --json.
func runCreateWithPassword(ctx context.Context, e *env, c *command, args []string, what, kind string,
	create func(ctx context.Context, c *adminapi.Client, name, password string) (created, generated string, out any, err error)) int {
	fs := newFlags(c)
	var cf clientFlags
	cf.define(fs, e)
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	asJSON := fs.Bool("json", false, "print JSON (with a generated password)")
	pos, code := parseFlags(fs, c, e, args)
	if code >= 0 {
		return code
	}
	if len(pos) != 1 {
		return usageErr(e, c, "give exactly one "+what)
	}
	var password string
	if *fromStdin {
		var err error
		if password, err = readPassword(e.stdin); err != nil {
			return usageErr(e, c, "--password-stdin: "+err.Error())
		}
	}
	name, generated, out, err := create(ctx, cf.client(e), pos[0], password)
	if err != nil {
		return failErr(e, c, err)
	}
	if *asJSON {
		writeJSONOut(e.stdout, out)
		return exitOK
	}
	fmt.Fprintf(e.stdout, "created %s %s\n", kind, name)
	if generated != "" {
		fmt.Fprintf(e.stdout, "  password: %s\n  (shown once: keyroll keeps only its hash)\n", generated)
	}
	return exitOK
}

// readPassword reads the first line of r, without its line ending.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReaderSize(io.LimitReader(r, 4096), 4096).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("standard input holds no password")
	}
	return line, nil
}

func runUsersList(ctx context.Context, e *env, args []string) int {
	c := commands["users list"]
	call, code := parseClientCall(c, e, args, 0, "")
	if code >= 0 {
		return code
	}
	users, err := call.client.Users(ctx)
	if err != nil {
		return failErr(e, c, err)
	}
	if call.json {
		writeJSONOut(e.stdout, users)
		return exitOK
	}
	t := newTable(e.stdout, "USER", "CREATED")
	for _, u := range users {
		t.row(u.Username, u.CreatedAt.UTC().Format(time.RFC3339))
	}
	t.flush()
	return exitOK
}

func runUsersDelete(ctx context.Context, e *env, args []string) int {
	return runDelete(ctx, e, commands["users delete"], args, "user NAME", "test user", func(ctx context.Context, call clientCall) error {
		return call.client.DeleteUser(ctx, call.args[0])
	})
}
